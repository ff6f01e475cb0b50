// Bitwise-stable results: the same scene run again, or with another number of threads,
// gives identical grids and identical summary numbers (timings and the device aside).
// Records kept from a beamtime must not change with the machine that recomputes them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "host/outputs/dose_statistics.h"
#include "host/outputs/vdb_io.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Composites, a spectrum, a fly path, thresholds and frames: every reduction is exercised.
const std::string kScene = test::make_scene(
    "[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials, R"(voxel_um = [2.0, 2.0, 2.0]
lateral_um = [160.0, 120.0]
[[sample.layers]]
material = "copper"
thickness_um = 10.0
[[sample.layers]]
material = "cathode"
thickness_um = 40.0
)",
    R"(spectrum = [[26.0, 1.0], [27.0, 2.0], [28.5, 1.0]]
flux_ph_s = 3e10
profile = "gaussian"
fwhm_um = [14.0, 9.0]
)",
    R"([scan]
repeat = 3
[[scan.steps]]
kind = "raster"
from_um = [-40.0, -30.0]
to_um = [40.0, 30.0]
step_um = [7.0, 5.0]
dwell_s = 0.7
[[scan.steps]]
kind = "fly"
path_um = [[-60.0, 20.0], [60.0, -20.0]]
speed_um_s = 15.0
)",
    "[output]\nthresholds_Gy = { a = 1.0e3, b = 1.0e5, c = 1.0e6 }\nframe_every_s = 200.0\n");

// The summary without what may differ between runs of the same scene.
Json stable_part(Json summary) {
  summary.erase("run");
  return summary;
}

TEST(Determinism, RunsWithOneTwoOrThreeThreadsAndAgainAreIdentical) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", kScene);
  std::vector<fs::path> outs;
  for (const char* threads : {"1", "2", "3", "3"}) {
    outs.push_back(dir / ("out_" + std::to_string(outs.size())));
    const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", outs.back().string(), "--threads", threads,
                                      "--backend", "cpu"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const Json reference = stable_part(Json::parse(test::read_file(outs[0] / "summary.json")));
  GridGeometry g;
  for (int a = 0; a < 3; ++a) {
    g.dims[a] = reference["grid"]["dims"][a];
    g.voxel_um[a] = reference["grid"]["voxel_um"][a];
    g.origin_um[a] = reference["grid"]["origin_um"][a];
  }
  std::vector<std::string> float_grids;
  for (const auto& grid : read_vdb_summary((outs[0] / "dose.vdb").string()).grids)
    if (grid.type == "float") float_grids.push_back(grid.name);
  ASSERT_GE(float_grids.size(), 9u);  // dose, rates, 3 crossing times, component doses, density
  for (size_t i = 1; i < outs.size(); ++i) {
    SCOPED_TRACE(outs[i].string());
    // Equal as JSON values: every number bit for bit (the text is written with round-trip digits).
    EXPECT_EQ(stable_part(Json::parse(test::read_file(outs[i] / "summary.json"))), reference);
    EXPECT_EQ(test::read_file(outs[i] / "dose_history.json"), test::read_file(outs[0] / "dose_history.json"));
    for (const auto& name : float_grids) {
      const auto a = read_float_grid((outs[0] / "dose.vdb").string(), name, g, -7.0f);
      const auto b = read_float_grid((outs[i] / "dose.vdb").string(), name, g, -7.0f);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << name;
    }
    EXPECT_EQ(read_float_grid((outs[i] / "frames/dose_0002.vdb").string(), "dose", g, -7.0f),
              read_float_grid((outs[0] / "frames/dose_0002.vdb").string(), "dose", g, -7.0f));
  }
}

TEST(Determinism, StatisticsSumTheSameBitsForAnyThreadCount) {
  // Per-thread partial sums made the totals depend on the split: with 120 000 voxels of
  // widely spread doses the last bits differed between 1, 2, 3 and 7 threads.
  auto run = test::run_engine(kScene, 2);
  std::mt19937 rng(7);
  std::lognormal_distribution<double> spread(0.0, 3.0);
  DoseResults& r = run->results;
  for (float& d : r.dose_Gy) d = static_cast<float>(spread(rng));
  const RunStatistics one = compute_statistics(run->materials, *run->grid, r, 1);
  for (int threads : {2, 3, 7}) {
    const RunStatistics many = compute_statistics(run->materials, *run->grid, r, threads);
    EXPECT_EQ(many.deposited_J, one.deposited_J) << threads << " threads";
    EXPECT_EQ(many.dose_max_voxel, one.dose_max_voxel);
    for (size_t m = 0; m < one.materials.size(); ++m) {
      EXPECT_EQ(many.materials[m].deposited_J, one.materials[m].deposited_J) << one.materials[m].name;
      for (size_t c = 0; c < one.materials[m].components.size(); ++c)
        EXPECT_EQ(many.materials[m].components[c].deposited_J, one.materials[m].components[c].deposited_J);
    }
  }
}

}  // namespace
}  // namespace dosemap
