// The CUDA backend (host/transport/cuda_backend.h). Per slab of columns (a beam along +z)
// or per pose block (a turned sample, the whole grid's state resident):
//   1. the fluence histories: the shared builder (cuda/history_builder.h), the same
//      algorithm as the CPU's, on this file's primitives (kernels, atomics, CUB's scan
//      and segmented sort);
//   2. the march, one thread per ray (march_ray, shared with the CPU), after the slab's
//      state is cleared.
// Every CUDA call is checked; failures throw CudaError.
#include <cuda_runtime.h>

#include <cub/device/device_segmented_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/ray_march.h"
#include "cuda/history_builder.h"
#include "host/common/progress.h"
#include "host/transport/cuda_backend.h"
#include "host/transport/slab_plan.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {

#define DOSEMAP_CUDA_CHECK(call)                                                                                 \
  do {                                                                                                          \
    const cudaError_t err_ = (call);                                                                            \
    if (err_ != cudaSuccess)                                                                                    \
      throw CudaError(std::string(#call) + " failed (" + __FILE__ + ":" + std::to_string(__LINE__) + "): " +   \
                      cudaGetErrorString(err_));                                                                \
  } while (0)

// A device allocation that frees itself.
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t n) : n_(n) {
    if (n) DOSEMAP_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), n * sizeof(T)));
  }
  ~DeviceArray() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr_(o.ptr_), n_(o.n_) { o.ptr_ = nullptr, o.n_ = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(n_, o.n_);
    return *this;
  }
  T* get() const { return ptr_; }
  size_t size() const { return n_; }
  void upload(const T* host, size_t n) {
    if (n) DOSEMAP_CUDA_CHECK(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice));
  }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

template <typename T>
DeviceArray<T> to_device(const T* host, size_t n) {
  DeviceArray<T> d(n);
  d.upload(host, n);
  return d;
}

constexpr int kThreads = 256;

int blocks_for(long long n) {
  const long long b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(std::min<long long>(std::max<long long>(b, 1), 65535LL * 32));
}

// The builder's loops (cuda/history_builder.h), one thread per element.
template <class F>
__global__ void for_each_kernel(long long n, F f) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    f(i);
}

template <class F>
__global__ void for_each_owned_kernel(long long n, const unsigned long long* offset, unsigned long long total, F f) {
  for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
       e += (unsigned long long)gridDim.x * blockDim.x) {
    const long long s = owner_of(offset, n, e);
    f(s, e - offset[s], e);
  }
}

// group_by_ray on the device: one thread per footprint cell counts it on its ray, then
// (after the scan of the counts) writes it to a free slot of its ray.
template <class Rule>
__global__ void count_by_ray_kernel(long long n, const ColumnRange* rect, const unsigned long long* offset,
                                    unsigned long long total, Rule rule, unsigned long long* count) {
  for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
       e += (unsigned long long)gridDim.x * blockDim.x) {
    const long long s = owner_of(offset, n, e);
    const ColumnRange& r = rect[s];
    const unsigned long long local = e - offset[s], w = (unsigned long long)(r.i1 - r.i0);
    atomicAdd(count + rule.ray(r.i0 + (long long)(local % w), r.j0 + (long long)(local / w)), 1ULL);
  }
}

template <class Rule>
__global__ void scatter_by_ray_kernel(long long n, const ColumnRange* rect, const unsigned long long* offset,
                                      unsigned long long total, Rule rule, unsigned long long* cursor, uint32_t* sub,
                                      double* fluence) {
  for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
       e += (unsigned long long)gridDim.x * blockDim.x) {
    const long long s = owner_of(offset, n, e);
    const ColumnRange& r = rect[s];
    const unsigned long long local = e - offset[s], w = (unsigned long long)(r.i1 - r.i0);
    const long long r1 = r.i0 + (long long)(local % w), r2 = r.j0 + (long long)(local / w);
    const unsigned long long slot = atomicAdd(cursor + rule.ray(r1, r2), 1ULL);
    sub[slot] = (uint32_t)s;
    fluence[slot] = rule.fluence(s, r1, r2);
  }
}

