// summary.json and the stdout report of a run: the numbers a beamline scientist acts on.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "host/common/phase_clock.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/outputs/dose_statistics.h"
#include "host/outputs/point_positions.h"
#include "host/outputs/viewer_grids.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"
#include "host/transport/peak_convergence.h"

namespace dosemap {

// What a run knows besides its grids, gathered for the summary and the report.
struct RunRecord {
  RunRecord(const Scene& s, const MaterialTable& m, const GridGeometry& g, const Timeline& t, const RunStatistics& st)
      : scene(s), materials(m), geometry(g), timeline(t), stats(st) {}
  const Scene& scene;
  const MaterialTable& materials;
  const GridGeometry& geometry;
  const Timeline& timeline;
  const RunStatistics& stats;
  std::string backend, device, version;
  EnergyBalance energy;  // deposited_J taken from the statistics (the float grids)
  int64_t sub_exposures = 0, fluence_events = 0;
  int64_t poses = 0, voxel_updates = 0;  // blocks at one stage pose; voxel visits of the marches
  PhaseSeconds total;
  // Wall-clock and CPU seconds per stage: setup, state, history, march, statistics, ...,
  // each part of the writing.
  PhaseList stages;
  std::vector<std::string> component_grids;
  std::vector<std::string> files;      // written, relative to the run directory
  std::vector<double> frame_times_s;   // cumulative-dose frames
  std::vector<PointPosition> point_positions;  // summary.json keeps the first kSummaryPositions
  // The per-visit table (points.csv): its rows, or why it was not built.
  size_t point_rows = 0;
  std::string points_not_built;
  std::optional<PeakConvergence> convergence;  // run --convergence
  // For viewers: the dosed region, the voxels of dose.vti, the preview (factor 1: none).
  IndexBox dosed_region, vti_box;
  bool vti_cropped = false;
  int preview_factor = 1;
  GridGeometry preview;
};

// summary.json lists at most this many point positions (the rest: points.csv, one row per
// visit), so that a scan of 1e5 jittered points keeps a small summary.
inline constexpr size_t kSummaryPositions = 100;

// summary.json (docs/scene-format.md, with dosemap's additions documented in README).
std::string summary_json(const RunRecord& run);

// The readable report: per material and component, dose, rates, thresholds; energy balance.
void print_run_report(const RunRecord& run, const std::string& output_dir, std::ostream& out);

}  // namespace dosemap
