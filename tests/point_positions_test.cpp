// Dose at the positions of point steps: the column under each beam centre, its most dosed
// voxel per material and component, and when that column crossed each threshold, checked
// against the exposure schedule by hand (each voxel's dose grows linearly while the beam
// sits on its column and stays constant otherwise).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "host/outputs/point_positions.h"
#include "tests/engine_harness.h"

namespace dosemap {
namespace {

// Two positions whose 30 um top-hat footprints do not overlap, one visited twice per
// repetition, a wait between, a point outside the grid, and two repetitions.
const std::string kScene = test::make_scene(
    "[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
    "voxel_um = [10.0, 10.0, 2.0]\nlateral_um = [100.0, 40.0]\n"
    "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 4.0\n"
    "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 20.0\n",
    "energy_keV = 27.0\nflux_ph_s = 1e10\nprofile = \"tophat\"\nsize_um = [30.0, 30.0]\n",
    "[scan]\nrepeat = 2\n"
    "[[scan.steps]]\nkind = \"point\"\nat_um = [-20.0, 0.0]\nexposure_s = 10.0\n"
    "[[scan.steps]]\nkind = \"wait\"\nduration_s = 5.0\n"
    "[[scan.steps]]\nkind = \"point\"\nat_um = [20.0, 0.0]\nexposure_s = 2.0\n"
    "[[scan.steps]]\nkind = \"point\"\nat_um = [-20.0, 0.0]\nexposure_s = 3.0\n"
    "[[scan.steps]]\nkind = \"point\"\nat_um = [500.0, 0.0]\nexposure_s = 1.0\n",
    "[output]\nthresholds_Gy = { low = 1.0e5, never = 1.0e9 }\n");

// When a voxel whose final dose is `dose_Gy` reached `threshold_Gy`, given the exposures
// that lit its column: dose grows linearly with beam-on time there. -1: never.
double crossing_by_hand(const std::vector<const Exposure*>& lit, double dose_Gy, double threshold_Gy) {
  if (dose_Gy < threshold_Gy) return -1;
  double total_s = 0;
  for (const Exposure* e : lit) total_s += e->duration_s;
  double need_s = total_s * threshold_Gy / dose_Gy;
  for (const Exposure* e : lit) {
    if (need_s <= e->duration_s) return e->t_start_s + need_s;
    need_s -= e->duration_s;
  }
  return lit.back()->t_end_s();
}

TEST(PointPositions, ColumnDosesAndCrossingsFollowTheExposureSchedule) {
  auto run = test::run_engine(kScene);
  const GridGeometry& g = run->g();
  const std::vector<PointPosition> positions =
      point_positions(run->scene, run->materials, *run->grid, run->timeline, run->results);

  ASSERT_EQ(positions.size(), 2u) << "the point outside the grid is left out";
  EXPECT_EQ(positions[0].at_um, (std::array<double, 2>{-20.0, 0.0}));
  EXPECT_EQ(positions[0].column, (std::array<int64_t, 2>{3, 2}));
  EXPECT_EQ(positions[0].exposures, 4);
  EXPECT_DOUBLE_EQ(positions[0].beam_on_s, 26.0);
  EXPECT_EQ(positions[1].at_um, (std::array<double, 2>{20.0, 0.0}));
  EXPECT_EQ(positions[1].column, (std::array<int64_t, 2>{7, 2}));
  EXPECT_EQ(positions[1].exposures, 2);
  EXPECT_DOUBLE_EQ(positions[1].beam_on_s, 4.0);

  const auto& names = run->results.tables.component_grid_names;
  int crossed_inside_an_exposure = 0, never = 0;
  for (const PointPosition& p : positions) {
    std::vector<const Exposure*> lit;
    for (const Exposure& e : run->timeline.exposures)
      if (e.x0_um == p.at_um[0] && e.y0_um == p.at_um[1]) lit.push_back(&e);
    // Beam order: copper, then the cathode and its two components.
    std::vector<std::string> rows;
    for (const PositionDose& d : p.doses) rows.push_back(d.name);
    ASSERT_EQ(rows, (std::vector<std::string>{"copper", "cathode", "NMC811", "EC"}));

    // The most dosed voxel of each, straight from the grids.
    const int copper_id = run->materials.index("copper"), cathode_id = run->materials.index("cathode");
    auto grid_of = [&](const char* name) {
      return run->results.component_dose(static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin()));
    };
    const float* d_nmc = grid_of("NMC811");
    const float* d_ec = grid_of("EC");
    double copper = 0, cathode = 0, nmc = 0, ec = 0;
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      const int64_t v = g.index(p.column[0], p.column[1], k);
      const double dose = run->results.dose_Gy[v];
      if (run->grid->material[v] == copper_id) copper = std::max(copper, dose);
      if (run->grid->material[v] == cathode_id) {
        cathode = std::max(cathode, dose);
        nmc = std::max(nmc, double(d_nmc[v]));
        ec = std::max(ec, double(d_ec[v]));
      }
    }
    const double expect_max[] = {copper, cathode, nmc, ec};
    for (size_t r = 0; r < p.doses.size(); ++r) {
      const PositionDose& d = p.doses[r];
      EXPECT_EQ(d.component, r >= 2) << d.name;
      EXPECT_GT(d.dose_max_Gy, 0) << d.name;
      EXPECT_EQ(d.dose_max_Gy, expect_max[r]) << d.name;
      ASSERT_EQ(d.first_crossing_s.size(), 2u);
      for (int t = 0; t < 2; ++t) {
        const double expect = crossing_by_hand(lit, d.dose_max_Gy, run->scene.output.thresholds[t].dose_Gy);
        if (expect < 0) {
          EXPECT_EQ(d.first_crossing_s[t], -1) << d.name << " threshold " << t;
          ++never;
        } else {
          EXPECT_NEAR(d.first_crossing_s[t], expect, 1e-5 * run->timeline.duration_s) << d.name << " threshold " << t;
          for (const Exposure* e : lit) crossed_inside_an_exposure += expect > e->t_start_s && expect < e->t_end_s();
        }
      }
    }
  }
  // Not vacuous: some rows cross the low threshold in the middle of an exposure; no row
  // (2 positions x 4) reaches the high one.
  EXPECT_GE(crossed_inside_an_exposure, 2);
  EXPECT_GE(never, 8);
}