__global__ void clear_kernel(MarchParams p, DoseState st, long long voxels, long long planes) {
  for (long long v = blockIdx.x * (long long)blockDim.x + threadIdx.x; v < voxels; v += (long long)gridDim.x * blockDim.x)
    clear_voxel_state(p, st, voxels, v);
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < planes; i += (long long)gridDim.x * blockDim.x)
    st.slot_first_crossing_s[i] = -1.0f;
}

// `line_scratch`: [line * rays + ray] when the spectrum has more than kInlineSpectrumLines
// lines (nullptr otherwise), so that a thread's stack stays small.
__global__ void march_kernel(MarchParams p, RayLattice L, const uint16_t* material, HistoryView h, DoseState out,
                             double* line_scratch) {
  const long long rays = ray_count(L);
  double line_t[kInlineSpectrumLines];
  for (long long r = blockIdx.x * (long long)blockDim.x + threadIdx.x; r < rays; r += (long long)gridDim.x * blockDim.x) {
    const LineTransmission transmission =
        p.n_lines <= kInlineSpectrumLines ? LineTransmission{line_t, 1} : LineTransmission{line_scratch + r, rays};
    march_ray(p, L, material, h, out, r, transmission);
  }
}

// The march's scratch for spectra beyond kInlineSpectrumLines lines (empty otherwise).
DeviceArray<double> line_scratch_for(const MarchParams& p, long long rays) {
  return DeviceArray<double>(p.n_lines > kInlineSpectrumLines ? static_cast<size_t>(p.n_lines) * rays : 0);
}

// The march tables on the device; `params` points at them.
struct DeviceTables {
  DeviceArray<double> line_energy, transmission, mean_fluence, deposition, other, density, slot_deposition, thresholds,
      component_thresholds, frame_times;
  DeviceArray<int> component_begin, slot_grid;
  MarchParams params;

  explicit DeviceTables(const MarchParams& p) : params(p) {
    const size_t ml = static_cast<size_t>(p.n_materials) * p.n_lines;
    line_energy = to_device(p.line_energy_J, p.n_lines);
    transmission = to_device(p.voxel_transmission, ml);
    mean_fluence = to_device(p.voxel_mean_fluence, ml);
    deposition = to_device(p.deposition_m2_kg, ml);
    other = to_device(p.other_fraction, ml);
    density = to_device(p.density_kg_m3, p.n_materials);
    component_begin = to_device(p.component_begin, p.n_materials + 1);
    slot_grid = to_device(p.slot_grid, p.n_slots);
    slot_deposition = to_device(p.slot_deposition_m2_kg, static_cast<size_t>(p.n_slots) * p.n_lines);
    thresholds = to_device(p.threshold_Gy, static_cast<size_t>(p.n_materials) * p.n_thresholds);
    component_thresholds = to_device(p.component_threshold_Gy, static_cast<size_t>(p.n_component_grids) * p.n_thresholds);
    frame_times = to_device(p.frame_time_s, p.n_frames);
    params.line_energy_J = line_energy.get();
    params.voxel_transmission = transmission.get();
    params.voxel_mean_fluence = mean_fluence.get();
    params.deposition_m2_kg = deposition.get();
    params.other_fraction = other.get();
    params.density_kg_m3 = density.get();
    params.component_begin = component_begin.get();
    params.slot_grid = slot_grid.get();
    params.slot_deposition_m2_kg = slot_deposition.get();
    params.threshold_Gy = thresholds.get();
    params.component_threshold_Gy = component_thresholds.get();
    params.frame_time_s = frame_times.get();
  }

  // A pose's segment tables (cuda/ray_march.h: they depend on the segment length).
  void set_segment(const MarchParams& p) {
    const size_t ml = static_cast<size_t>(p.n_materials) * p.n_lines;
    transmission.upload(p.voxel_transmission, ml);
    mean_fluence.upload(p.voxel_mean_fluence, ml);
    other.upload(p.other_fraction, ml);
    params.column_area_m2 = p.column_area_m2;
  }
};

