// GPU benchmark harness (make bench-gpu, tools/gpu-check; built only with the CUDA backend).
// First measures the device's copy bandwidth, then for each bench scene times the fluence
// histories, the march (the column march of a beam along +z, the rotated pass of an XRD-CT)
// and the whole transport (everything `dosemap run` does but writing files) on the GPU,
// reports each pass's bytes/s as a fraction of the copy bandwidth, times the CPU backend on
// all cores of the same machine for the speed-up, and compares every grid of the two.
// Targets (issue 10): march and rotated pass >= 50 % of copy bandwidth; whole run >= 20x the
// CPU backend; every grid within 1e-5 relative.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "host/common/errors.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene_reader.h"
#include "host/timeline/timeline.h"
#include "host/transport/cuda_backend.h"
#include "host/transport/dose_engine.h"

using namespace dosemap;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Largest relative difference between two grids, over the voxels where either value is
// above 1e-9 of the grid's largest (crossing times: where both are reached; a time reached
// on one backend and not the other counts as a difference of 1).
double worst_relative(const float* a, const float* b, int64_t n, bool times) {
  double top = 0;
  for (int64_t v = 0; v < n; ++v) top = std::max({top, std::fabs((double)a[v]), std::fabs((double)b[v])});
  double worst = 0;
  for (int64_t v = 0; v < n; ++v) {
    if (times && (a[v] < 0) != (b[v] < 0)) {
      worst = std::max(worst, 1.0);
      continue;
    }
    const double m = std::max(std::fabs((double)a[v]), std::fabs((double)b[v]));
    if (m > 1e-9 * top) worst = std::max(worst, std::fabs((double)a[v] - (double)b[v]) / m);
  }
  return worst;
}

// Prints the CPU/GPU difference of every grid; returns the largest.
double print_parity(const DoseResults& cpu, const DoseResults& gpu) {
  struct Grid {
    const char* name;
    const BulkVector<float>& a;
    const BulkVector<float>& b;
    bool times;
  } grids[] = {{"dose", cpu.dose_Gy, gpu.dose_Gy, false},
               {"peak rate", cpu.rate_peak_Gy_s, gpu.rate_peak_Gy_s, false},
               {"mean rate", cpu.rate_mean_Gy_s, gpu.rate_mean_Gy_s, false},
               {"crossing times", cpu.crossing_s, gpu.crossing_s, true},
               {"component doses", cpu.component_dose_Gy, gpu.component_dose_Gy, false},
               {"frames", cpu.frame_dose_Gy, gpu.frame_dose_Gy, false},
               {"first crossings per column", cpu.slot_first_crossing_s, gpu.slot_first_crossing_s, true}};
  double all = 0;
  std::printf("   parity CPU vs GPU, largest relative difference per grid (target <= 1e-5):\n");
  for (const Grid& g : grids) {
    if (g.a.size() != g.b.size()) {
      std::printf("     %-28s sizes differ (%zu vs %zu)\n", g.name, g.a.size(), g.b.size());
      all = std::max(all, 1.0);
      continue;
    }
    if (g.a.empty()) continue;
    const double w = worst_relative(g.a.data(), g.b.data(), static_cast<int64_t>(g.a.size()), g.times);
    std::printf("     %-28s %.2g%s\n", g.name, w, w > 1e-5 ? "  <-- above target" : "");
    all = std::max(all, w);
  }
  return all;
}

