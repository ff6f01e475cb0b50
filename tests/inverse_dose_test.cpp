// Inverse dose (`dosemap plan`, host/plan/inverse_dose.h): the uniform scale is limit / max
// dose, and a run of planned.toml reaches the limit without passing it; a step's own scale,
// applied to that step alone, brings the limited material exactly to its limit; rate limits
// scale the flux; component limits; turned scans say what is not built; bad limits are
// errors with exit code 2 and nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "host/common/text.h"
#include "host/plan/inverse_dose.h"
#include "tests/engine_harness.h"
#include "tests/plan_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using Json = nlohmann::json;

// Copper over the cathode composite with a copper block inside it under the middle point;
// three point steps of 1, 2 and 4 s.
std::string scene_text(bool turned = false) {
  return test::make_scene("[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
                          std::string("voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [80.0, 40.0]\n") +
                              (turned ? "[sample.stage]\naxis = \"y\"\n" : "") +
                              "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 4.0\n"
                              "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 20.0\n"
                              "[[sample.shapes]]\nkind = \"box\"\nmaterial = \"copper\"\ncenter_um = [0.0, 0.0, 14.0]\n"
                              "size_um = [6.0, 6.0, 4.0]\n",
                          "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"gaussian\"\nfwhm_um = [6.0, 6.0]\n",
                          std::string("[[scan.steps]]\nkind = \"point\"\nat_um = [-20.0, 0.0]\nexposure_s = 1.0\n"
                                      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 2.0\n"
                                      "[[scan.steps]]\nkind = \"point\"\nat_um = [20.0, 0.0]\nexposure_s = 4.0\n") +
                              (turned ? "angle_deg = 30.0\n" : ""));
}

using test::material_max;

std::unique_ptr<test::PlanRun> plan(const std::string& text, const std::vector<std::string>& args) {
  return test::run_plan(text, args);
}