// Selects the GPU and names it in the run's statistics.
CudaRunStats start_on_device() {
  CudaRunStats stats;
  cudaDeviceProp prop;
  DOSEMAP_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  DOSEMAP_CUDA_CHECK(cudaSetDevice(0));
  stats.device = std::string(prop.name) + ", " + std::to_string(prop.totalGlobalMem >> 20) + " MiB";
  return stats;
}

// The sub-exposures on the device: the list, their start times and durations (what the
// histories index), and the beam profile with its image's pixels.
struct DeviceScan {
  DeviceArray<SubExposure> subs;
  DeviceArray<double> t_start, duration, image;
  BeamProfile beam;

  DeviceScan(const std::vector<SubExposure>& host_subs, const BeamProfile& host_beam)
      : subs(to_device(host_subs.data(), host_subs.size())), t_start(host_subs.size()), duration(host_subs.size()),
        beam(host_beam) {
    std::vector<double> t0(host_subs.size()), dt(host_subs.size());
    for (size_t s = 0; s < host_subs.size(); ++s) t0[s] = host_subs[s].t_start_s, dt[s] = host_subs[s].duration_s;
    t_start.upload(t0.data(), t0.size());
    duration.upload(dt.data(), dt.size());
    if (host_beam.kind == kBeamImage) {
      image = to_device(host_beam.image, static_cast<size_t>(host_beam.image_nx) * host_beam.image_ny);
      beam.image = image.get();
    }
  }
};

// The march's state on the device for `voxels` voxels in `columns` columns, and its per-ray
// reports for up to `rays` rays.
struct DeviceState {
  DeviceArray<float> dose, peak, mean, cross, comp, slot, frames;
  DeviceArray<double> energy, ray_fluence;

  DeviceState(const MarchParams& p, long long voxels, long long columns, long long rays)
      : dose(voxels), peak(voxels), mean(voxels), cross(static_cast<size_t>(voxels) * p.n_thresholds),
        comp(static_cast<size_t>(voxels) * p.n_component_grids),
        slot(static_cast<size_t>(columns) * p.n_slots * p.n_thresholds),
        frames(static_cast<size_t>(voxels) * p.n_frames), energy(rays * 4), ray_fluence(rays) {}

  DoseState view() const {
    DoseState o;
    o.dose_Gy = dose.get();
    o.rate_peak_Gy_s = peak.get();
    o.rate_mean_Gy_s = mean.get();
    o.crossing_s = cross.get();
    o.component_dose_Gy = comp.get();
    o.slot_first_crossing_s = slot.get();
    o.frame_dose_Gy = frames.get();
    o.ray_energy_J_m2 = energy.get();
    o.ray_fluence_m2 = ray_fluence.get();
    return o;
  }
};