TEST(PointPositions, ATurnedPointFollowsTheBeamPathThroughTheSample) {
  // The copper | cathode stack turned by 90 degrees about y: the beam runs along -x through
  // one row of voxels, at sample z = lab x + (the axis' z, mid-stack = 12 um).
  std::string text = kScene;
  text.replace(text.find("[beam]"), 6, "[sample.stage]\naxis = \"y\"\n[beam]");
  for (size_t p = 0; (p = text.find("exposure_s = ", p)) != std::string::npos; p += 20)
    text.insert(text.find('\n', p) + 1, "angle_deg = 90.0\n");
  // The turned stack spans lab x -12..12 um: the positions move inside it (z = 7 and 17 um).
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"[-20.0, 0.0]", "[-5.0, 0.0]"},
                                 {"[20.0, 0.0]", "[5.0, 0.0]"}})
    for (size_t p; (p = text.find(from)) != std::string::npos;) text.replace(p, from.size(), to);
  auto run = test::run_engine(text);
  const GridGeometry& g = run->g();
  const auto positions = point_positions(run->scene, run->materials, *run->grid, run->timeline, run->results);
  ASSERT_FALSE(positions.empty());
  int checked = 0;
  for (const PointPosition& p : positions) {
    EXPECT_EQ(p.angle_deg, 90.0);
    EXPECT_FALSE(p.column_path);
    const double z = p.at_um[0] + 0.5 * g.dims[2] * g.voxel_um[2];
    const int64_t k = static_cast<int64_t>(std::floor(z / g.voxel_um[2]));
    const int64_t j = static_cast<int64_t>(std::floor((p.at_um[1] - g.origin_um[1]) / g.voxel_um[1]));
    ASSERT_TRUE(k >= 0 && k < g.dims[2] && j >= 0 && j < g.dims[1]);
    // The row's voxels hold one material (a layer); its most dosed voxel and earliest crossing.
    const MaterialId m = run->grid->material[g.index(0, j, k)];
    double dose_max = 0, first_low = -1;
    for (int64_t i = 0; i < g.dims[0]; ++i) {
      const int64_t v = g.index(i, j, k);
      dose_max = std::max(dose_max, static_cast<double>(run->results.dose_Gy[v]));
      const float t = run->results.crossing(0)[v];
      if (t >= 0 && (first_low < 0 || t < first_low)) first_low = t;
    }
    ASSERT_FALSE(p.doses.empty());
    EXPECT_EQ(p.doses[0].name, run->materials.materials[m].name);
    EXPECT_EQ(p.doses[0].dose_max_Gy, dose_max);
    EXPECT_EQ(p.doses[0].first_crossing_s[0], first_low);
    for (const PositionDose& d : p.doses) {
      if (d.component) {
        EXPECT_TRUE(d.first_crossing_s.empty()) << "a slanted path knows no component crossing";
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 2);  // the third point misses the grid (lab x = 500 um)
}

}  // namespace
}  // namespace dosemap
