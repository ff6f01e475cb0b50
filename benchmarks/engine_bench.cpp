// Micro-benchmarks of the three costly stages of `dosemap run`, on the benchmark scene
// (scenes/bench_pouch.toml): the column march (voxels/s), the footprint accumulation that
// builds the per-column fluence histories (cells/s), and writing dose.vdb (voxels/s).
// Run through `make bench`; figures go to benchmarks/RESULTS.md with the machine.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdio>
#include <filesystem>
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
  BulkVector<float> dose(v), peak(v), mean(v), cross(v * p.n_thresholds), comp(v * p.n_component_grids),
      slots(g.columns() * p.n_slots * p.n_thresholds);
  std::vector<double> energy(g.columns() * 4), fluence(g.columns());
  DoseState out{dose.data(), peak.data(), mean.data(), cross.data(), comp.data(), slots.data(), nullptr,
                energy.data(), fluence.data()};
  clear_state_cpu(p, out, v, g.columns(), threads);  // first touch outside the timing
  for (auto _ : state) march_rays_cpu(p, b.lattice, b.grid.material.data(), h.view(), out, threads, nullptr);
  state.SetItemsProcessed(state.iterations() * v);
  // Bytes the march must move: the material grid read, every per-voxel output written.
  const double bytes_per_voxel = 2.0 + 4.0 * (3 + p.n_thresholds + p.n_component_grids);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * v * bytes_per_voxel));
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
BENCHMARK(BM_WriteDoseVdb)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace dosemap

BENCHMARK_MAIN();
