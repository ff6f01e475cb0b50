// The per-visit table (host/outputs/point_table.h, points.csv): one row per scan point and
// visit, whose doses equal the dose grid read back at the beam's columns (after the scan's
// last visit there), grow visit by visit as the fluence does, and whose peak rate is the
// dose a static visit adds over its duration; jittered positions give one row per visit and
// a bounded summary.json; scans that turn the sample say the table is not built yet.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "host/outputs/point_table.h"
#include "host/outputs/run_summary.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

const std::string kSample =
    "voxel_um = [4.0, 4.0, 5.0]\nlateral_um = [200.0, 120.0]\n"
    "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 20.0\n"
    "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 10.0\n";
const std::string kTopHat = "energy_keV = 27.0\nflux_ph_s = 1.0e11\nprofile = \"tophat\"\nsize_um = [16.0, 12.0]\n";
const std::string kThresholds = "[output]\nthresholds_Gy = { low = 1.0e3, high = 1.0e5 }\n";

struct ReadBack {
  double max = 0, mean = 0;
  int columns = 0;
};

// Largest and mean of `dose` over the voxels of the materials `counts` accepts, in the
// columns whose centre lies strictly inside the rectangle of half-sizes (half_x, half_y)
// around (x, y): the grid read back.
template <class Counts>
ReadBack grid_read_back(const test::EngineRun& run, const float* dose, Counts counts, double x, double y,
                        double half_x, double half_y) {
  const GridGeometry& g = run.g();
  ReadBack b;
  double sum = 0;
  int64_t n = 0;
  for (int64_t j = 0; j < g.dims[1]; ++j)
    for (int64_t i = 0; i < g.dims[0]; ++i) {
      if (std::fabs(g.center_um(0, i) - x) >= half_x || std::fabs(g.center_um(1, j) - y) >= half_y) continue;
      ++b.columns;
      for (int64_t k = 0; k < g.dims[2]; ++k) {
        const int64_t v = g.index(i, j, k);
        if (!counts(run.grid->material[v])) continue;
        b.max = std::max(b.max, static_cast<double>(dose[v]));
        sum += dose[v];
        ++n;
      }
    }
  b.mean = sum / n;
  return b;
}

// The same for the dose of material `name`.
ReadBack grid_read_back(const test::EngineRun& run, const std::string& name, double x, double y, double half_x,
                        double half_y) {
  int m = 0;
  while (run.materials.materials[m].name != name) ++m;
  return grid_read_back(run, run.results.dose_Gy.data(), [m](MaterialId id) { return id == m; }, x, y, half_x, half_y);
}

int material_column(const PointTable& t, const std::string& name) {
  return static_cast<int>(std::find(t.materials.begin(), t.materials.end(), name) - t.materials.begin());
}

TEST(PointTable, ARepeatedRasterReadsBackTheGridAndGrowsVisitByVisit) {
  // 4 x 3 points 40 um apart: top-hat footprints that never overlap; 3 repetitions.
  auto run = test::run_engine(test::make_scene(test::kCathodeMaterials, kSample, kTopHat,
                                               "[scan]\nrepeat = 3\n[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-60.0, -40.0]\n"
                                               "to_um = [60.0, 40.0]\nstep_um = [40.0, 40.0]\ndwell_s = 0.5\n",
                                               kThresholds));
  const PointTable t = point_table(run->scene, run->materials, *run->grid, run->timeline, run->results, 2);
  ASSERT_TRUE(t.not_built.empty()) << t.not_built;
  ASSERT_EQ(t.rows(), 36u);
  for (const std::string name : {"NMC811", "cathode"}) {
    const int m = material_column(t, name);
    ASSERT_LT(m, static_cast<int>(t.materials.size())) << name;
    for (size_t r = 0; r < t.rows(); ++r) {
      SCOPED_TRACE(name + " row " + std::to_string(r));
      EXPECT_EQ(t.step[r], 0);
      EXPECT_EQ(t.repetition[r], static_cast<int32_t>(r / 12));
      EXPECT_EQ(t.point[r], static_cast<int32_t>(r % 12));
      EXPECT_EQ(t.beam_on_s[r], 0.5);
      const ReadBack b = grid_read_back(*run, name, t.x_um[r], t.y_um[r], 8.0, 6.0);
      const double max = b.max, mean = b.mean;
      EXPECT_EQ(t.beam_columns[r], b.columns);
      EXPECT_GE(b.columns, 8);
      const double share = (t.repetition[r] + 1) / 3.0;  // of the final dose, after this visit
      EXPECT_NEAR(t.dose_max_Gy[m][r], share * max, 1e-12 * max);
      EXPECT_NEAR(t.dose_mean_Gy[m][r], share * mean, 1e-9 * mean);
      if (t.repetition[r] == 2) {
        EXPECT_EQ(t.dose_max_Gy[m][r], max);  // the scan's last visit there: the grid itself
      }
      // A static visit of a top-hat: the rate is the dose one visit adds over its duration.
      EXPECT_NEAR(t.rate_peak_Gy_s[m][r], max / 3.0 / 0.5, 1e-9 * max);
      int passed = 0;
      while (passed < 2 && t.dose_max_Gy[m][r] >= t.thresholds[m][passed].dose_Gy) ++passed;
      EXPECT_EQ(t.thresholds_passed[m][r], passed);
    }
  }
}

