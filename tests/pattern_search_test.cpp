// Pattern search (`dosemap plan --optimize pattern`, host/plan/pattern_search.h): shifting
// the repetitions of a raster whose beam covers half of each step halves its largest dose
// and the search chooses it; a candidate's largest dose equals a whole engine run of its
// scan; pauses between repetitions lower the dose rate over a window exactly as the window
// says; the planned raster reaches the limit without passing it; pareto.png is drawn; scans
// the family cannot vary are errors with exit code 2 and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "host/common/text.h"
#include "host/plan/inverse_dose.h"
#include "host/plan/pattern_search.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/transport_tables.h"
#include "tests/engine_harness.h"
#include "tests/plan_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using Json = nlohmann::json;

const std::string kNmc = "[materials.NMC811]\nformula = \"LiNi0.8Mn0.1Co0.1O2\"\ndensity_g_cm3 = 4.8\n";

// A 7 x 7 raster at 10 um pitch, twice, with a 10 x 5 um top-hat beam: along x the beam
// tiles the line, along y it covers half of each step.
std::string half_covering_raster(const std::string& raster = "from_um = [-30.0, -30.0]\nto_um = [30.0, 30.0]\n") {
  return test::make_scene(kNmc,
                          "voxel_um = [2.5, 2.5, 5.0]\nlateral_um = [80.0, 80.0]\n"
                          "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 20.0\n",
                          "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"tophat\"\nsize_um = [10.0, 5.0]\n",
                          "[scan]\nrepeat = 2\n[[scan.steps]]\nkind = \"raster\"\n" + raster +
                              "step_um = [10.0, 10.0]\ndwell_s = 1.0\nmove_s = 0.2\n");
}

struct Search {
  std::unique_ptr<test::EngineRun> run;
  std::vector<DoseLimit> limits;
  PatternSearch result;
};

std::unique_ptr<Search> search(const std::string& text, double limit, double window_s) {
  auto s = std::make_unique<Search>();
  s->run = test::run_engine(text);
  const test::EngineRun& r = *s->run;
  const TransportTables names = build_transport_tables(r.materials, r.g(), threshold_scale(r.scene));
  s->limits = {parse_limit("NMC811=" + fmt_g(limit, 17), false, r.scene, r.materials, names)};
  s->result = search_patterns(r.scene, r.materials, r.grid, r.timeline, s->limits, 1.0, window_s, 1.0, 2);
  return s;
}

const PatternScore& find(const PatternSearch& ps, double step, double dwell, PatternOrder order, bool sx, bool sy,
                         double pause) {
  for (const PatternScore& c : ps.candidates) {
    const RasterPattern& p = c.pattern;
    if (p.step_factor == step && p.dwell_factor == dwell && p.order == order && p.shift_x == sx && p.shift_y == sy &&
        p.pause_factor == pause)
      return c;
  }
  ADD_FAILURE() << "no such candidate";
  return ps.candidates.front();
}

TEST(PatternSearch, ShiftingTheRepetitionsByHalfAStepHalvesTheLargestDoseAndIsChosen) {
  auto s = search(half_covering_raster(), 1e6, 60);
  const PatternSearch& ps = s->result;
  EXPECT_EQ(ps.candidates.size(), 432u);  // 3 steps x 4 dwells x 3 orders x 4 shifts x 3 pauses
  const PatternScore& as_written = find(ps, 1, 1, PatternOrder::kSnake, false, false, 0);
  const PatternScore& shifted = find(ps, 1, 1, PatternOrder::kSnake, false, true, 0);
  EXPECT_EQ(shifted.beam_on_s, as_written.beam_on_s);
  EXPECT_NEAR(shifted.dose_fraction, 0.5 * as_written.dose_fraction, 1e-9 * as_written.dose_fraction);
  EXPECT_EQ(shifted.positions, 2 * as_written.positions);
  EXPECT_TRUE(shifted.on_front);
  EXPECT_FALSE(as_written.on_front);
  // Shifting along x, where the beam already tiles the line, does not help.
  EXPECT_NEAR(find(ps, 1, 1, PatternOrder::kSnake, true, false, 0).dose_fraction, as_written.dose_fraction,
              1e-9 * as_written.dose_fraction);
  ASSERT_GE(ps.chosen, 0);
  EXPECT_TRUE(ps.candidates[ps.chosen].pattern.shift_y);
  ASSERT_TRUE(ps.has_planned);
  EXPECT_NEAR(ps.planned.dose_fraction, 1.0, 1e-9);
}

