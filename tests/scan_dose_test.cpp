// Dose from whole scans: seamless rasters, order and translation invariance, linearity,
// symmetry, fly scans as the limit of point exposures, and determinism across threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tests/engine_harness.h"

namespace dosemap {
namespace {

const std::string kAluminium = "[materials.al]\nformula = \"Al\"\n";

std::string sample(const std::string& voxel = "[5.0, 5.0, 5.0]", const std::string& lateral = "[200.0, 200.0]") {
  return "voxel_um = " + voxel + "\nlateral_um = " + lateral +
         "\n[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 20.0\n";
}

std::string beam(const std::string& profile, double flux = 1e10) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", flux);
  return "energy_keV = 20.0\nflux_ph_s = " + std::string(buf) + "\n" + profile;
}

const std::string kTopHat20 = "profile = \"tophat\"\nsize_um = [20.0, 20.0]\n";
const std::string kGaussian = "profile = \"gaussian\"\nfwhm_um = [12.0, 8.0]\n";

std::string raster(const std::string& order, double dwell = 1.0, double x0 = -40, double y0 = -40) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [%g, %g]\nto_um = [%g, %g]\nstep_um = [20.0, 20.0]\n"
                "dwell_s = %g\nmove_s = 0.3\norder = \"%s\"\n",
                x0, y0, x0 + 80, y0 + 80, dwell, order.c_str());
  return buf;
}

void expect_grids_near(const BulkVector<float>& a, const BulkVector<float>& b, double rel, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  float scale = 0;
  for (float v : b) scale = std::max(scale, std::fabs(v));
  int bad = 0;
  for (size_t v = 0; v < a.size(); ++v)
    if (std::fabs(a[v] - b[v]) > rel * std::max(std::fabs(b[v]), 1e-30f * scale) && bad++ < 5)
      ADD_FAILURE() << what << " differs at voxel " << v << ": " << a[v] << " vs " << b[v];
}

TEST(ScanDose, AbuttingTopHatTilesGiveUniformDose) {
  // 5 x 5 tiles of 20 um on a 20 um pitch cover x, y in [-50, 50) exactly once.
  auto run = test::run_engine(test::make_scene(kAluminium, sample(), beam(kTopHat20), raster("snake")));
  const GridGeometry& g = run->g();
  for (int64_t k = 0; k < g.dims[2]; ++k) {
    const float ref = run->dose(g.dims[0] / 2, g.dims[1] / 2, k);
    ASSERT_GT(ref, 0);
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const double x = g.center_um(0, i), y = g.center_um(1, j);
        if (std::fabs(x) < 50 && std::fabs(y) < 50) {
          EXPECT_NEAR(run->dose(i, j, k), ref, 1e-6 * ref) << i << "," << j << "," << k;
        } else {
          EXPECT_EQ(run->dose(i, j, k), 0.0f);
        }
      }
  }
}

TEST(ScanDose, ColumnsNoRayWentDownHoldTheStateBeforeAnyExposure) {
  // A small spot with frames, thresholds and a composite: the engine's record of the columns
  // it marched (which lets the writer skip reading the others) is exact: every voxel of a
  // column it did not march holds the state before any exposure, bit for bit, in every array.
  auto run = test::run_engine(test::make_scene(
      kAluminium + test::kCathodeMaterials,
      "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [200.0, 100.0]\n"
      "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 20.0\n"
      "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 20.0\n",
      beam(kTopHat20, 1e12),
      "[[scan.steps]]\nkind = \"point\"\nat_um = [-30.0, 10.0]\nexposure_s = 20.0\n",
      "[output]\nthresholds_Gy = { low = 1.0e2, high = 1.0e5 }\nframes_s = [5.0, 20.0]\n"));
  const DoseResults& r = run->results;
  const GridGeometry& g = run->g();
  ASSERT_EQ(r.column_marched.size(), static_cast<size_t>(g.columns()));
  ASSERT_GT(r.tables.thresholds.count(), 0);
  ASSERT_GT(r.tables.component_grid_names.size(), 0u);
  ASSERT_EQ(r.frame_dose_Gy.size(), static_cast<size_t>(2 * g.voxels()));
  auto bits = [](float x) {
    uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
  };
  const uint32_t zero = bits(0.0f), never = bits(-1.0f);
  int64_t marched = 0, dosed_columns = 0;
  for (int64_t c = 0; c < g.columns(); ++c) {
    bool dosed = false;
    for (int64_t k = 0; k < g.dims[2]; ++k) dosed |= r.dose_Gy[k * g.columns() + c] > 0;
    dosed_columns += dosed;
    marched += r.column_marched[c];
    if (r.column_marched[c]) continue;
    ASSERT_FALSE(dosed) << "column " << c;
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      const int64_t v = k * g.columns() + c;
      ASSERT_EQ(bits(r.dose_Gy[v]), zero) << v;
      ASSERT_EQ(bits(r.rate_peak_Gy_s[v]), zero) << v;
      ASSERT_EQ(bits(r.rate_mean_Gy_s[v]), zero) << v;
      for (int t = 0; t < r.tables.thresholds.count(); ++t) ASSERT_EQ(bits(r.crossing(t)[v]), never) << v;
      for (size_t m = 0; m < r.tables.component_grid_names.size(); ++m)
        ASSERT_EQ(bits(r.component_dose(static_cast<int>(m))[v]), zero) << v;
      for (int f = 0; f < 2; ++f) ASSERT_EQ(bits(r.frame_dose(f)[v]), zero) << v;
    }
  }
  EXPECT_GT(dosed_columns, 0);
  EXPECT_GE(marched, dosed_columns);
  EXPECT_LT(marched, g.columns() / 4);  // the spot covers a small part
}

