// `dosemap plan SCENE --limit NAME=DOSE_Gy [--rate-limit NAME=GY_S] [--optimize dwell|pattern]
// [-o DIR]`: the plan (computed_plan.h) written to DIR/plan.json and DIR/planned.toml, its
// report printed, and for a pattern search DIR/pareto.png drawn from plan.json.
#include <filesystem>
#include <iostream>

#include "host/cli/commands.h"
#include "host/cli/computed_plan.h"
#include "host/cli/scene_setup.h"
#include "host/common/progress.h"
#include "host/outputs/output_files.h"

namespace dosemap {

int plan_command(const PlanOptions& o, std::ostream& out) {
  auto setup = std::make_shared<const SceneSetup>(set_up_scene(o.scene, WorkLimits{}, o.threads));
  refuse_if_short_of_memory(*setup);
  const PlanJob job = prepare_plan(setup, o);
  const std::string dir =
      o.output_dir.empty()
          ? (std::filesystem::path("out") / (std::filesystem::path(setup->scene.path).stem().string() + "_plan")).string()
          : o.output_dir;
  RunDirectory out_dir(dir, o.overwrite);
  Progress progress(stderr_is_terminal());
  const ComputedPlan plan = compute_plan(job, &progress);
  progress.clear();
  write_plan(plan, out_dir);

  out << plan.report << "\n" << plan_files_line(plan, dir) << "\n";
  if (plan.pattern) {
    // The figure, drawn from plan.json by the plotting script; the plan stands without it.
    try {
      run_plot_script(dir, {}, out);  // prints DIR/pareto.png
    } catch (const std::exception& e) {
      std::cerr << "dosemap plan: warning: pareto.png not drawn: " << e.what() << "\n";
    }
  }
  return 0;
}

}  // namespace dosemap
