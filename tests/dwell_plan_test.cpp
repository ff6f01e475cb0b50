// Dwell optimisation (`dosemap plan --optimize dwell`, host/plan/dwell_plan.h): on a raster
// over a sample with one hot spot under one point only that point's dwell is cut; a run of
// planned.toml keeps every limited voxel at or below its limit (1e-6) and brings it there;
// every point is held by a limit it reaches or by the cap (the programme is solved, not
// approximated); fixed steps and the period are respected; the plan is the same for any
// thread count; what cannot be optimised is an error with exit code 2 and nothing written.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "host/common/text.h"
#include "host/plan/dwell_plan.h"
#include "host/plan/inverse_dose.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/transport_tables.h"
#include "tests/engine_harness.h"
#include "tests/plan_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using Json = nlohmann::json;
using test::material_max;

const std::string kMaterials = test::kCathodeMaterials + "[materials.gold]\nformula = \"Au\"\ndensity_g_cm3 = 19.3\n";

// A cathode layer with a gold grain under the middle point of a 9-point line raster.
// Gaussian: neighbouring beams overlap (rows of several points); tophat: they do not.
std::string hot_spot_scene(bool gaussian, const std::string& extra_steps = "", const std::string& scan_head = "") {
  return test::make_scene(
      kMaterials,
      "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [104.0, 24.0]\n"
      "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 16.0\n"
      "[[sample.shapes]]\nkind = \"box\"\nmaterial = \"gold\"\ncenter_um = [0.0, 0.0, 8.0]\nsize_um = [4.0, 4.0, 4.0]\n",
      std::string("energy_keV = 27.0\nflux_ph_s = 1e11\n") +
          (gaussian ? "profile = \"gaussian\"\nfwhm_um = [10.0, 10.0]\n" : "profile = \"tophat\"\nsize_um = [8.0, 8.0]\n"),
      scan_head +
          "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-40.0, 0.0]\nto_um = [40.0, 0.0]\nstep_um = [10.0, 10.0]\n"
          "dwell_s = 1.0\nmove_s = 0.5\n" +
          extra_steps);
}