TEST(ScanDose, SnakeAndLinesOrderGiveTheSameDose) {
  auto snake = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian), raster("snake")));
  auto lines = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian), raster("lines")));
  expect_grids_near(snake->results.dose_Gy, lines->results.dose_Gy, 1e-6, "dose");
  expect_grids_near(snake->results.rate_peak_Gy_s, lines->results.rate_peak_Gy_s, 1e-6, "peak rate");
  expect_grids_near(snake->results.rate_mean_Gy_s, lines->results.rate_mean_Gy_s, 1e-6, "mean rate");
}

TEST(ScanDose, ShiftingTheRasterShiftsTheDose) {
  auto a = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian), raster("snake", 1.0, -40, -40)));
  auto b = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian), raster("snake", 1.0, -25, -30)));
  const GridGeometry& g = a->g();
  const int64_t di = 3, dj = 2;  // 15 um and 10 um in 5 um voxels
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j + dj < g.dims[1]; ++j)
      for (int64_t i = 0; i + di < g.dims[0]; ++i) {
        const float ref = a->dose(i, j, k);
        EXPECT_NEAR(b->dose(i + di, j + dj, k), ref, 1e-6 * ref + 1e-12) << i << "," << j << "," << k;
      }
}

TEST(ScanDose, DoseIsLinearInFluxAndTime) {
  auto base = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian, 1e10), raster("snake", 1.0)));
  auto flux3 = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian, 3e10), raster("snake", 1.0)));
  auto time2 = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian, 1e10), raster("snake", 2.0)));
  for (size_t v = 0; v < base->results.dose_Gy.size(); ++v) {
    const double d = base->results.dose_Gy[v], r = base->results.rate_peak_Gy_s[v];
    EXPECT_NEAR(flux3->results.dose_Gy[v], 3 * d, 3e-6 * d + 1e-30);
    EXPECT_NEAR(flux3->results.rate_peak_Gy_s[v], 3 * r, 3e-6 * r + 1e-30);
    EXPECT_NEAR(time2->results.dose_Gy[v], 2 * d, 2e-6 * d + 1e-30);
    EXPECT_NEAR(time2->results.rate_peak_Gy_s[v], r, 1e-6 * r + 1e-30);  // same rate, longer
  }
}

TEST(ScanDose, SymmetricSceneGivesSymmetricGrids) {
  // A raster centred on the grid, symmetric in x and y (odd point counts), Gaussian beam.
  auto run = test::run_engine(test::make_scene(kAluminium, sample(), beam(kGaussian), raster("snake")));
  const GridGeometry& g = run->g();
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const float d = run->dose(i, j, k);
        EXPECT_NEAR(run->dose(g.dims[0] - 1 - i, j, k), d, 1e-6 * d + 1e-30);
        EXPECT_NEAR(run->dose(i, g.dims[1] - 1 - j, k), d, 1e-6 * d + 1e-30);
      }
}

TEST(ScanDose, ThreadCountDoesNotChangeAnyBit) {
  const std::string text = test::make_scene(kAluminium, sample(), beam(kGaussian), raster("snake"),
                                            "[output]\nthresholds_Gy = { a = 1.0e2, b = 1.0e3 }\n");
  auto one = test::run_engine(text, 1);
  auto three = test::run_engine(text, 3);
  EXPECT_EQ(one->results.dose_Gy, three->results.dose_Gy);
  EXPECT_EQ(one->results.rate_mean_Gy_s, three->results.rate_mean_Gy_s);
  EXPECT_EQ(one->results.crossing_s, three->results.crossing_s);
}

