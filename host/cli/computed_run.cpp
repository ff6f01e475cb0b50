#include "host/cli/computed_run.h"

#include "host/cli/thread_budget.h"
#include "host/common/progress.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/output_files.h"
#include "host/outputs/point_positions.h"
#include "host/outputs/points_h5.h"
#include "host/outputs/run_writer.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/transport_params.h"

namespace dosemap {

ComputedRun compute_run(std::shared_ptr<const SceneSetup> setup_ptr, std::shared_ptr<const VoxelGrid> grid_ptr,
                        const RunComputeOptions& options, PhaseClock since_setup) {
  const ThreadBudget budget(options.engine.threads);
  ComputedRun run;
  run.setup = std::move(setup_ptr);
  run.whole = since_setup;
  run.threads = options.engine.threads;
  const SceneSetup& setup = *run.setup;
  const Scene& scene = setup.scene;
  const MaterialTable& materials = setup.materials;
  const Timeline& timeline = setup.timeline;
  PhaseClock clock = since_setup;
  auto stage_done = [&](const char* name) { run.stages.emplace_back(name, clock.lap()); };
  // The stages after the engine's, for a progress line or callback (and a stop point each).
  Progress* progress = options.engine.progress;
  auto stage_begins = [&](const char* name) {
    if (progress) progress->start(name, 1);
  };

  const TransportParams params = make_transport_params(materials, std::move(grid_ptr), scene.beam, scene.sample.stage,
                                                       threshold_scale(scene), setup.frame_times_s);
  run.grid = params.grid;
  const VoxelGrid& grid = *run.grid;
  stage_done("setup");
  run.results = compute_dose(params, timeline, options.engine);
  DoseResults& results = run.results;
  run.stages.emplace_back("state", results.state);
  run.stages.emplace_back("history", results.history);
  run.stages.emplace_back("march", results.march);
  clock.restart();
  stage_begins("statistics");
  run.stats = std::make_unique<RunStatistics>(compute_statistics(materials, grid, results, options.engine.threads));
  const RunStatistics& stats = *run.stats;
  stage_done("statistics");
  check_run_invariants(results, stats);

  std::optional<PeakConvergence> convergence;
  if (options.convergence && stats.dose_max_voxel >= 0) {
    stage_begins("convergence");
    convergence = estimate_peak_convergence(scene, materials, grid, timeline, results, stats.dose_max_voxel,
                                            options.engine);
    stage_done("convergence");
  }

  run.record = std::make_unique<RunRecord>(scene, materials, setup.geometry, timeline, stats);
  RunRecord& record = *run.record;
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
  record.frame_times_s = setup.frame_times_s;

  stage_begins("curves and points");
  run.curves = most_dosed_voxel_curves(scene, grid, timeline, stats, results);
  record.point_positions = point_positions(scene, materials, grid, timeline, results);
  run.points = std::make_unique<PointTable>(point_table(scene, materials, grid, timeline, results, options.engine.threads));
  record.point_rows = run.points->rows();
  record.points_not_built = run.points->not_built;
  stage_done("curves_and_positions");
  if (progress) progress->finish();
  return run;
}

void write_run(ComputedRun& run, RunDirectory& out, const RunWriteOptions& options) {
  const ThreadBudget budget(run.threads);
  const SceneSetup& setup = *run.setup;
  RunRecord& record = *run.record;
  PhaseList stages = run.stages;
  RunWriteInputs write{setup.scene, setup.materials, *run.grid, setup.timeline, setup.frame_times_s, run.curves,
                       options.write_vdb, options.write_vti, options.progress, options.crop_vti};
  const ViewerFiles viewers =
      write_run_files(out, write, run.results, run.stats->dose_max_Gy, /*release_as_written=*/!options.keep_results);
  stages.insert(stages.end(), viewers.phases.begin(), viewers.phases.end());
  PhaseClock clock;
  record.dosed_region = viewers.dosed;
  record.vti_box = viewers.vti_box;
  record.vti_cropped = options.crop_vti;
  record.preview_factor = viewers.preview_factor;
  record.preview = viewers.preview;
  // The HDF5 image of points.h5 is built in memory: written once the results are freed (the
  // CLI), then the table is freed too unless kept.
  stop_point(options.progress);
  if (run.points->not_built.empty()) {
    out.write_file("points.csv", [&](CheckedFile& f) { write_points_csv(*run.points, f.stream()); });
    out.write_file("points.h5", [&](CheckedFile& f) { write_points_h5(*run.points, f.stream()); });
  }
  if (!options.keep_results) run.points.reset();
  record.files = out.files();
  record.files.push_back("summary.json");
  stages.emplace_back("write_points", clock.lap());
  record.stages = stages;
  record.total = run.whole.elapsed();
  stop_point(options.progress);  // the last: then the run is committed whole
  out.write_file("summary.json", [&](CheckedFile& f) { f.stream() << summary_json(record); });
  out.commit();
}

}  // namespace dosemap