Json summary_of(const test::PlanRun& p, const std::string& run_name) {
  auto r = test::run_dosemap({"run", p.planned().string(), "-o", (p.dir / run_name).string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Json::parse(test::read_file(p.dir / run_name / "summary.json"));
}

double summary_max(const Json& s, const std::string& material) {
  return s["materials"][material]["dose_max_Gy"].get<double>();
}

TEST(DwellPlan, OnlyTheHotSpotsPointIsCutAndThePlannedRasterKeepsEveryLimit) {
  const auto base = test::run_engine(hot_spot_scene(false));
  // The cathode at a quarter of the limit everywhere; the gold grain well above it.
  const double limit = 4 * material_max(*base, "cathode");
  ASSERT_GT(material_max(*base, "gold"), limit);
  const std::string L = fmt_g(limit, 17);
  auto p = test::run_plan(hot_spot_scene(false), {"--limit", "cathode=" + L, "--limit", "gold=" + L, "--optimize", "dwell"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& d = p->json["dwell"];
  ASSERT_EQ(d["points"].size(), 9u);
  for (int n = 0; n < 9; ++n) {
    SCOPED_TRACE(n);
    const Json& pt = d["points"][n];
    EXPECT_EQ(pt["point"].get<int>(), n);
    const double scale = pt["scale"].get<double>();
    if (n == 4) {
      // The middle point: its own rays alone (no overlap), so exactly limit / gold's max.
      EXPECT_NEAR(scale, limit / material_max(*base, "gold"), 1e-9 * scale);
      EXPECT_EQ(pt["binding"]["limit"], "gold");
    } else {
      EXPECT_GT(scale, 3.0);  // not cut: up to the cathode's own limit
      EXPECT_EQ(pt["binding"]["limit"], "cathode");
    }
  }
  EXPECT_NEAR(d["min_scale"].get<double>(), p->json["uniform_scale"].get<double>(), 1e-12);
  EXPECT_GT(d["beam_on_s"].get<double>(), 3 * d["uniform_beam_on_s"].get<double>());
  // The planned raster, run: both materials reach the limit and neither passes it.
  const Json s = summary_of(*p, "planned");
  for (const char* m : {"cathode", "gold"}) {
    SCOPED_TRACE(m);
    EXPECT_LE(summary_max(s, m), limit * (1 + 1e-6));
    EXPECT_GE(summary_max(s, m), limit * (1 - 1e-6));
  }
  // The raster spelt as its points, the moves as waits: 9 points, 8 waits of 0.5 s.
  EXPECT_EQ(s["time"]["exposures"].get<int>(), 9);
  EXPECT_NEAR(s["time"]["scan_duration_s"].get<double>(), d["beam_on_s"].get<double>() * (1 - std::ldexp(1.0, -22)) + 4.0,
              1e-9 * s["time"]["scan_duration_s"].get<double>());
}

TEST(DwellPlan, OverlappingBeamsEveryPointIsHeldByALimitItReachesOrByTheCap) {
  // Gaussian beams overlap their neighbours: a real programme. A fly line across the raster
  // is not optimised (its dose is fixed), and the scan repeats twice.
  const std::string fly = "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-40.0, 4.0], [40.0, 4.0]]\nspeed_um_s = 20.0\n";
  const std::string text = hot_spot_scene(true, fly, "[scan]\nrepeat = 2\n");
  const auto base = test::run_engine(text);
  const double limit = 3 * material_max(*base, "cathode");
  const std::string L = fmt_g(limit, 17);
  auto p = test::run_plan(text, {"--limit", "cathode=" + L, "--limit", "gold=" + L, "--optimize", "dwell",
                                 "--max-dwell-scale", "50"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& d = p->json["dwell"];
  EXPECT_GT(d["lp"]["rows"].get<int>(), 0);
  EXPECT_GT(d["fixed_beam_on_s"].get<double>(), 0.0);
  EXPECT_GT(d["beam_on_s"].get<double>(), 2 * d["uniform_beam_on_s"].get<double>());
  // Run the plan; every point is either at the cap or held by a voxel at its limit.
  auto r = test::run_dosemap({"run", p->planned().string(), "-o", (p->dir / "planned").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Scene planned = read_scene(p->planned().string());
  const auto rerun = test::run_engine(planned);
  for (const char* m : {"cathode", "gold"}) EXPECT_LE(material_max(*rerun, m), limit * (1 + 1e-6)) << m;
  for (const Json& pt : d["points"]) {
    SCOPED_TRACE(pt.dump());
    const std::string by = pt["bound_by"];
    if (by == "max_scale") {
      EXPECT_NEAR(pt["scale"].get<double>(), 50.0, 1e-6);
      continue;
    }
    ASSERT_EQ(by, "limit");
    const Json& v = pt["binding"]["voxel"];
    const float dose = rerun->dose(v[0].get<int64_t>(), v[1].get<int64_t>(), v[2].get<int64_t>());
    EXPECT_NEAR(dose, limit, 1e-5 * limit);
  }
}

TEST(DwellPlan, TheSameForAnyThreadCountAndAtLeastTheUniformScaleEverywhere) {
  const std::string text = hot_spot_scene(true);
  auto run = test::run_engine(text);
  const TransportTables names = build_transport_tables(run->materials, run->g(), threshold_scale(run->scene));
  const double limit = 2 * material_max(*run, "cathode");
  const std::vector<DoseLimit> limits{parse_limit("cathode=" + fmt_g(limit, 17), false, run->scene, run->materials, names),
                                      parse_limit("gold=" + fmt_g(limit, 17), false, run->scene, run->materials, names)};
  const DwellPlan one = plan_dwell(run->scene, run->materials, run->grid, run->timeline, run->results, limits, 1.0, 10.0, 1);
  const DwellPlan two = plan_dwell(run->scene, run->materials, run->grid, run->timeline, run->results, limits, 1.0, 10.0, 2);
  ASSERT_TRUE(one.not_plannable.empty());
  ASSERT_EQ(one.points.size(), two.points.size());
  const double uniform = limit / std::max(material_max(*run, "cathode"), material_max(*run, "gold"));
  EXPECT_NEAR(one.min_scale, uniform, 1e-9 * uniform);
  for (size_t n = 0; n < one.points.size(); ++n) {
    EXPECT_EQ(one.points[n].scale, two.points[n].scale) << n;
    EXPECT_GE(one.points[n].scale, one.min_scale) << n;
  }
  EXPECT_EQ(one.beam_on_s, two.beam_on_s);
  // Halving the flux (a rate limit's attenuator) doubles every dwell.
  const DwellPlan half = plan_dwell(run->scene, run->materials, run->grid, run->timeline, run->results, limits, 0.5, 20.0, 2);
  for (size_t n = 0; n < one.points.size(); ++n)
    EXPECT_NEAR(half.points[n].scale, 2 * one.points[n].scale, 1e-6 * one.points[n].scale) << n;
}

TEST(DwellPlan, ARateLimitLowersTheFluxAndTheDwellsMakeUpForIt) {
  const auto base = test::run_engine(hot_spot_scene(false));
  const double limit = 4 * material_max(*base, "cathode");
  const int m = base->scene.material_index("cathode");
  double peak = 0;
  for (int64_t v = 0; v < base->g().voxels(); ++v)
    if (base->grid->material[v] == m) peak = std::max(peak, static_cast<double>(base->results.rate_peak_Gy_s[v]));
  const double rate_limit = 0.5 * peak;
  auto p = test::run_plan(hot_spot_scene(false), {"--limit", "cathode=" + fmt_g(limit, 17), "--rate-limit",
                                                  "cathode=" + fmt_g(rate_limit, 17), "--optimize", "dwell"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  EXPECT_NEAR(p->json["dwell"]["flux_factor"].get<double>(), 0.5, 1e-6);
  const Json s = summary_of(*p, "planned");
  EXPECT_LE(summary_max(s, "cathode"), limit * (1 + 1e-6));
  EXPECT_GE(summary_max(s, "cathode"), limit * (1 - 1e-6));
  EXPECT_LE(s["materials"]["cathode"]["dose_rate_peak_max_Gy_s"].get<double>(), rate_limit * (1 + 1e-6));
}

TEST(DwellPlan, APeriodHoldsTheRepetitionsWithinIt) {
  // Three repetitions every 20 s: the 9 dwells plus 8 moves of 0.5 s must fit in 20 s, far
  // below what the limits alone would allow.
  const std::string text = hot_spot_scene(false, "", "[scan]\nrepeat = 3\nperiod_s = 20.0\n");
  const auto base = test::run_engine(text);
  const double limit = 100 * material_max(*base, "cathode");
  const std::string L = fmt_g(limit, 17);
  auto p = test::run_plan(text, {"--limit", "cathode=" + L, "--optimize", "dwell", "--max-dwell-scale", "1000"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  const Json& d = p->json["dwell"];
  const double per_repetition = d["beam_on_s"].get<double>() / 3;
  EXPECT_NEAR(per_repetition + 4.0, 20.0, 1e-6);
  bool period_binds = false;
  for (const Json& pt : d["points"]) period_binds = period_binds || pt["bound_by"] == "period";
  EXPECT_TRUE(period_binds);
  const Json s = summary_of(*p, "planned");
  EXPECT_LE(s["time"]["scan_duration_s"].get<double>(), 2 * 20.0 + 20.0);
  EXPECT_LE(summary_max(s, "cathode"), limit);
}

TEST(DwellPlan, WhatCannotBeOptimisedIsAnErrorWithExitCodeTwoAndNothingWritten) {
  const std::string turned =
      test::make_scene(test::kCathodeMaterials,
                       "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [40.0, 40.0]\n[sample.stage]\naxis = \"y\"\n"
                       "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 10.0\n",
                       "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"gaussian\"\nfwhm_um = [6.0, 6.0]\n",
                       "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\nangle_deg = 20.0\n"
                       "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n");
  const std::string fly_only = test::make_scene(
      test::kCathodeMaterials,
      "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [40.0, 40.0]\n[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 10.0\n",
      "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"gaussian\"\nfwhm_um = [6.0, 6.0]\n",
      "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-10.0, 0.0], [10.0, 0.0]]\nspeed_um_s = 10.0\n");
  const std::vector<std::tuple<std::string, std::vector<std::string>, std::string>> cases = {
      {hot_spot_scene(false), {"--limit", "cathode=1e6", "--optimize", "time"}, "is not something plan optimises"},
      {hot_spot_scene(false), {"--rate-limit", "cathode=1e3", "--optimize", "dwell"}, "--optimize dwell: error: needs a dose limit"},
      {hot_spot_scene(false), {"--limit", "cathode=1e6", "--optimize", "dwell", "--max-dwell-scale", "0"},
       "is not a positive factor"},
      {hot_spot_scene(false), {"--limit", "cathode=1e6", "--max-dwell-scale", "5"}, "--optimize"},
      {turned, {"--limit", "cathode=1e6", "--optimize", "dwell"}, "dwell optimisation of such scans is not built yet"},
      {hot_spot_scene(false), {"--limit", "cathode=1e6", "--optimize", "pattern", "--max-dwell-scale", "5"},
       "--max-dwell-scale: error: applies to --optimize dwell only"},
      {fly_only, {"--limit", "cathode=1e6", "--optimize", "dwell"}, "the scan has no raster or point step"},
  };
  for (const auto& [text, args, message] : cases) test::expect_plan_refused(text, args, message);
}

TEST(DwellPlan, FixedStepsThatAlonePassALimitLeaveNoPlanAndSayWhere) {
  // The fly line alone gives the cathode more than the limit: no dwell of the raster helps.
  const std::string fly = "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-40.0, 0.0], [40.0, 0.0]]\nspeed_um_s = 1.0\n";
  const std::string text = hot_spot_scene(false, fly);
  const auto base = test::run_engine(text);
  const std::string L = fmt_g(0.5 * material_max(*base, "cathode"), 17);
  auto p = test::run_plan(text, {"--limit", "cathode=" + L, "--optimize", "dwell"});
  ASSERT_EQ(p->result.exit_code, 0) << p->result.err;
  EXPECT_NE(p->json["dwell"]["not_plannable"].get<std::string>().find("the steps not optimised"), std::string::npos);
  EXPECT_TRUE(p->json["planned"]["file"].is_null());
  EXPECT_FALSE(std::filesystem::exists(p->planned()));
  EXPECT_NE(p->result.out.find("no planned.toml: the steps not optimised"), std::string::npos) << p->result.out;
}

}  // namespace
}  // namespace dosemap
