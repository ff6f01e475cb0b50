// What the planner's tests share: `dosemap plan` on a scene given as text, with plan.json
// read back, and a material's largest dose in a run.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap::test {

// The largest dose (or dose to component grid `component_grid`) among `name`'s voxels.
inline double material_max(const EngineRun& run, const std::string& name, int component_grid = -1) {
  const int m = run.scene.material_index(name);
  double best = 0;
  for (int64_t v = 0; v < run.g().voxels(); ++v)
    if (run.grid->material[v] == m)
      best = std::max(best, static_cast<double>(component_grid < 0 ? run.results.dose_Gy[v]
                                                                   : run.results.component_dose(component_grid)[v]));
  return best;
}

struct PlanRun {
  ScratchDir dir;
  CommandResult result;
  nlohmann::json json;  // plan.json when the plan succeeded
  std::filesystem::path planned() const { return dir / "plan" / "planned.toml"; }
};

// `dosemap plan s.toml -o plan --threads 2 ARGS...` in a scratch directory.
inline std::unique_ptr<PlanRun> run_plan(const std::string& text, const std::vector<std::string>& args) {
  auto p = std::make_unique<PlanRun>();
  write_file(p->dir / "s.toml", text);
  std::vector<std::string> cmd{"plan", (p->dir / "s.toml").string(), "-o", (p->dir / "plan").string(), "--threads", "2"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  p->result = run_dosemap(cmd);
  if (p->result.exit_code == 0) p->json = nlohmann::json::parse(read_file(p->dir / "plan" / "plan.json"));
  return p;
}

// `dosemap plan` refuses: exit code 2, `message` on stderr, no plan directory written.
inline void expect_plan_refused(const std::string& text, const std::vector<std::string>& args, const std::string& message) {
  SCOPED_TRACE(message);
  auto p = run_plan(text, args);
  EXPECT_EQ(p->result.exit_code, 2) << p->result.err;
  EXPECT_NE(p->result.err.find(message), std::string::npos) << p->result.err;
  EXPECT_FALSE(std::filesystem::exists(p->dir / "plan"));
}

}  // namespace dosemap::test