TEST(PatternSearch, ACandidatesLargestDoseIsThatOfAWholeEngineRunOfItsScan) {
  auto s = search(half_covering_raster(), 1e6, 60);
  for (const RasterPattern& p : {RasterPattern{0.5, 2, PatternOrder::kInterleaved, true, true, 1},
                                 RasterPattern{1, 1, PatternOrder::kLines, false, true, 0},
                                 RasterPattern{2, 0.25, PatternOrder::kSnake, true, false, 3}}) {
    SCOPED_TRACE(p.describe(s->run->scene.scan));
    const PatternScore& c = find(s->result, p.step_factor, p.dwell_factor, p.order, p.shift_x, p.shift_y, p.pause_factor);
    auto run = test::run_engine(pattern_scene(s->run->scene, p));
    const double max = test::material_max(*run, "NMC811");
    EXPECT_NEAR(c.max_dose_Gy, max, 1e-6 * max);
    EXPECT_NEAR(c.beam_on_s, run->timeline.beam_on_s, 1e-12 * c.beam_on_s);
  }
}

TEST(PatternSearch, APauseLongerThanTheWindowHalvesTheRateOverIt) {
  // Four points 10 um apart, 1 s each, no moves, twice: a repetition takes 4 s and a voxel is
  // visited 4 s apart. Over a 6 s window both visits count (rate = dose / 6 s); a pause of one
  // repetition puts them 8 s apart (rate = half the dose / 6 s).
  const std::string text = test::make_scene(
      kNmc, "voxel_um = [2.5, 2.5, 5.0]\nlateral_um = [60.0, 20.0]\n[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 10.0\n",
      "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"tophat\"\nsize_um = [5.0, 5.0]\n",
      "[scan]\nrepeat = 2\n[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-15.0, 0.0]\nto_um = [15.0, 0.0]\n"
      "step_um = [10.0, 10.0]\ndwell_s = 1.0\n");
  auto s = search(text, 1e6, 6.0);
  const PatternScore& together = find(s->result, 1, 1, PatternOrder::kSnake, false, false, 0);
  const PatternScore& paused = find(s->result, 1, 1, PatternOrder::kSnake, false, false, 1);
  EXPECT_NEAR(together.window_rate_Gy_s, together.max_dose_Gy / 6.0, 1e-9 * together.window_rate_Gy_s);
  EXPECT_NEAR(paused.window_rate_Gy_s, paused.max_dose_Gy / 12.0, 1e-9 * paused.window_rate_Gy_s);
  EXPECT_EQ(paused.max_dose_Gy, together.max_dose_Gy);
  EXPECT_EQ(paused.beam_on_s, together.beam_on_s);
  EXPECT_FALSE(together.on_front);  // the pause gives the same with less rate
  EXPECT_NEAR(paused.duration_s, together.duration_s + 4.0, 1e-12);
}

TEST(PatternSearch, AScenesPeriodIsKeptAndBoundsThePlannedDwell) {
  // Twice, 100 s apart: 49 points x 1 s + 48 moves of 0.2 s = 58.6 s per map. Dwells x2 no
  // longer fit (107.2 s); the planned dwell fills the period when the limit allows more.
  std::string text = half_covering_raster();
  text.replace(text.find("repeat = 2\n"), 11, "repeat = 2\nperiod_s = 100.0\n");
  auto s = search(text, 1e9, 60);
  const PatternSearch& ps = s->result;
  ASSERT_FALSE(ps.candidates.empty());
  for (const PatternScore& c : ps.candidates) {
    SCOPED_TRACE(c.pattern.describe(s->run->scene.scan));
    EXPECT_TRUE(c.pattern.keep_period);
    const RepetitionTime rt = pattern_repetition(s->run->scene, c.pattern);
    const double repetition_s = rt.moves_s + static_cast<double>(rt.points) * c.pattern.dwell_factor;
    EXPECT_NEAR(c.duration_s, 100.0 + repetition_s, 1e-9);
    EXPECT_LE(repetition_s, 100.0);
  }
  ASSERT_TRUE(ps.has_planned);
  const RepetitionTime rt = pattern_repetition(s->run->scene, ps.planned.pattern);
  EXPECT_NEAR(rt.moves_s + static_cast<double>(rt.points) * ps.planned.pattern.dwell_factor, 100.0, 1e-9);
  EXPECT_LT(ps.planned.dose_fraction, 1.0);
}