// The builder's primitives on the device (cuda/history_builder.h): kernels, CUB's scan
// and segmented sort. Buffers are sized once for the largest build of a run (`max_subs`
// sub-exposures, `max_events` events, `max_rays` rays; factors never exceed events +
// sub-exposures, as w + h <= w h + 1).
class DeviceHistoryExecutor {
 public:
  DeviceHistoryExecutor(long long max_subs, uint64_t max_events, long long max_rays)
      : rect_(max_subs + 1), cells_(max_subs + 1), factors_(max_subs + 1), event_offset_(max_subs + 1),
        factor_offset_(max_subs + 1), factor_(max_events + max_subs), sub_(max_events), sub_sorted_(max_events),
        fluence_(max_events), cum_(max_events), count_(max_rays + 1), cursor_(max_rays + 1),
        ray_offset_(max_rays + 1) {
    size_t scan_bytes = 0, ray_scan_bytes = 0, sort_bytes = 0;
    DOSEMAP_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, cells_.get(), event_offset_.get(), max_subs + 1));
    DOSEMAP_CUDA_CHECK(
        cub::DeviceScan::ExclusiveSum(nullptr, ray_scan_bytes, count_.get(), ray_offset_.get(), max_rays + 1));
    DOSEMAP_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(
        nullptr, sort_bytes, sub_.get(), sub_sorted_.get(), fluence_.get(), cum_.get(),
        static_cast<int64_t>(max_events), max_rays, ray_offset_.get(), ray_offset_.get() + 1));
    scratch_ = DeviceArray<unsigned char>(std::max({scan_bytes, ray_scan_bytes, sort_bytes}));
  }

  HistoryArrays sub_exposure_arrays(long long n) {
    if (static_cast<size_t>(n) + 1 > cells_.size())
      throw CudaError("internal: " + std::to_string(n) + " sub-exposures in a build, more than the " +
                      std::to_string(cells_.size() - 1) + " planned");
    return arrays();
  }

  unsigned long long exclusive_scan(unsigned long long* in, unsigned long long* out, long long n) {
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    DOSEMAP_CUDA_CHECK(cudaMemset(in + n, 0, sizeof(unsigned long long)));
    size_t bytes = scratch_.size();
    DOSEMAP_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scratch_.get(), bytes, in, out, n + 1));
    unsigned long long total = 0;
    DOSEMAP_CUDA_CHECK(cudaMemcpy(&total, out + n, sizeof total, cudaMemcpyDeviceToHost));
    return total;
  }

  HistoryArrays event_arrays(unsigned long long events, unsigned long long factors, long long rays) {
    if (events > sub_.size() || factors > factor_.size() || static_cast<size_t>(rays) + 1 > ray_offset_.size())
      throw CudaError("internal: a build has " + std::to_string(events) + " events, " + std::to_string(factors) +
                      " factors and " + std::to_string(rays) + " rays, more than planned");
    return arrays();
  }

  template <class F>
  void for_each(long long n, const F& f) {
    if (n <= 0) return;
    for_each_kernel<<<blocks_for(n), kThreads>>>(n, f);
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
  }

  template <class F>
  void for_each_owned(long long n, const unsigned long long* offset, unsigned long long total, const F& f) {
    if (total == 0) return;
    for_each_owned_kernel<<<blocks_for(static_cast<long long>(total)), kThreads>>>(n, offset, total, f);
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
  }

  // Counts per ray, scan, atomic slots (in any order), then each ray's slots sorted by
  // sub-exposure: a sub-exposure puts at most one event on a ray, so the keys of a ray are
  // distinct and the result is the host's, whatever order the atomics gave.
  template <class Rule>
  void group_by_ray(long long n, const ColumnRange* rect, const unsigned long long* offset, unsigned long long events,
                    long long rays, const Rule& rule) {
    DOSEMAP_CUDA_CHECK(cudaMemset(count_.get(), 0, (rays + 1) * sizeof(unsigned long long)));
    const int blocks = blocks_for(static_cast<long long>(events));
    if (events > 0) count_by_ray_kernel<<<blocks, kThreads>>>(n, rect, offset, events, rule, count_.get());
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    size_t bytes = scratch_.size();
    DOSEMAP_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scratch_.get(), bytes, count_.get(), ray_offset_.get(), rays + 1));
    if (events == 0) return;
    static_assert(sizeof(int64_t) == sizeof(unsigned long long), "cursors copy the offsets' bits");
    DOSEMAP_CUDA_CHECK(cudaMemcpy(cursor_.get(), ray_offset_.get(), rays * sizeof(int64_t), cudaMemcpyDeviceToDevice));
    scatter_by_ray_kernel<<<blocks, kThreads>>>(n, rect, offset, events, rule, cursor_.get(), sub_.get(), fluence_.get());
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    bytes = scratch_.size();
    DOSEMAP_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(
        scratch_.get(), bytes, sub_.get(), sub_sorted_.get(), fluence_.get(), cum_.get(), static_cast<int64_t>(events),
        rays, ray_offset_.get(), ray_offset_.get() + 1));
  }

  HistoryView view(const double* t_start_s, const double* duration_s) const {
    return HistoryView{ray_offset_.get(), sub_sorted_.get(), cum_.get(), t_start_s, duration_s};
  }

 private:
  HistoryArrays arrays() const {
    return HistoryArrays{rect_.get(),       cells_.get(), event_offset_.get(), factors_.get(), factor_offset_.get(),
                         factor_.get(),     sub_sorted_.get(), cum_.get(),     ray_offset_.get()};
  }

  DeviceArray<ColumnRange> rect_;
  DeviceArray<unsigned long long> cells_, factors_, event_offset_, factor_offset_;
  DeviceArray<double> factor_;
  DeviceArray<uint32_t> sub_, sub_sorted_;
  DeviceArray<double> fluence_, cum_;
  DeviceArray<unsigned long long> count_, cursor_;
  DeviceArray<int64_t> ray_offset_;
  DeviceArray<unsigned char> scratch_;
};