TEST(InverseDose, UniformScaleIsLimitOverMaxDoseAndThePlannedSceneReachesItWithoutPassing) {
  auto run = test::run_engine(scene_text());
  const double limit = 2e5;
  auto p = plan(scene_text(), {"--limit", "cathode=2e5"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const double max = material_max(*run, "cathode");
  ASSERT_GT(max, 0);
  EXPECT_NEAR(p->json["uniform_scale"].get<double>(), limit / max, 1e-9 * limit / max);
  EXPECT_EQ(p->json["limits"][0]["max_Gy"].get<double>(), max);
  // The scene as written passes 200 kGy: it says when.
  EXPECT_GT(max, limit);
  EXPECT_GT(p->json["limits"][0]["first_reached_s"].get<double>(), 0.0);
  // planned.toml, run: the limit reached to 1e-6 and never passed.
  auto r = test::run_dosemap({"run", (p->dir / "plan" / "planned.toml").string(), "-o", (p->dir / "planned").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json summary = Json::parse(test::read_file(p->dir / "planned" / "summary.json"));
  const double reached = summary["materials"]["cathode"]["dose_max_Gy"].get<double>();
  EXPECT_LE(reached, limit);
  EXPECT_GE(reached, limit * (1 - 1e-6));
  EXPECT_NE(p->result.out.find("uniform scale"), std::string::npos) << p->result.out;
}

TEST(InverseDose, EachStepsOwnScaleBringsTheLimitedMaterialExactlyToItsLimit) {
  // A limit above every dose of the scene as written: each step alone may be lengthened, the
  // longest (4 s) the least, until the cathode under it reaches the limit.
  const auto base = test::run_engine(scene_text());
  const double limit = 1.5 * material_max(*base, "cathode");
  auto p = plan(scene_text(), {"--limit", "cathode=" + fmt_g(limit, 17)});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& steps = p->json["steps"];
  ASSERT_EQ(steps.size(), 3u);
  ASSERT_EQ(p->json["points"].size(), 3u);  // a point step is one point
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE(k);
    const double s = steps[k]["scale"].get<double>();
    EXPECT_GT(s, 1.0);
    EXPECT_EQ(p->json["points"][k]["scale"].get<double>(), s);
    EXPECT_EQ(steps[k]["binding"]["limit"], "cathode");
    Scene scaled = base->scene;
    scaled.scan.steps[k].exposure_s *= s;
    auto run = test::run_engine(scaled);
    const double max = material_max(*run, "cathode");
    EXPECT_LE(max, limit * (1 + 1e-6));
    EXPECT_GE(max, limit * (1 - 1e-6));
  }
  EXPECT_LT(steps[2]["scale"].get<double>(), steps[1]["scale"].get<double>());
  EXPECT_LT(steps[1]["scale"].get<double>(), steps[0]["scale"].get<double>());
  EXPECT_GT(p->json["uniform_scale"].get<double>(), 1.0);
}

TEST(InverseDose, RateLimitsScaleTheFluxAndComponentLimitsTheirComponent) {
  auto run = test::run_engine(scene_text());
  auto p = plan(scene_text(), {"--rate-limit", "cathode=1e4", "--limit", "cathode:NMC811=5e5"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const int m = run->scene.material_index("cathode");
  double peak = 0;
  for (int64_t v = 0; v < run->g().voxels(); ++v)
    if (run->grid->material[v] == m) peak = std::max(peak, static_cast<double>(run->results.rate_peak_Gy_s[v]));
  EXPECT_NEAR(p->json["flux_scale"].get<double>(), 1e4 / peak, 1e-9 * 1e4 / peak);
  const auto& names = run->results.tables.component_grid_names;
  const int nmc = static_cast<int>(std::find(names.begin(), names.end(), "NMC811") - names.begin());
  const double nmc_max = material_max(*run, "cathode", nmc);
  EXPECT_NEAR(p->json["uniform_scale"].get<double>(), 5e5 / nmc_max, 1e-9 * 5e5 / nmc_max);
  EXPECT_NEAR(p->json["planned"]["scale"].get<double>(),
              std::min(p->json["uniform_scale"].get<double>(), p->json["flux_scale"].get<double>()), 1e-12);
}

TEST(InverseDose, WhereTheOtherExposuresAlonePassTheLimitNoScaleOfOneKeepsIt) {
  // Two equal exposures at the same place: each alone gives half the scene's dose.
  const std::string twice = test::make_scene(
      "[materials.copper]\nformula = \"Cu\"\n", "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [40.0, 40.0]\n"
      "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 10.0\n",
      "energy_keV = 27.0\nflux_ph_s = 1e10\nprofile = \"tophat\"\nsize_um = [10.0, 10.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n");
  const double max = material_max(*test::run_engine(twice), "copper");
  // Above half the dose: each step alone may grow to (limit - half) / half.
  auto above = plan(twice, {"--limit", "copper=" + fmt_g(0.75 * max, 17)});
  ASSERT_EQ(above->result.exit_code, 0) << above->result.err;
  for (const Json& step : above->json["steps"]) {
    EXPECT_NEAR(step["scale"].get<double>(), 0.5, 1e-6);
    EXPECT_FALSE(step.contains("others_pass_limit"));
  }
  // Below half: the other step alone passes it, whatever this one does.
  auto below = plan(twice, {"--limit", "copper=" + fmt_g(0.25 * max, 17)});
  ASSERT_EQ(below->result.exit_code, 0) << below->result.err;
  for (const Json& step : below->json["steps"]) {
    EXPECT_EQ(step["scale"].get<double>(), 0.0);
    EXPECT_TRUE(step["others_pass_limit"].get<bool>());
  }
  EXPECT_NE(below->result.out.find("none: the others pass the limit"), std::string::npos) << below->result.out;
  EXPECT_NEAR(below->json["uniform_scale"].get<double>(), 0.25, 1e-9);
}

TEST(InverseDose, LimitsMayComeBeforeTheSceneAndRepeat) {
  test::ScratchDir dir;
  test::write_file(dir / "s.toml", scene_text());
  auto r = test::run_dosemap({"plan", "--limit", "cathode=1e6", "--limit", "copper=1e7", (dir / "s.toml").string(), "-o",
                              (dir / "plan").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = Json::parse(test::read_file(dir / "plan" / "plan.json"));
  ASSERT_EQ(j["limits"].size(), 2u);
  EXPECT_EQ(j["limits"][1]["name"], "copper");
}

// The largest cathode dose of `run`'s scene with the exposures `scaled` picks multiplied by s.
double cathode_max_with(const test::EngineRun& run, double s, const std::function<bool(size_t)>& scaled) {
  Timeline tl = run.timeline;
  for (size_t e = 0; e < tl.exposures.size(); ++e)
    if (scaled(e)) {
      tl.exposures[e].duration_s *= s;
      tl.exposures[e].photons *= s;
    }
  EngineOptions cpu;
  cpu.backend = Backend::kCpu;
  cpu.threads = 2;
  const DoseResults r = compute_dose(run.params, tl, cpu);
  const int m = run.scene.material_index("cathode");
  double best = 0;
  for (int64_t v = 0; v < r.voxels; ++v)
    if (run.grid->material[v] == m) best = std::max(best, static_cast<double>(r.dose_Gy[v]));
  return best;
}

TEST(InverseDose, TurnedScansEachStepAndEachPointAtItsOwnScaleBringsTheLimitedMaterialToItsLimit) {
  // The sample turned: the three point steps (the last at 30 degrees), then a rotation in
  // three angles and a continuous half turn, all on the cathode.
  std::string text = scene_text(true);
  text += "[[scan.steps]]\nkind = \"rotate\"\nat_um = [10.0, 0.0]\nfrom_deg = 0.0\nto_deg = 90.0\nstep_deg = 45.0\n"
          "dwell_s = 1.0\n[[scan.steps]]\nkind = \"rotate\"\nat_um = [-10.0, 0.0]\nfrom_deg = 0.0\nto_deg = 180.0\n"
          "speed_deg_s = 90.0\n";
  const auto base = test::run_engine(text);
  const double limit = 1.5 * material_max(*base, "cathode");
  auto p = plan(text, {"--limit", "cathode=" + fmt_g(limit, 17)});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& steps = p->json["steps"];
  ASSERT_EQ(steps.size(), 5u);
  for (size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    const double s = steps[k]["scale"].get<double>();
    EXPECT_GT(s, 1.0);
    const double max = cathode_max_with(*base, s, [&](size_t e) { return base->timeline.exposures[e].step == static_cast<int>(k); });
    EXPECT_LE(max, limit * (1 + 1e-6));
    EXPECT_GE(max, limit * (1 - 1e-6));
  }
  // Points: the three point steps, the rotation's three angles (each at one angle), the half
  // turn (one point that turns).
  const Json& points = p->json["points"];
  ASSERT_EQ(points.size(), 7u);
  const std::vector<int32_t> place = point_in_step(base->timeline);
  for (const Json& pt : points) {
    SCOPED_TRACE(pt.dump());
    const int step = pt["step"].get<int>(), point = pt["point"].get<int>();
    const double s = pt["scale"].get<double>();
    const double max = cathode_max_with(*base, s, [&](size_t e) {
      return base->timeline.exposures[e].step == step && place[e] == point;
    });
    EXPECT_LE(max, limit * (1 + 1e-6));
    EXPECT_GE(max, limit * (1 - 1e-6));
  }
}

TEST(InverseDose, BadLimitsAreErrorsWithExitCodeTwoAndNothingWritten) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--limit", "steel=1e6"}, "'steel' is not a material of the scene; use one of: copper, NMC811, EC or cathode"},
      {{"--limit", "cathode=-5"}, "is not a positive number of Gy"},
      {{"--limit", "cathode=abc"}, "is not a positive number of Gy"},
      {{"--limit", "cathode"}, "is not NAME=DOSE_GY"},
      {{"--limit", "copper:NMC811=1e6"}, "'copper' holds no component 'NMC811'"},
      {{"--limit", "cathode:Fe=1e6"}, "use one of: NMC811 or EC"},
      {{"--rate-limit", "cathode=0"}, "is not a positive number of Gy/s"},
      {{"--limit", "NMC811=1e6"}, "'NMC811' fills no voxel of the sample (no layer, label or shape is made of it); it is a "
                                  "component of a composite: limit cathode:NMC811"},
      {{}, "needs at least one limit"},
  };
  for (const auto& [args, message] : cases) test::expect_plan_refused(scene_text(), args, message);

}

}  // namespace
}  // namespace dosemap
