// `dosemap run` in two steps over one ComputedRun: compute (the dose engine, the statistics,
// the dose curves, point positions and the per-visit table, all in memory) and write (the
// result files, summary.json, committed all or nothing). The CLI computes then writes,
// freeing each array as it is written; the Python package (host/python) keeps the arrays
// as the NumPy arrays it returns and writes the same files on request.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/scene_setup.h"
#include "host/common/phase_clock.h"
#include "host/outputs/dose_curves.h"
#include "host/outputs/dose_statistics.h"
#include "host/outputs/point_table.h"
#include "host/outputs/run_summary.h"
#include "host/transport/dose_engine.h"
#include "host/transport/peak_convergence.h"

namespace dosemap {

class Progress;
class RunDirectory;

struct ComputedRun {
  std::shared_ptr<const SceneSetup> setup;
  std::shared_ptr<const VoxelGrid> grid;
  DoseResults results;
  // Behind pointers: the record refers to them, and a ComputedRun moves.
  std::unique_ptr<RunStatistics> stats;
  std::unique_ptr<RunRecord> record;  // summary.json's content, less the files and timings of the writing
  std::vector<DoseCurve> curves;
  std::unique_ptr<PointTable> points;
  PhaseClock whole;  // from the start of the set-up
  PhaseList stages;  // setup, state, history, march, statistics, ...
  int threads = 0;   // the CPU threads asked for (0: every core), for the writing too
};

struct RunComputeOptions {
  EngineOptions engine;
  bool convergence = false;  // estimate the peak dose's voxel-size error (halved voxels)
};

// Computes the run of a scene `check` accepted, on its voxelized grid. `since_setup` was
// started when the set-up began: the run's "setup" phase and its total count from there.
ComputedRun compute_run(std::shared_ptr<const SceneSetup> setup, std::shared_ptr<const VoxelGrid> grid,
                        const RunComputeOptions& options, PhaseClock since_setup);

struct RunWriteOptions {
  bool write_vdb = true, write_vti = false;
  bool crop_vti = true;  // run --crop auto
  Progress* progress = nullptr;
  // true: the results stay whole (the caller still reads them); false: each array is freed
  // as its grids are written (the CLI: a lower peak).
  bool keep_results = false;
};

// Writes the run's files into `out` (summary.json last) and commits them.
void write_run(ComputedRun& run, RunDirectory& out, const RunWriteOptions& options);

}  // namespace dosemap