// Copies `planes` planes of `rows` x `width` elements between a host plane layout (row
// pitch host_pitch, plane stride host_plane) and a packed device layout.
template <typename T>
void copy_planes_to_host(T* host, size_t host_pitch, size_t host_plane, const T* dev, size_t width, size_t rows,
                         int planes) {
  for (int q = 0; q < planes; ++q)
    DOSEMAP_CUDA_CHECK(cudaMemcpy2D(host + q * host_plane, host_pitch * sizeof(T), dev + q * width * rows,
                                    width * sizeof(T), width * sizeof(T), rows, cudaMemcpyDeviceToHost));
}

double seconds_between(cudaEvent_t a, cudaEvent_t b) {
  float ms = 0;
  DOSEMAP_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms * 1e-3;
}

// Waits for a block (ev: history start, history end, march start, march end) and adds its
// device times and events to the run's statistics.
void account_block(CudaRunStats& stats, const cudaEvent_t ev[4], unsigned long long events) {
  DOSEMAP_CUDA_CHECK(cudaEventSynchronize(ev[3]));
  stats.seconds_history += seconds_between(ev[0], ev[1]);
  stats.seconds_march += seconds_between(ev[2], ev[3]);
  stats.fluence_events += static_cast<int64_t>(events);
}

}  // namespace

bool cuda_device_usable(std::string& why) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    // What a machine without an NVIDIA GPU or driver answers (error 35 without a driver).
    why = "no NVIDIA GPU or driver found";
    cudaGetLastError();
    return false;
  }
  if (e != cudaSuccess) {
    why = std::string("the CUDA driver failed: ") + cudaGetErrorString(e);
    cudaGetLastError();
    return false;
  }
  cudaFuncAttributes attr;
  e = cudaFuncGetAttributes(&attr, march_kernel);
  if (e != cudaSuccess) {
    cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    why = std::string("this build has no kernel for ") + prop.name + " (compute capability " + std::to_string(prop.major) +
          "." + std::to_string(prop.minor) + "): " + cudaGetErrorString(e);
    cudaGetLastError();
    return false;
  }
  return true;
}

