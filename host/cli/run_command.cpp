// `dosemap run SCENE [-o DIR]`: validate everything, refuse what cannot fit, compute, then
// write dose.vdb and summary.json (each complete or not at all) and print the report.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "host/cli/commands.h"
#include "host/common/progress.h"
#include "host/common/text.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/outputs/dose_statistics.h"
#include "host/outputs/dose_curves.h"
#include "host/outputs/output_files.h"
#include "host/outputs/run_writer.h"
#include "host/outputs/run_summary.h"
#include "host/scene/scene_reader.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/run_memory.h"

namespace dosemap {

namespace {

// Refuses a run whose estimated peak memory exceeds 90 % of what is available, naming the
// estimate and a lateral voxel size that would fit.
void check_memory(const Scene& scene, const GridGeometry& g, const RunMemory& mem) {
  const double available = available_memory_bytes();
  if (available <= 0 || mem.peak_bytes() <= 0.9 * available) return;
  // Most of the need scales with the number of columns: coarsen x and y by the smallest
  // factor n that fits and keeps the lateral extent a whole number of voxels.
  const double need = mem.peak_bytes() / (0.9 * available);
  const int64_t n_min = static_cast<int64_t>(std::ceil(std::sqrt(need)));
  std::string fix = "use voxels about " + std::to_string(n_min) + " times larger in x and y, or a smaller lateral_um";
  for (int64_t n = std::max<int64_t>(2, n_min); n <= std::min(g.dims[0], g.dims[1]); ++n) {
    if (g.dims[0] % n || g.dims[1] % n) continue;
    fix = "use voxel_um = [" + fmt_g(g.voxel_um[0] * n, 6) + ", " + fmt_g(g.voxel_um[1] * n, 6) + ", " +
          fmt_g(g.voxel_um[2], 6) + "] (about " + human_bytes(mem.peak_bytes() / (double(n) * n)) +
          "), or a smaller lateral_um";
    break;
  }
  throw UserError(scene.sample.voxel_where,
                  "the run needs about " + human_bytes(mem.peak_bytes()) + " of memory (" + group_digits(g.voxels()) +
                      " voxels x " + std::to_string(mem.result_grids) + " grids) but only " + human_bytes(available) +
                      " is available",
                  fix);
}

Backend parse_backend(const std::string& s) {
  if (s == "cpu") return Backend::kCpu;
  if (s == "cuda") return Backend::kCuda;
  return Backend::kAuto;
}

}  // namespace

int run_command(const RunOptions& o, std::ostream& out) {
  const auto t0 = std::chrono::steady_clock::now();
  auto lap = t0;
  std::vector<std::pair<std::string, double>> stages;
  auto stage_done = [&](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    stages.emplace_back(name, std::chrono::duration<double>(now - lap).count());
    lap = now;
  };
  // Everything a user can get wrong is checked before anything is computed or written.
  const Scene scene = read_scene(o.scene);
  const MaterialTable materials = resolve_materials(scene);
  const GridGeometry geometry = grid_geometry(scene);
  validate_shapes(scene, geometry);
  const Timeline timeline = expand_scan(scene);
  const std::vector<double> frames = frame_times(scene, timeline);
  const BeamProfile beam = make_beam_profile(scene.beam);
  const RunMemory mem = estimate_run_memory(scene, geometry, plan_size(timeline, beam, geometry), frames.size());
  check_memory(scene, geometry, mem);
  bool write_vdb = scene.output.write_vdb, write_vti = scene.output.write_vti;
  if (!o.formats.empty()) {
    write_vdb = write_vti = false;
    for (const auto& f : o.formats) (f == "vti" ? write_vti : write_vdb) = true;
  }
  const std::string dir =
      o.output_dir.empty() ? (std::filesystem::path("out") / std::filesystem::path(scene.path).stem()).string() : o.output_dir;
  check_output_dir(dir, o.overwrite);

  const VoxelGrid grid = voxelize(scene);
  stage_done("setup");
  Progress progress(stderr_is_terminal());
  EngineOptions options;
  options.backend = parse_backend(o.backend);
  options.threads = o.threads;
  options.progress = &progress;
  DoseResults results = compute_dose({scene, materials, grid, timeline, frames}, options);
  stages.emplace_back("history", results.seconds_history);
  stages.emplace_back("march", results.seconds_march);
  lap = std::chrono::steady_clock::now();
  const RunStatistics stats = compute_statistics(scene, materials, grid, results, o.threads);
  stage_done("statistics");

  // The march's double-precision total and the float grids' must agree: a check on both.
  const double dep_march = results.energy.deposited_J, dep_grid = stats.deposited_J;
  DOSEMAP_BUG_CHECK(std::fabs(dep_march - dep_grid) <= 1e-5 * std::max(std::fabs(dep_march), 1e-300) + 1e-300,
                    "deposited energy of the march and of the dose grid differ");

  RunRecord record(scene, materials, geometry, timeline, stats);
  record.backend = results.backend;
  record.device = results.device;
  record.version = DOSEMAP_VERSION;
  record.energy = results.energy;
  record.energy.deposited_J = dep_grid;
  record.sub_exposures = results.sub_exposures;
  record.fluence_events = results.fluence_events;
  record.component_grids = results.tables.component_grid_names;

  const std::vector<DoseCurve> curves = most_dosed_voxel_curves(scene, materials, geometry, timeline, stats, results);
  stage_done("dose_curves");
  create_output_dir(dir);
  RunWriteInputs write{scene, materials, grid, timeline, frames, curves, write_vdb, write_vti, &progress};
  record.files = write_run_files(dir, write, std::move(results), stats.dose_max_Gy);
  record.frame_times_s = frames;
  stage_done("write_files");
  record.stage_seconds = stages;
  record.seconds_total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_atomically((std::filesystem::path(dir) / "summary.json").string(), [&](const std::string& tmp) {
    std::ofstream f(tmp);
    f << summary_json(record);
    f.close();
    if (!f) throw UserError(SourcePos{tmp, 0, 0}, "cannot write summary", "check free disk space");
  });
  progress.clear();
  print_run_report(record, dir, out);
  return 0;
}

}  // namespace dosemap