TEST(PatternSearch, ThePlannedRasterReachesTheLimitWithoutPassingItAndTheFrontIsDrawn) {
  auto p = test::run_plan(half_covering_raster(), {"--limit", "NMC811=1e6", "--optimize", "pattern"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& ps = p->json["patterns"];
  EXPECT_EQ(ps["evaluated"].get<int>(), 432);
  EXPECT_GT(ps["candidates_per_s"].get<double>(), 0.0);
  EXPECT_EQ(ps["planned"]["shift"], "y");
  auto r = test::run_dosemap({"run", p->planned().string(), "-o", (p->dir / "planned").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json summary = Json::parse(test::read_file(p->dir / "planned" / "summary.json"));
  const double max = summary["materials"]["NMC811"]["dose_max_Gy"].get<double>();
  EXPECT_LE(max, 1e6 * (1 + 1e-6));
  EXPECT_GE(max, 1e6 * (1 - 1e-6));
  // The second repetition of planned.toml is the raster moved by half a step along y.
  const Scene planned = read_scene(p->planned().string());
  ASSERT_EQ(planned.scan.repeat, 1);
  ASSERT_EQ(planned.scan.steps.size(), 2u);
  EXPECT_EQ(planned.scan.steps[1].from_um[1] - planned.scan.steps[0].from_um[1], 5.0);
  const std::string png = test::read_file(p->dir / "plan" / "pareto.png");
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(p->result.out.find("The Pareto front"), std::string::npos);
}

TEST(PatternSearch, ARateLimitLowersTheFluxAndThePlannedDwellMakesUpForIt) {
  const auto base = test::run_engine(half_covering_raster());
  const int m = base->scene.material_index("NMC811");
  double peak = 0;
  for (int64_t v = 0; v < base->g().voxels(); ++v)
    if (base->grid->material[v] == m) peak = std::max(peak, static_cast<double>(base->results.rate_peak_Gy_s[v]));
  const double rate_limit = 0.25 * peak;
  auto p = test::run_plan(half_covering_raster(), {"--limit", "NMC811=1e6", "--rate-limit", "NMC811=" + fmt_g(rate_limit, 17),
                                                   "--optimize", "pattern"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Scene planned = read_scene(p->planned().string());
  EXPECT_NEAR(planned.beam.flux_ph_s, 0.25 * 1e11, 1e-6 * 1e11);
  auto r = test::run_dosemap({"run", p->planned().string(), "-o", (p->dir / "planned").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json s = Json::parse(test::read_file(p->dir / "planned" / "summary.json"))["materials"]["NMC811"];
  EXPECT_LE(s["dose_max_Gy"].get<double>(), 1e6 * (1 + 1e-6));
  EXPECT_GE(s["dose_max_Gy"].get<double>(), 1e6 * (1 - 1e-6));
  EXPECT_LE(s["dose_rate_peak_max_Gy_s"].get<double>(), rate_limit * (1 + 1e-6));
}

TEST(PatternSearch, APlanReplacesAnEarlierOneOnlyWithOverwriteAndLeavesNoStaleFigure) {
  auto p = test::run_plan(half_covering_raster(), {"--limit", "NMC811=1e6", "--optimize", "pattern"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  ASSERT_TRUE(std::filesystem::exists(p->dir / "plan" / "pareto.png"));
  const std::vector<std::string> again{"plan", (p->dir / "s.toml").string(), "-o", (p->dir / "plan").string(),
                                       "--limit", "NMC811=1e6"};
  auto refused = test::run_dosemap(again);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("already holds the results of a dosemap run"), std::string::npos) << refused.err;
  std::vector<std::string> overwrite = again;
  overwrite.push_back("--overwrite");
  auto replaced = test::run_dosemap(overwrite);
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_FALSE(std::filesystem::exists(p->dir / "plan" / "pareto.png"));
  EXPECT_FALSE(Json::parse(test::read_file(p->dir / "plan" / "plan.json")).contains("patterns"));
}

TEST(PatternSearch, ScansTheFamilyCannotVaryAreErrorsWithExitCodeTwoAndNothingWritten) {
  const std::string two_steps =
      half_covering_raster() + "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n";
  const std::vector<std::tuple<std::string, std::vector<std::string>, std::string>> cases = {
      {two_steps, {"--limit", "NMC811=1e6", "--optimize", "pattern"}, "needs a scan of one raster step"},
      {half_covering_raster(), {"--limit", "NMC811=1e6", "--optimize", "pattern", "--rate-window-s", "0"},
       "is not a time between 1e-9 and 1e9 s"},
      {half_covering_raster(), {"--limit", "NMC811=1e6", "--rate-window-s", "5"}, "--optimize"},
      {half_covering_raster(), {"--rate-limit", "NMC811=1e3", "--optimize", "pattern"}, "needs a dose limit"},
      {half_covering_raster(), {"--limit", "NMC811=1e6", "--optimize", "dwell", "--rate-window-s", "5"},
       "--rate-window-s: error: applies to --optimize pattern only"},
  };
  for (const auto& [text, args, message] : cases) test::expect_plan_refused(text, args, message);
}

}  // namespace
}  // namespace dosemap