TEST(PointTable, ComponentsOfCompositesHaveTheirOwnColumnsReadBackFromTheirGrids) {
  auto run = test::run_engine(test::make_scene(test::kCathodeMaterials, kSample, kTopHat,
                                               "[[scan.steps]]\nkind = \"point\"\nat_um = [10.0, -20.0]\nexposure_s = 2.0\n",
                                               kThresholds));
  const PointTable t = point_table(run->scene, run->materials, *run->grid, run->timeline, run->results, 2);
  ASSERT_EQ(t.rows(), 1u);
  const auto& names = run->results.tables.component_grid_names;
  const int ec_grid = static_cast<int>(std::find(names.begin(), names.end(), "EC") - names.begin());
  ASSERT_LT(ec_grid, static_cast<int>(names.size()));
  const int m = material_column(t, "dose:EC");
  ASSERT_LT(m, static_cast<int>(t.materials.size()));
  // EC is only in the cathode: its grid's largest value in the beam's columns.
  int cathode = 0;
  while (run->materials.materials[cathode].name != "cathode") ++cathode;
  const double max = grid_read_back(*run, run->results.component_dose(ec_grid),
                                    [cathode](MaterialId id) { return id == cathode; }, 10.0, -20.0, 8.0, 6.0)
                         .max;
  EXPECT_GT(max, 0.0);
  EXPECT_EQ(t.dose_max_Gy[m][0], max);
  EXPECT_LT(t.dose_max_Gy[m][0], t.dose_max_Gy[material_column(t, "cathode")][0]);  // EC absorbs less than NMC
}

TEST(PointTable, TheSampleTurnedHalfWayReadsBackTheGrid) {
  // At stage angle 180 about y the beam enters the stack from its other face and lab x is
  // sample -x: the rays walk the slices backwards (not the grid's columns in order).
  auto run = test::run_engine(test::make_scene(test::kCathodeMaterials, kSample + "[sample.stage]\naxis = \"y\"\n", kTopHat,
                                               "[[scan.steps]]\nkind = \"point\"\nat_um = [10.0, -20.0]\nexposure_s = 2.0\n"
                                               "angle_deg = 180.0\n",
                                               kThresholds));
  const PointTable t = point_table(run->scene, run->materials, *run->grid, run->timeline, run->results, 2);
  ASSERT_TRUE(t.not_built.empty()) << t.not_built;
  ASSERT_EQ(t.rows(), 1u);
  for (const std::string name : {"NMC811", "cathode"}) {
    SCOPED_TRACE(name);
    const int m = material_column(t, name);
    const ReadBack b = grid_read_back(*run, name, -10.0, -20.0, 8.0, 6.0);
    EXPECT_GT(b.max, 0.0);
    EXPECT_EQ(t.dose_max_Gy[m][0], b.max);
    EXPECT_NEAR(t.dose_mean_Gy[m][0], b.mean, 1e-9 * b.mean);
    EXPECT_EQ(t.beam_columns[0], b.columns);
  }
}

TEST(PointTable, TheLastFlySegmentReadsBackTheGrid) {
  auto run = test::run_engine(test::make_scene(test::kCathodeMaterials, kSample, kTopHat,
                                               "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-60.0, -30.0], [60.0, -30.0], "
                                               "[60.0, 30.0]]\nspeed_um_s = 40.0\n",
                                               kThresholds));
  const PointTable t = point_table(run->scene, run->materials, *run->grid, run->timeline, run->results, 2);
  ASSERT_EQ(t.rows(), 2u);  // one row per segment
  EXPECT_EQ(t.point[1], 1);
  EXPECT_EQ(t.x_end_um[0], 60.0);
  EXPECT_EQ(t.y_end_um[1], 30.0);
  // The last segment (x = 60, y from -30 to 30): every column within the top-hat's half-size
  // of its path, which nothing exposes after it.
  const int m = material_column(t, "NMC811");
  const ReadBack b = grid_read_back(*run, "NMC811", 60.0, 0.0, 8.0, 36.0);
  EXPECT_EQ(t.dose_max_Gy[m][1], b.max);
  EXPECT_NEAR(t.dose_mean_Gy[m][1], b.mean, 1e-9 * b.mean);
  EXPECT_EQ(t.beam_columns[1], b.columns);
}