// ---- fly scans ----

std::string fly(double speed_um_s, const std::string& path = "[[-60.0, 2.5], [60.0, 2.5]]") {
  char buf[256];
  std::snprintf(buf, sizeof buf, "[[scan.steps]]\nkind = \"fly\"\npath_um = %s\nspeed_um_s = %g\n", path.c_str(), speed_um_s);
  return buf;
}

// The same path as many short point exposures at the midpoints of equal pieces.
Scene points_along(const std::string& profile, double x0, double y0, double x1, double y1, double duration_s, int n) {
  Scene s = read_scene_text(test::make_scene(kAluminium, sample(), beam(profile), fly(1.0)), "points.toml");
  s.scan.steps.clear();
  for (int p = 0; p < n; ++p) {
    const double f = (p + 0.5) / n;
    ScanStep step;
    step.kind = StepKind::kPoint;
    step.at_um = {x0 + f * (x1 - x0), y0 + f * (y1 - y0)};
    step.exposure_s = duration_s / n;
    s.scan.steps.push_back(step);
  }
  return s;
}

TEST(ScanDose, FlyScanIsTheLimitOfManyShortPointExposures) {
  // 20 000 points: the midpoint sum's error (h^2, largest where the beam grazes a column)
  // is below 1e-5 everywhere.
  for (const std::string& profile : {kGaussian, kTopHat20}) {
    for (const char* path : {"[[-60.0, 2.5], [60.0, 2.5]]", "[[-50.0, -40.0], [45.0, 35.0]]"}) {
      double x0, y0, x1, y1;
      std::sscanf(path, "[[%lf, %lf], [%lf, %lf]]", &x0, &y0, &x1, &y1);
      const double duration = std::hypot(x1 - x0, y1 - y0) / 40.0;
      auto flying = test::run_engine(test::make_scene(kAluminium, sample(), beam(profile), fly(40.0, path)));
      auto stepped = test::run_engine(points_along(profile, x0, y0, x1, y1, duration, 20000));
      float scale = 0;
      for (float d : stepped->results.dose_Gy) scale = std::max(scale, d);
      int bad = 0;
      for (size_t v = 0; v < flying->results.dose_Gy.size(); ++v) {
        const double a = flying->results.dose_Gy[v], b = stepped->results.dose_Gy[v];
        if (std::fabs(a - b) > 1e-4 * b + 1e-9 * scale && bad++ < 5)
          ADD_FAILURE() << profile << path << " voxel " << v << ": fly " << a << " vs points " << b;
      }
      EXPECT_NEAR(flying->results.energy.deposited_J, stepped->results.energy.deposited_J,
                  1e-6 * stepped->results.energy.deposited_J);
    }
  }
}

TEST(ScanDose, FlyScanPeakRateIsWithinOnePercentOfTheExactPeak) {
  // The exact peak rate of a column the beam centre crosses is the rate of a static beam
  // over that column's centre (profiles peak at their centre; the column averages them).
  for (const std::string& profile : {kGaussian, kTopHat20, std::string("profile = \"tophat\"\nsize_um = [5.0, 5.0]\n")}) {
    auto flying = test::run_engine(test::make_scene(kAluminium, sample(), beam(profile), fly(25.0, "[[-60.0, 2.5], [60.0, 2.5]]")));
    const GridGeometry& g = flying->g();
    for (int64_t i : {14, 20, 27}) {  // columns centred at x = -27.5, 2.5, 37.5
      char at[128];
      std::snprintf(at, sizeof at, "[[scan.steps]]\nkind = \"point\"\nat_um = [%g, 2.5]\nexposure_s = 1.0\n", g.center_um(0, i));
      auto parked = test::run_engine(test::make_scene(kAluminium, sample(), beam(profile), at));
      const int64_t j = 20;  // y centre 2.5: on the path
      for (int64_t k = 0; k < g.dims[2]; ++k) {
        const int64_t v = g.index(i, j, k);
        const double exact = parked->results.rate_peak_Gy_s[v];
        EXPECT_LE(flying->results.rate_peak_Gy_s[v], exact * (1 + 1e-9)) << profile << " column " << i;
        EXPECT_GE(flying->results.rate_peak_Gy_s[v], 0.99 * exact) << profile << " column " << i;
      }
    }
  }
}

}  // namespace
}  // namespace dosemap
