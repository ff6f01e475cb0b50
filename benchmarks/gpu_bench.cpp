// GPU benchmark harness (make bench-gpu; built only with the CUDA backend). First measures
// the device's copy bandwidth, then for each scene times the footprint accumulation, the
// column march and the whole transport (everything `dosemap run` does but writing files)
// on the GPU, reports the march's achieved bytes/s as a fraction of the copy bandwidth, and
// times the CPU backend on all cores of the same machine for the speed-up.
// Targets (issue 4): march >= 50 % of copy bandwidth; whole run >= 20x the CPU backend.
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

void bench_scene(const std::string& path, double copy_bandwidth, bool with_cpu) {
  const Scene scene = read_scene(path);
  const MaterialTable materials = resolve_materials(scene);
  const Timeline timeline = expand_scan(scene);
  const TransportParams params = make_transport_params(materials, std::make_shared<const VoxelGrid>(voxelize(scene)),
                                                       scene.beam, scene.sample.stage, scene.output.thresholds);
  const GridGeometry& g = params.geometry();
  std::printf("\n== %s\n   %lld x %lld x %lld voxels, %zu exposures\n", path.c_str(), (long long)g.dims[0],
              (long long)g.dims[1], (long long)g.dims[2], timeline.exposures.size());
  EngineOptions o;
  o.backend = Backend::kCuda;
  auto t0 = std::chrono::steady_clock::now();
  DoseResults gpu = compute_dose(params, timeline, o);
  const double gpu_total = seconds_since(t0);
  const MarchParams p = gpu.tables.params();
  // The bytes the march must move: the material read, every per-voxel output written.
  const double bytes_per_voxel = 2.0 + 4.0 * (3 + p.n_thresholds + p.n_component_grids);
  const double march_bw = g.voxels() * bytes_per_voxel / gpu.seconds_march;
  std::printf("   GPU (%s)\n", gpu.device.c_str());
  std::printf("     footprints + sort + cumulative fluence: %.3f s (%lld events, %.3g events/s)\n", gpu.seconds_history,
              (long long)gpu.fluence_events, gpu.fluence_events / gpu.seconds_history);
  std::printf("     column march: %.3f s, %.3g voxels/s, %.1f GB/s = %.0f %% of copy bandwidth (target >= 50 %%)\n",
              gpu.seconds_march, g.voxels() / gpu.seconds_march, march_bw / 1e9, 100 * march_bw / copy_bandwidth);
  std::printf("     whole transport (no file writing): %.3f s\n", gpu_total);
  if (!with_cpu) return;
  o.backend = Backend::kCpu;
  t0 = std::chrono::steady_clock::now();
  DoseResults cpu = compute_dose(params, timeline, o);
  const double cpu_total = seconds_since(t0);
  std::printf("   CPU (%s): footprints %.3f s, march %.3f s, whole transport %.3f s\n", cpu.device.c_str(),
              cpu.seconds_history, cpu.seconds_march, cpu_total);
  std::printf("   speed-up GPU vs CPU, whole transport: %.1fx (target >= 20x)\n", cpu_total / gpu_total);
  double worst = 0;
  for (int64_t v = 0; v < cpu.voxels; ++v) {
    const double a = cpu.dose_Gy[v], b = gpu.dose_Gy[v];
    if (a > 0) worst = std::max(worst, std::fabs(a - b) / a);
  }
  std::printf("   largest relative dose difference CPU vs GPU: %.2g\n", worst);
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!cuda_backend_usable(why)) {
    std::printf("no GPU usable (%s): nothing to benchmark\n", why.c_str());
    return 0;
  }
  try {
    const double bw = cuda_copy_bandwidth(size_t(1) << 31);
    std::printf("device-to-device copy bandwidth: %.0f GB/s (bytes read + written)\n", bw / 1e9);
    std::printf("CPU threads for the comparison: %d\n", omp_get_max_threads());
    const std::string dir = DOSEMAP_SOURCE_DIR "/scenes/";
    bench_scene(dir + "bench_pouch.toml", bw, true);
    bench_scene(dir + "bench_gpu_1024.toml", bw, true);
    if (argc < 2 || std::string(argv[1]) != "--no-slabs") bench_scene(dir + "bench_gpu_slabs.toml", bw, false);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