CudaRunStats run_transport_cuda(const MarchParams& params, const std::vector<MaterialId>& material,
                                const std::vector<SubExposure>& subs, const BeamProfile& beam, const GridGeometry& g,
                                const DoseState& out, Progress* progress, double memory_fraction,
                                double slab_budget_bytes) {
  CudaRunStats stats = start_on_device();

  const long long nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  const long long columns = nx * ny, voxels = columns * nz;
  const int T = params.n_thresholds, C = params.n_component_grids, S = params.n_slots;

  DeviceTables tables(params);
  const DeviceScan scan(subs, beam);

  size_t free_bytes = 0, total_bytes = 0;
  DOSEMAP_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  // Besides the slab buffers: the sub-exposures, their times, footprints, counts and offsets.
  double budget = memory_fraction * free_bytes - kSubExposureDeviceBytes * (subs.size() + 1);
  if (slab_budget_bytes > 0) budget = std::min(budget, slab_budget_bytes);
  const std::vector<Slab> slabs = plan_slabs(params, events_per_row(subs, beam, g), nx, budget);
  if (slabs.empty())
    throw CudaError("too little GPU memory: one row of " + std::to_string(nx) + " columns does not fit in the " +
                    std::to_string(static_cast<long long>(budget / 1e6)) + " MB free for it");
  stats.slabs = static_cast<int>(slabs.size());
  long long max_cols = 0;
  uint64_t max_events = 0;
  for (const Slab& s : slabs) {
    max_cols = std::max(max_cols, (s.row1 - s.row0) * nx);
    max_events = std::max(max_events, s.events);
  }
  const long long n = static_cast<long long>(subs.size());

  // Slab buffers, allocated once at the largest slab's size.
  DeviceArray<uint16_t> d_material(max_cols * nz);
  DeviceState state(params, max_cols * nz, max_cols, max_cols);
  DeviceArray<double> d_line_scratch = line_scratch_for(params, max_cols);
  DeviceHistoryExecutor histories(n, max_events, max_cols);
  cudaEvent_t ev[4];
  for (auto& e : ev) DOSEMAP_CUDA_CHECK(cudaEventCreate(&e));
  // The rays of a beam along +z are the grid's columns; a slab builds its rows of them.
  const double centre[3] = {0, 0, 0};
  const RayLattice columns_lattice = pose_lattice(make_pose(1, 0.0, 0.0, centre), g);
  if (progress) progress->start("GPU slabs", static_cast<int64_t>(slabs.size()));

  for (const Slab& slab : slabs) {
    const long long cols = (slab.row1 - slab.row0) * nx, col0 = slab.row0 * nx;
    const unsigned long long events = slab.events;  // fits 32 bits (plan_slabs)
    auto t_copy = std::chrono::steady_clock::now();
    DOSEMAP_CUDA_CHECK(cudaMemcpy2D(d_material.get(), cols * sizeof(uint16_t), material.data() + col0,
                                    columns * sizeof(uint16_t), cols * sizeof(uint16_t), nz, cudaMemcpyHostToDevice));
    stats.seconds_transfer += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_copy).count();

    // The slab's fluence histories (the shared builder).
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[0]));
    const unsigned long long counted = build_fluence_histories(
        histories, HistoryJob{scan.subs.get(), n, scan.beam, columns_lattice, slab.row0, slab.row1});
    if (counted != events) throw CudaError("internal: slab events planned " + std::to_string(events) + ", counted " + std::to_string(counted));
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[1]));

    // 5: the march, with the slab as a grid of `cols` x 1 columns.
    const MarchParams& p = tables.params;
    const long long slab_dims[3] = {cols, 1, nz};
    const double zero[3] = {0, 0, 0};
    const RayLattice L = make_ray_lattice(make_pose(1, 0.0, 0.0, zero), slab_dims, g.voxel_um.data(), zero);
    const HistoryView h = histories.view(scan.t_start.get(), scan.duration.get());
    const DoseState o = state.view();
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[2]));
    clear_kernel<<<blocks_for(cols * nz), kThreads>>>(p, o, cols * nz, static_cast<long long>(S) * T * cols);
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    march_kernel<<<blocks_for(cols), kThreads>>>(p, L, d_material.get(), h, o, d_line_scratch.get());
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[3]));
    account_block(stats, ev, events);

    // Results back into the host's full-grid layout.
    t_copy = std::chrono::steady_clock::now();
    copy_planes_to_host(out.dose_Gy + col0, columns, voxels, state.dose.get(), cols, nz, 1);
    copy_planes_to_host(out.rate_peak_Gy_s + col0, columns, voxels, state.peak.get(), cols, nz, 1);
    copy_planes_to_host(out.rate_mean_Gy_s + col0, columns, voxels, state.mean.get(), cols, nz, 1);
    copy_planes_to_host(out.crossing_s + col0, columns, voxels, state.cross.get(), cols, nz, T);
    copy_planes_to_host(out.component_dose_Gy + col0, columns, voxels, state.comp.get(), cols, nz, C);
    copy_planes_to_host(out.slot_first_crossing_s + col0, columns, columns, state.slot.get(), cols, 1, S * T);
    copy_planes_to_host(out.frame_dose_Gy + col0, columns, voxels, state.frames.get(), cols, nz, params.n_frames);
    DOSEMAP_CUDA_CHECK(cudaMemcpy(out.ray_energy_J_m2 + col0 * 4, state.energy.get(), cols * 4 * sizeof(double),
                                  cudaMemcpyDeviceToHost));
    DOSEMAP_CUDA_CHECK(cudaMemcpy(out.ray_fluence_m2 + col0, state.ray_fluence.get(), cols * sizeof(double),
                                  cudaMemcpyDeviceToHost));
    stats.seconds_transfer += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_copy).count();
    if (progress) progress->advance(1);
  }
  for (auto& e : ev) cudaEventDestroy(e);
  if (progress) progress->finish();
  return stats;
}

