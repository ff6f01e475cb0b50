// The default demo scene (Jousseaume et al. 2023, experiment 2): the NMC at the most
// exposed location must cross the 11 MGy kinetics threshold, and the reference location
// must stay below the 80 kGy "safe" dose, as the paper reports.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "host/outputs/point_positions.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

TEST(DemoScene, NmcAtLocationThreeCrossesElevenMegagrayAndLocationOneStaysSafe) {
  std::ifstream f(test::source_path("scenes/operando_pouch_27keV.toml"));
  std::stringstream text;
  text << f.rdbuf();
  auto run = test::run_engine(text.str());
  const GridGeometry& g = run->g();
  const auto& names = run->results.tables.component_grid_names;
  const int nmc = static_cast<int>(std::find(names.begin(), names.end(), "NMC811") - names.begin());
  ASSERT_LT(nmc, static_cast<int>(names.size()));
  const float* dose_nmc = run->results.component_dose(nmc);
  // Location 1 is centred at x = -1 mm, location 3 at +1 mm; the beam is 630 um wide.
  double max1 = 0, max3 = 0, any_nmc = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const double x = g.center_um(0, i), d = dose_nmc[g.index(i, j, k)];
        any_nmc = std::max(any_nmc, d);
        if (x > -1500 && x < -500) max1 = std::max(max1, d);
        if (x > 500 && x < 1500) max3 = std::max(max3, d);
      }
  EXPECT_GE(max3, 1.1e7) << "NMC at location 3";
  EXPECT_LT(max1, 8.0e4) << "NMC at location 1";
  EXPECT_EQ(any_nmc, max3);
  // The kinetics threshold is crossed during the scan, not at its end (paper: after ~3 h).
  const int kinetics = 3;
  ASSERT_EQ(run->scene.output.thresholds[kinetics].label, "kinetics");
  int slot = -1;
  const auto& tt = run->results.tables;
  const int cathode = run->materials.index("cathode");
  for (int s = tt.component_begin[cathode]; s < tt.component_begin[cathode + 1]; ++s)
    if (tt.slot_grid[s] == nmc) slot = s;
  ASSERT_GE(slot, 0);
  const double t = run->results.slot_first_crossing(slot, kinetics);
  EXPECT_GT(t, 2 * 3600.0);
  EXPECT_LT(t, 5 * 3600.0);

  // The report's point positions say the same, location by location.
  const auto positions = point_positions(run->scene, run->materials, *run->grid, run->timeline, run->results);
  ASSERT_EQ(positions.size(), 3u);
  auto nmc_at = [&](size_t location) {
    for (const PositionDose& d : positions[location].doses)
      if (d.component && d.name == "NMC811") return d;
    ADD_FAILURE() << "no NMC811 row at location " << location + 1;
    return PositionDose{};
  };
  EXPECT_DOUBLE_EQ(positions[0].at_um[0], -1000.0);
  EXPECT_LT(nmc_at(0).dose_max_Gy, 8.0e4);
  EXPECT_EQ(nmc_at(0).first_crossing_s[0], -1);
  EXPECT_DOUBLE_EQ(positions[2].at_um[0], 1000.0);
  EXPECT_GE(nmc_at(2).dose_max_Gy, 1.1e7);
  EXPECT_NEAR(nmc_at(2).first_crossing_s[kinetics], t, 1e-6 * t) << "location 3 is where NMC crosses first";
}

}  // namespace
}  // namespace dosemap
