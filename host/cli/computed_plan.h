// `dosemap plan` in three steps, as `dosemap run` (computed_run.h): prepare (the request
// checked against its scene and the judged scene voxelized: every mistake found before an
// output directory is touched), compute (one run of the engine, the inverse dose, a dwell
// plan or a pattern search; plan.json and planned.toml as text, and the report), write
// (the files, committed all or nothing). The CLI prints the report; the Python package's
// dosemap.plan returns it all as a Plan.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/cli/commands.h"
#include "host/cli/scene_setup.h"
#include "host/plan/limited_rays.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

class Progress;
class RunDirectory;

// A plan request accepted for its scene.
struct PlanJob {
  std::shared_ptr<const SceneSetup> setup;
  std::vector<DoseLimit> limits, rate_limits;
  bool dwell = false, pattern = false;  // --optimize
  double max_dwell_scale = 10, rate_window_s = 60;
  int threads = 0;
  Backend backend = Backend::kAuto;
  Scene judged;  // the scene with each dose limit as its material's threshold
  std::shared_ptr<const VoxelGrid> grid;
};

// Throws UserError (as `dosemap plan` reports it) for a request the scene cannot take.
// `o.scene` and `o.output_dir` are not used.
PlanJob prepare_plan(std::shared_ptr<const SceneSetup> setup, const PlanOptions& o);

struct ComputedPlan {
  std::shared_ptr<const SceneSetup> setup;
  std::string plan_json;     // plan.json's text
  std::string planned_toml;  // planned.toml's text; empty when there is none ...
  std::string not_planned;   // ... and why
  std::string planned_what;  // what planned.toml holds, for the report's last line
  std::string report;        // the tables `dosemap plan` prints, before the files' line
  bool pattern = false;      // pareto.png can be drawn from plan.json
};

// `note`: the engine's notes (EngineOptions::note; unset: on stderr).
ComputedPlan compute_plan(const PlanJob& job, Progress* progress,
                          const std::function<void(const std::string&)>& note = {});

// plan.json and planned.toml (if any) into `out`, committed.
void write_plan(const ComputedPlan& plan, RunDirectory& out);

// The report's last line: where the files are (dir/plan.json, dir/planned.toml (...)).
std::string plan_files_line(const ComputedPlan& plan, const std::string& dir);

}  // namespace dosemap
