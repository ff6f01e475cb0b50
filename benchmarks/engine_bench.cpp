// Micro-benchmarks of the three costly stages of `dosemap run`, on the benchmark scene
// (scenes/bench_pouch.toml): the column march (voxels/s), the footprint accumulation that
// builds the per-column fluence histories (cells/s), and writing dose.vdb (voxels/s).
// Run through `make bench`; figures go to benchmarks/RESULTS.md with the machine.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <memory>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/vdb_io.h"
#include "host/scene/scene_reader.h"
#include "host/timeline/timeline.h"
#include "host/transport/cpu_backend.h"
#include "host/transport/dose_engine.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"
#include "host/transport/transport_tables.h"

namespace dosemap {
namespace {

struct BenchScene {
  Scene scene;
  MaterialTable materials;
  VoxelGrid grid;
  Timeline timeline;
  BeamProfile beam;
  std::vector<SubExposure> subs;
  RayLattice lattice;
  TransportTables tables;
};

const BenchScene& bench_scene() {
  static std::unique_ptr<BenchScene> s = [] {
    auto b = std::make_unique<BenchScene>();
    b->scene = read_scene(DOSEMAP_SOURCE_DIR "/scenes/bench_pouch.toml");
    b->materials = resolve_materials(b->scene);
    b->grid = voxelize(b->scene);
    b->timeline = expand_scan(b->scene);
    b->beam = make_beam_profile(b->scene.beam);
    b->subs = plan_sub_exposures(b->timeline, b->beam, b->grid.geometry, 360.0);  // the stage never turns
    b->lattice = pose_lattice(stage_pose(b->scene.sample.stage, b->grid.geometry, 0.0), b->grid.geometry);
    b->tables = build_transport_tables(b->materials, b->grid.geometry, threshold_scale(b->scene));
    return b;
  }();
  return *s;
}

// Faults in the pages of fresh (zero) arrays, in parallel, so that the timed march does not.
void touch_pages(std::initializer_list<BulkVector<float>*> arrays, int threads) {
  for (BulkVector<float>* a : arrays) {
    float* data = a->data();
    const int64_t n = static_cast<int64_t>(a->size());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) data[i] = 0.0f;
  }
}

// A march's per-voxel state (no frames), nothing crossed, its pages faulted in so that the
// timed marches do not.
struct MarchState {
  BulkVector<float> dose, peak, mean, cross, comp, slots;
  std::vector<double> energy, fluence;
  DoseState out;
  MarchState(const MarchParams& p, const GridGeometry& g, int threads)
      : dose(g.voxels()), peak(g.voxels()), mean(g.voxels()), cross(g.voxels() * p.n_thresholds),
        comp(g.voxels() * p.n_component_grids), slots(g.columns() * p.n_slots * p.n_thresholds),
        energy(g.columns() * 4), fluence(g.columns()) {
    out = DoseState{dose.data(), peak.data(), mean.data(), cross.data(), comp.data(), slots.data(), nullptr,
                    energy.data(), fluence.data()};
    mark_nothing_crossed_cpu(p, out, g.voxels(), g.columns(), threads);
    touch_pages({&dose, &peak, &mean, &comp}, threads);
  }
};

void BM_FootprintAccumulation(benchmark::State& state) {
  const BenchScene& b = bench_scene();
  const int threads = static_cast<int>(state.range(0));
  int64_t events = 0;
  for (auto _ : state) {
    FluenceHistory h = build_fluence_history(b.subs.data(), static_cast<int64_t>(b.subs.size()), b.beam, b.lattice,
                                             threads, nullptr);
    events = h.events();
    benchmark::DoNotOptimize(h.cum_fluence_m2.data());
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.counters["cells"] = static_cast<double>(events);
}

void BM_ColumnMarch(benchmark::State& state) {
  const BenchScene& b = bench_scene();
  const int threads = static_cast<int>(state.range(0));
  const GridGeometry& g = b.grid.geometry;
  const FluenceHistory h =
      build_fluence_history(b.subs.data(), static_cast<int64_t>(b.subs.size()), b.beam, b.lattice, threads, nullptr);
  const MarchParams p = b.tables.params();
  const int64_t v = g.voxels();
  MarchState march_state(p, g, threads);
  const DoseState& out = march_state.out;
  for (auto _ : state) march_rays_cpu(p, b.lattice, b.grid.material.data(), h.view(), out, threads, nullptr);
  state.SetItemsProcessed(state.iterations() * v);
  // Bytes the march must move: the material grid read, every per-voxel output written.
  const double bytes_per_voxel = 2.0 + 4.0 * (3 + p.n_thresholds + p.n_component_grids);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * v * bytes_per_voxel));
}