// Returns the largest CPU/GPU difference (0 without the CPU comparison).
double bench_scene(const std::string& path, double copy_bandwidth, bool with_cpu) {
  const Scene scene = read_scene(path);
  const MaterialTable materials = resolve_materials(scene);
  const Timeline timeline = expand_scan(scene);
  const TransportParams params = make_transport_params(materials, std::make_shared<const VoxelGrid>(voxelize(scene)),
                                                       scene.beam, scene.sample.stage, threshold_scale(scene));
  const GridGeometry& g = params.geometry();
  std::printf("\n== %s\n   %lld x %lld x %lld voxels, %zu exposures\n", path.c_str(), (long long)g.dims[0],
              (long long)g.dims[1], (long long)g.dims[2], timeline.exposures.size());
  EngineOptions o;
  o.backend = Backend::kCuda;
  auto t0 = std::chrono::steady_clock::now();
  DoseResults gpu = compute_dose(params, timeline, o);
  const double gpu_total = seconds_since(t0);
  const MarchParams p = gpu.tables.params();
  // The bytes a pass must move at least. One block (a beam along +z): the material read and
  // every per-voxel output written once. Several poses: per voxel and pose, the material
  // read and the running state (dose, peak rate, mean-rate sum, component doses) read and
  // written.
  const bool turned = gpu.poses > 1;
  const double bytes_per_update = turned ? 2.0 + 2 * 4.0 * (3 + p.n_component_grids)
                                         : 2.0 + 4.0 * (3 + p.n_thresholds + p.n_component_grids);
  const double march_bw = gpu.voxel_updates * bytes_per_update / gpu.march.wall;
  // The histories: per event its sub-exposure index and fluence written, grouped and summed.
  const double history_bw = gpu.fluence_events * 3 * 12.0 / gpu.history.wall;
  std::printf("   GPU (%s), %lld pose%s\n", gpu.device.c_str(), (long long)gpu.poses, gpu.poses == 1 ? "" : "s");
  std::printf("     fluence histories: %.3f s (%lld events, %.3g events/s, >= %.1f GB/s = %.0f %% of copy bandwidth)\n",
              gpu.history.wall, (long long)gpu.fluence_events, gpu.fluence_events / gpu.history.wall,
              history_bw / 1e9, 100 * history_bw / copy_bandwidth);
  std::printf("     %s: %.3f s, %.3g voxel updates/s, >= %.1f GB/s = %.0f %% of copy bandwidth (target >= 50 %%)\n",
              turned ? "rotated pass (march of every pose)" : "column march", gpu.march.wall,
              gpu.voxel_updates / gpu.march.wall, march_bw / 1e9, 100 * march_bw / copy_bandwidth);
  std::printf("     whole transport (no file writing): %.3f s\n", gpu_total);
  if (!with_cpu) return 0;
  o.backend = Backend::kCpu;
  t0 = std::chrono::steady_clock::now();
  DoseResults cpu = compute_dose(params, timeline, o);
  const double cpu_total = seconds_since(t0);
  std::printf("   CPU (%s): histories %.3f s, march %.3f s, whole transport %.3f s\n", cpu.device.c_str(),
              cpu.history.wall, cpu.march.wall, cpu_total);
  std::printf("   speed-up GPU vs CPU, whole transport: %.1fx (target >= 20x)\n", cpu_total / gpu_total);
  return print_parity(cpu, gpu);
}

}  // namespace

// Usage: dosemap_gpu_bench [--scenes DIR] [--no-slabs]. Exit code 1 when a CPU/GPU
// difference is above 1e-5 or the GPU run fails.
int main(int argc, char** argv) {
  std::string dir = DOSEMAP_SOURCE_DIR "/scenes";
  bool slabs = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--scenes" && i + 1 < argc) dir = argv[++i];
    else if (a == "--no-slabs") slabs = false;
    else {
      std::fprintf(stderr, "usage: dosemap_gpu_bench [--scenes DIR] [--no-slabs]\n");
      return 2;
    }
  }
  std::string why;
  if (!cuda_backend_usable(why)) {
    std::printf("no GPU usable (%s): nothing to benchmark\n", why.c_str());
    return 0;
  }
  try {
    const double bw = cuda_copy_bandwidth(size_t(1) << 31);
    std::printf("device-to-device copy bandwidth: %.0f GB/s (bytes read + written)\n", bw / 1e9);
    std::printf("CPU threads for the comparison: %d\n", omp_get_max_threads());
    double worst = 0;
    for (const char* name : {"bench_pouch", "bench_xrdct", "bench_gpu_1024"})
      worst = std::max(worst, bench_scene(dir + "/" + name + ".toml", bw, true));
    if (slabs) bench_scene(dir + "/bench_gpu_slabs.toml", bw, false);
    std::printf("\nlargest CPU/GPU difference over every grid and scene: %.2g (target <= 1e-5)\n", worst);
    return worst <= 1e-5 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_bench: %s\n", e.what());
    return 1;
  }
}