CudaRunStats run_transport_cuda_poses(TransportTables host_tables, const std::vector<MaterialId>& material,
                                      const std::vector<SubExposure>& subs, const std::vector<PoseBlock>& blocks,
                                      const BeamProfile& beam, const GridGeometry& g, const StageSpec& stage,
                                      const DoseState& out, EnergyBalance& energy, Progress* progress,
                                      double memory_fraction) {
  CudaRunStats stats = start_on_device();
  stats.slabs = 1;
  const long long columns = g.columns(), voxels = g.voxels();
  MarchParams params = host_tables.params();
  const int T = params.n_thresholds, C = params.n_component_grids, S = params.n_slots, F = params.n_frames;

  // Every block's lattice and event count first: the buffers are sized for the largest.
  std::vector<RayLattice> lattices;
  long long max_rays = 0;
  uint64_t max_events = 0;
  size_t max_subs = 0;
  for (const PoseBlock& b : blocks) {
    lattices.push_back(pose_lattice(stage_pose(stage, g, b.angle_deg), g));
    const RayLattice& L = lattices.back();
    uint64_t events = 0;
    for (size_t s = b.begin; s < b.end; ++s) events += static_cast<uint64_t>(footprint(beam, L, subs[s]).count());
    max_rays = std::max(max_rays, ray_count(L));
    max_events = std::max(max_events, events);
    max_subs = std::max(max_subs, b.end - b.begin);
  }
  if (max_events >= (uint64_t(1) << 32) || max_rays >= (1LL << 32))
    throw CudaError("a pose has more than 2^32 fluence events or rays; the GPU backend numbers them in 32 bits");
  const double state_bytes = voxels * (2.0 + 4.0 * (3 + T + C + F)) + columns * 4.0 * S * T;
  const double line_scratch = params.n_lines > kInlineSpectrumLines ? 8.0 * params.n_lines : 0.0;
  // Per ray: offset, event count and cursor, energy and fluence sums; per event and
  // sub-exposure: the history builder's arrays (host/transport/slab_plan.h).
  const double block_bytes = max_rays * (3 * 8.0 + 5 * 8.0 + line_scratch) + max_events * kSlabEventBytes +
                             subs.size() * kSubExposureDeviceBytes;
  size_t free_bytes = 0, total_bytes = 0;
  DOSEMAP_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (state_bytes + block_bytes > memory_fraction * free_bytes)
    throw CudaError("a turned scan keeps the whole grid on the GPU: it needs about " +
                    std::to_string(static_cast<long long>((state_bytes + block_bytes) / 1048576)) + " MiB, " +
                    std::to_string(free_bytes >> 20) + " MiB are free");

  DeviceTables tables(params);
  const DeviceScan scan(subs, beam);
  // The whole grid's state, resident across the blocks.
  DeviceArray<uint16_t> d_material = to_device(material.data(), material.size());
  DeviceState state(params, voxels, columns, max_rays);
  DeviceArray<double> d_line_scratch = line_scratch_for(params, max_rays);
  DeviceHistoryExecutor histories(static_cast<long long>(max_subs), max_events, max_rays);

  const DoseState o = state.view();
  clear_kernel<<<blocks_for(voxels), kThreads>>>(tables.params, o, voxels, static_cast<long long>(S) * T * columns);
  DOSEMAP_CUDA_CHECK(cudaGetLastError());

  cudaEvent_t ev[4];
  for (auto& e : ev) DOSEMAP_CUDA_CHECK(cudaEventCreate(&e));
  std::vector<double> unit(static_cast<size_t>(max_rays) * 4), fluence(max_rays);
  if (progress) progress->start("GPU poses", static_cast<int64_t>(blocks.size()));
  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    const PoseBlock& b = blocks[bi];
    const RayLattice& L = lattices[bi];
    const long long n = static_cast<long long>(b.end - b.begin), rays = ray_count(L);
    host_tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
    tables.set_segment(host_tables.params());

    // The block's fluence histories on the rays of its pose (the shared builder).
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[0]));
    const unsigned long long events = build_fluence_histories(
        histories, HistoryJob{scan.subs.get() + b.begin, n, scan.beam, L, 0, L.n2});
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[1]));

    // 5: the march of the pose's rays, adding the block to the resident state.
    const HistoryView h = histories.view(scan.t_start.get() + b.begin, scan.duration.get() + b.begin);
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[2]));
    march_kernel<<<blocks_for(rays), kThreads>>>(tables.params, L, d_material.get(), h, o, d_line_scratch.get());
    DOSEMAP_CUDA_CHECK(cudaGetLastError());
    DOSEMAP_CUDA_CHECK(cudaEventRecord(ev[3]));
    account_block(stats, ev, events);
    DOSEMAP_CUDA_CHECK(cudaMemcpy(unit.data(), state.energy.get(), rays * 4 * sizeof(double), cudaMemcpyDeviceToHost));
    DOSEMAP_CUDA_CHECK(cudaMemcpy(fluence.data(), state.ray_fluence.get(), rays * sizeof(double), cudaMemcpyDeviceToHost));
    add_block_energy(unit.data(), fluence.data(), rays, energy);
    if (progress) progress->advance(1);
  }
  for (auto& e : ev) cudaEventDestroy(e);
  if (progress) progress->finish();

  const auto t_copy = std::chrono::steady_clock::now();
  auto download = [](float* host, const DeviceArray<float>& dev) {
    if (dev.size()) DOSEMAP_CUDA_CHECK(cudaMemcpy(host, dev.get(), dev.size() * sizeof(float), cudaMemcpyDeviceToHost));
  };
  download(out.dose_Gy, state.dose);
  download(out.rate_peak_Gy_s, state.peak);
  download(out.rate_mean_Gy_s, state.mean);
  download(out.crossing_s, state.cross);
  download(out.component_dose_Gy, state.comp);
  download(out.slot_first_crossing_s, state.slot);
  download(out.frame_dose_Gy, state.frames);
  stats.seconds_transfer += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_copy).count();
  return stats;
}

double cuda_copy_bandwidth(size_t bytes) {
  DeviceArray<unsigned char> a(bytes), b(bytes);
  DOSEMAP_CUDA_CHECK(cudaMemset(a.get(), 1, bytes));
  cudaEvent_t start, stop;
  DOSEMAP_CUDA_CHECK(cudaEventCreate(&start));
  DOSEMAP_CUDA_CHECK(cudaEventCreate(&stop));
  DOSEMAP_CUDA_CHECK(cudaMemcpy(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice));  // warm-up
  const int repeats = 10;
  DOSEMAP_CUDA_CHECK(cudaEventRecord(start));
  for (int i = 0; i < repeats; ++i) DOSEMAP_CUDA_CHECK(cudaMemcpy(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice));
  DOSEMAP_CUDA_CHECK(cudaEventRecord(stop));
  DOSEMAP_CUDA_CHECK(cudaEventSynchronize(stop));
  const double seconds = seconds_between(start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return 2.0 * bytes * repeats / seconds;
}

}  // namespace dosemap