// The march's cost per voxel as grids grow (1e6 to 1e8 voxels): the benchmark cell over a
// square of side chosen for the voxel count, rastered over all of it once at 50 um pitch.
// range(1) = 1: the CPU backend's march (groups of neighbouring rays, slice by slice);
// 0: the same arithmetic one ray at a time (march_ray, as the GPU runs it), for comparison.
void BM_MarchScaling(benchmark::State& state) {
  const double voxels_wanted = static_cast<double>(state.range(0));
  const bool grouped = state.range(1) != 0;
  Scene scene = bench_scene().scene;
  const GridGeometry g0 = bench_scene().grid.geometry;
  const double side_um = std::sqrt(voxels_wanted / static_cast<double>(g0.dims[2])) * g0.voxel_um[0];
  scene.sample.lateral_um = {side_um, side_um};
  scene.scan.repeat = 1;
  const double half = 0.5 * side_um - 25.0;
  scene.scan.steps[0].from_um = {-half, -half};
  scene.scan.steps[0].to_um = {half, half};
  const MaterialTable materials = resolve_materials(scene);
  const VoxelGrid grid = voxelize(scene);
  const GridGeometry& g = grid.geometry;
  const Timeline timeline = expand_scan(scene);
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs = plan_sub_exposures(timeline, beam, g, 360.0);
  const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, 0.0), g);
  const TransportTables tables = build_transport_tables(materials, g, threshold_scale(scene));
  const int threads = omp_get_max_threads();
  const FluenceHistory h = build_fluence_history(subs.data(), static_cast<int64_t>(subs.size()), beam, L, threads, nullptr);
  const MarchParams p = tables.params();
  const int64_t v = g.voxels();
  MarchState march_state(p, g, threads);
  const DoseState& out = march_state.out;
  for (auto _ : state) {
    if (grouped) {
      march_rays_cpu(p, L, grid.material.data(), h.view(), out, threads, nullptr);
    } else {
#pragma omp parallel num_threads(threads)
      {
        double line_t[kMaxSpectrumLines];
#pragma omp for schedule(dynamic, 256)
        for (int64_t r = 0; r < ray_count(L); ++r)
          march_ray(p, L, grid.material.data(), h.view(), out, r, LineTransmission{line_t, 1});
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * v);
  const double bytes_per_voxel = 2.0 + 4.0 * (3 + p.n_thresholds + p.n_component_grids);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * v * bytes_per_voxel));
  state.counters["voxels"] = static_cast<double>(v);
  state.counters["ns_per_voxel_thread"] =
      benchmark::Counter(1e-9 * static_cast<double>(v) / threads,
                         benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The machine's memory bandwidth on all threads, against which the march's bytes per second
// are read: range(0) = 0 writes a 1 GiB array (stores only), 1 copies 512 MiB into another
// 512 MiB (read + write, bytes counted once per array). Pages are faulted in before timing.
void BM_MemoryBandwidth(benchmark::State& state) {
  const bool copy = state.range(0) != 0;
  const int threads = omp_get_max_threads();
  const int64_t n = (int64_t(1) << 30) / sizeof(float) / (copy ? 2 : 1);
  BulkVector<float> a(n), b(copy ? n : 0);
  touch_pages({&a, &b}, threads);
  float fill = 1.0f;
  for (auto _ : state) {
    float* pa = a.data();
    const float* pb = b.data();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) pa[i] = copy ? pb[i] : fill;
    benchmark::DoNotOptimize(pa);
    fill += 1.0f;
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)) * (copy ? 2 : 1));
}

void BM_WriteDoseVdb(benchmark::State& state) {
  const BenchScene& b = bench_scene();
  EngineOptions o;
  o.backend = Backend::kCpu;
  const TransportParams params = make_transport_params(b.materials, std::make_shared<const VoxelGrid>(b.grid),
                                                       b.scene.beam, b.scene.sample.stage, threshold_scale(b.scene));
  const DoseResults results = compute_dose(params, b.timeline, o);
  const std::string path = (std::filesystem::temp_directory_path() / "dosemap_bench.vdb").string();
  VdbWriteContext ctx{b.scene, b.materials, b.grid, b.timeline.duration_s, "bench", nullptr};
  for (auto _ : state) {
    state.PauseTiming();
    DoseResults copy = results;
    state.ResumeTiming();
    std::filesystem::remove(path);
    CheckedFile file(path, path);
    write_dose_vdb(file, ctx, std::move(copy));
    file.finish();
  }
  state.SetItemsProcessed(state.iterations() * b.grid.geometry.voxels());
  state.counters["MB_file"] = std::filesystem::file_size(path) / 1e6;
  std::filesystem::remove(path);
}

const int kMaxThreads = omp_get_max_threads();
BENCHMARK(BM_FootprintAccumulation)->Arg(1)->Arg(kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ColumnMarch)->Arg(1)->Arg(kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MemoryBandwidth)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MarchScaling)
    ->ArgsProduct({{1000000, 10000000, 100000000}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(BM_WriteDoseVdb)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace dosemap

BENCHMARK_MAIN();
