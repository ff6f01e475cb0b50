// `dosemap run SCENE [-o DIR]`: validate everything, refuse what cannot fit, compute, then
// write dose.vdb and summary.json (each complete or not at all) and print the report.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "host/cli/commands.h"
#include "host/cli/scene_setup.h"
#include "host/cli/scene_warnings.h"
#include "host/common/progress.h"
#include "host/common/text.h"
#include "host/outputs/dose_statistics.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/dose_curves.h"
#include "host/outputs/output_files.h"
#include "host/outputs/point_table.h"
#include "host/outputs/points_h5.h"
#include "host/outputs/run_writer.h"
#include "host/outputs/run_summary.h"
#include "host/transport/dose_engine.h"
#include "host/transport/peak_convergence.h"

namespace dosemap {

namespace {

Backend parse_backend(const std::string& s) {
  if (s == "cpu") return Backend::kCpu;
  if (s == "cuda") return Backend::kCuda;
  return Backend::kAuto;
}

}  // namespace

int run_command(const RunOptions& o, std::ostream& out) {
  const PhaseClock whole;
  PhaseClock clock;
  PhaseList stages;
  auto stage_done = [&](const char* name) { stages.emplace_back(name, clock.lap()); };
  // Everything a user can get wrong is checked before anything is computed or written.
  const SceneSetup setup = set_up_scene(o.scene, WorkLimits{}, o.threads);
  const Scene& scene = setup.scene;
  const MaterialTable& materials = setup.materials;
  const GridGeometry& geometry = setup.geometry;
  const Timeline& timeline = setup.timeline;
  const std::vector<double>& frames = setup.frame_times_s;
  refuse_if_short_of_memory(setup);
  if (o.convergence)
    if (auto why = convergence_not_possible(scene, timeline, geometry)) throw UserError({*why});
  // Valid but doubtful (unit slips, voxels too coarse for the beam): said, not refused.
  for (const Diagnostic& w : scene_warnings(setup)) std::cerr << w.format("warning") << "\n";
  bool write_vdb = scene.output.write_vdb, write_vti = scene.output.write_vti;
  if (!o.formats.empty()) {
    write_vdb = write_vti = false;
    for (const auto& f : o.formats) (f == "vti" ? write_vti : write_vdb) = true;
  }
  const std::string dir =
      o.output_dir.empty() ? (std::filesystem::path("out") / std::filesystem::path(scene.path).stem()).string() : o.output_dir;
  // A label volume is read (and every label checked) before the output directory exists.
  auto grid_built = std::make_shared<const VoxelGrid>(voxelize(scene));
  // Locked, writable and free of an earlier run (or --overwrite) before anything is
  // computed; results are staged in it and committed at the end, all or nothing.
  RunDirectory out_dir(dir, o.overwrite);

  const TransportParams params = make_transport_params(materials, std::move(grid_built), scene.beam, scene.sample.stage,
                                                       threshold_scale(scene), frames);
  const VoxelGrid& grid = *params.grid;
  stage_done("setup");
  Progress progress(stderr_is_terminal());
  EngineOptions options;
  options.backend = parse_backend(o.backend);
  options.threads = o.threads;
  options.progress = &progress;
  DoseResults results = compute_dose(params, timeline, options);
  stages.emplace_back("state", results.state);
  stages.emplace_back("history", results.history);
  stages.emplace_back("march", results.march);
  clock.restart();
  const RunStatistics stats = compute_statistics(materials, grid, results, o.threads);
  stage_done("statistics");
  check_run_invariants(results, stats);

  std::optional<PeakConvergence> convergence;
  if (o.convergence && stats.dose_max_voxel >= 0) {
    convergence = estimate_peak_convergence(scene, materials, grid, timeline, results, stats.dose_max_voxel, options);
    stage_done("convergence");
  }

  RunRecord record(scene, materials, geometry, timeline, stats);
  record.convergence = convergence;
  record.backend = results.backend;
  record.device = results.device;
  record.version = DOSEMAP_VERSION;
  record.energy = results.energy;
  record.energy.deposited_J = stats.deposited_J;
  record.sub_exposures = results.sub_exposures;
  record.fluence_events = results.fluence_events;
  record.poses = results.poses;
  record.voxel_updates = results.voxel_updates;
  record.component_grids = results.tables.component_grid_names;

  const std::vector<DoseCurve> curves = most_dosed_voxel_curves(scene, grid, timeline, stats, results);
  record.point_positions = point_positions(scene, materials, grid, timeline, results);
  // Built while the results exist, written once they are freed (its HDF5 image is built in
  // memory), then freed.
  auto points = std::make_unique<PointTable>(point_table(scene, materials, grid, timeline, results, o.threads));
  record.point_rows = points->rows();
  record.points_not_built = points->not_built;
  stage_done("curves_and_positions");
  RunWriteInputs write{scene, materials, grid, timeline, frames, curves, write_vdb, write_vti, &progress, o.crop == "auto"};
  const ViewerFiles viewers = write_run_files(out_dir, write, std::move(results), stats.dose_max_Gy);
  stages.insert(stages.end(), viewers.phases.begin(), viewers.phases.end());
  clock.restart();
  record.dosed_region = viewers.dosed;
  record.vti_box = viewers.vti_box;
  record.vti_cropped = write.crop_vti;
  record.preview_factor = viewers.preview_factor;
  record.preview = viewers.preview;
  if (points->not_built.empty()) {
    out_dir.write_file("points.csv", [&](CheckedFile& f) { write_points_csv(*points, f.stream()); });
    out_dir.write_file("points.h5", [&](CheckedFile& f) { write_points_h5(*points, f.stream()); });
  }
  points.reset();
  record.files = out_dir.files();
  record.files.push_back("summary.json");
  record.frame_times_s = frames;
  stage_done("write_points");
  record.stages = stages;
  record.total = whole.elapsed();
  out_dir.write_file("summary.json", [&](CheckedFile& f) { f.stream() << summary_json(record); });
  out_dir.commit();
  progress.clear();
  print_run_report(record, dir, out);
  return 0;
}

}  // namespace dosemap