TEST(PointTable, JitteredPointsGiveOneRowPerVisitAndABoundedSummary) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> jitter(-0.01, 0.01);
  std::string scan = "[scan]\nrepeat = 2\n";
  const int points = 150;
  for (int p = 0; p < points; ++p) {
    scan += "[[scan.steps]]\nkind = \"point\"\nat_um = [" + std::to_string(-60 + 0.8 * p + jitter(rng)) + ", " +
            std::to_string(jitter(rng)) + "]\nexposure_s = 0.01\n";
  }
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", test::make_scene(test::kCathodeMaterials, kSample, kTopHat, scan, kThresholds));
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream csv(dir / "out" / "points.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 1 + 2 * points);  // the header, then one row per visit
  const nlohmann::json s = nlohmann::json::parse(test::read_file(dir / "out" / "summary.json"));
  EXPECT_EQ(s["points"]["file"], "points.csv");
  EXPECT_EQ(s["points"]["rows"], 2 * points);
  EXPECT_EQ(s["point_positions_total"], points);
  EXPECT_EQ(s["point_positions"].size(), kSummaryPositions);
  EXPECT_NE(r.out.find("every visit of every point in points.csv"), std::string::npos) << r.out;
}

TEST(PointTable, AScanThatTurnsTheSampleSaysTheTableIsNotBuiltYet) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml",
                   test::make_scene(test::kCathodeMaterials, kSample + "[sample.stage]\naxis = \"y\"\n", kTopHat,
                                    "[[scan.steps]]\nkind = \"rotate\"\nat_um = [0.0, 0.0]\nfrom_deg = 0.0\n"
                                    "to_deg = 30.0\nstep_deg = 10.0\ndwell_s = 0.1\n",
                                    kThresholds));
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "points.csv"));
  const nlohmann::json s = nlohmann::json::parse(test::read_file(dir / "out" / "summary.json"));
  EXPECT_TRUE(s["points"]["file"].is_null());
  EXPECT_NE(s["points"]["not_built"].get<std::string>().find("not built yet"), std::string::npos);
}

// A column of points.h5 and its units attribute.
std::vector<double> h5_column(const std::filesystem::path& file, const std::string& name, std::string* units) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << file;
  const hid_t set = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  const hid_t space = H5Dget_space(set);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  std::vector<double> v(n);
  if (n) H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());  // ints convert
  const hid_t attr = H5Aopen(set, "units", H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  std::string text(H5Tget_size(type), '\0');
  H5Aread(attr, type, text.data());
  *units = text.c_str();
  H5Tclose(type);
  H5Aclose(attr);
  H5Sclose(space);
  H5Dclose(set);
  H5Fclose(f);
  return v;
}

TEST(PointTable, PointsH5HoldsTheCsvColumnsWithUnits) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml",
                   test::make_scene(test::kCathodeMaterials, kSample, kTopHat,
                                    "[scan]\nrepeat = 2\n[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-40.0, 0.0]\n"
                                    "to_um = [40.0, 0.0]\nstep_um = [40.0, 10.0]\ndwell_s = 0.5\n",
                                    kThresholds));
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // points.csv: header, then rows; the NMC811 max dose column and the step column.
  std::ifstream csv(dir / "out" / "points.csv");
  std::string line;
  std::getline(csv, line);
  std::vector<std::string> header;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) header.push_back(line);
  const size_t col = std::find(header.begin(), header.end(), "NMC811_dose_max_Gy") - header.begin();
  ASSERT_LT(col, header.size());
  std::vector<double> csv_dose, csv_repetition;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    for (std::stringstream ss(line); std::getline(ss, line, ',');) f.push_back(line);
    csv_dose.push_back(std::stod(f[col]));
    csv_repetition.push_back(std::stod(f[2]));
  }
  ASSERT_EQ(csv_dose.size(), 6u);
  std::string units;
  const std::vector<double> dose = h5_column(dir / "out" / "points.h5", "NMC811_dose_max_Gy", &units);
  EXPECT_EQ(units, "Gy");
  ASSERT_EQ(dose.size(), csv_dose.size());
  for (size_t i = 0; i < dose.size(); ++i) EXPECT_NEAR(dose[i], csv_dose[i], 1e-8 * dose[i]);  // CSV: 9 digits
  EXPECT_EQ(h5_column(dir / "out" / "points.h5", "repetition", &units), csv_repetition);
  EXPECT_EQ(h5_column(dir / "out" / "points.h5", "x_um", &units), (std::vector<double>{-40, 0, 40, -40, 0, 40}));
  EXPECT_EQ(units, "um");
}

}  // namespace
}  // namespace dosemap
