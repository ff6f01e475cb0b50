// `dosemap run` as a user meets it: summary.json consistent with dose.vdb and with the
// engine, masks and crossing grids consistent with the dose, safe output directories,
// refusal of runs that cannot fit in memory, and `dosemap info`.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "host/outputs/vdb_io.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using Json = nlohmann::json;
using test::run_dosemap;
using test::ScratchDir;

// The quickstart foil, with a composite layer and a fly step so every grid kind appears.
const std::string kScene = "format = 1\ntitle = \"outputs test\"\n[materials.copper]\nformula = \"Cu\"\n" +
                          test::kCathodeMaterials + R"([sample]
voxel_um = [4.0, 4.0, 2.0]
lateral_um = [120.0, 60.0]
[[sample.layers]]
material = "copper"
thickness_um = 6.0
[[sample.layers]]
material = "cathode"
thickness_um = 20.0
[[sample.shapes]]
kind = "sphere"
material = "void"
center_um = [10.0, 0.0, 16.0]
radius_um = 8.0
[beam]
energy_keV = 27.0
flux_ph_s = 5e10
profile = "gaussian"
fwhm_um = [10.0, 6.0]
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 30.0
[[scan.steps]]
kind = "fly"
path_um = [[-20.0, 10.0], [20.0, 10.0]]
speed_um_s = 10.0
[output]
thresholds_Gy = { low = 1.0e4, high = 3.0e6, never = 1.0e12 }
)";

struct RunDir {
  ScratchDir dir;
  std::string out, scene;
  test::CommandResult result;
  Json summary;
  GridGeometry g;
};

std::unique_ptr<RunDir> run_scene(const std::string& text) {
  auto owned = std::make_unique<RunDir>();
  RunDir& r = *owned;
  r.scene = (r.dir / "scene.toml").string();
  test::write_file(r.scene, text);
  r.out = (r.dir / "results").string();
  r.result = run_dosemap({"run", r.scene, "-o", r.out, "--threads", "2"});
  if (r.result.exit_code == 0) {
    r.summary = Json::parse(test::read_file(r.dir / "results/summary.json"));
    const auto& grid = r.summary["grid"];
    for (int a = 0; a < 3; ++a) {
      r.g.dims[a] = grid["dims"][a];
      r.g.voxel_um[a] = grid["voxel_um"][a];
      r.g.origin_um[a] = grid["origin_um"][a];
    }
  }
  return owned;
}

TEST(RunOutputs, SummaryEnergiesAgreeWithTheDoseGrid) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  const std::string vdb = r.out + "/dose.vdb";
  const std::vector<float> dose = read_float_grid(vdb, "dose", r.g, 0.0f);
  const std::vector<int32_t> material = read_material_grid(vdb, r.g);
  const Json& mats = r.summary["materials"];
  std::vector<double> density(mats.size(), 0);  // by material index
  double deposited_by_material = 0;
  for (auto it = mats.begin(); it != mats.end(); ++it) {
    density.at((*it)["index"].get<int>()) = (*it)["density_g_cm3"];
    deposited_by_material += (*it)["deposited_J"].get<double>();
    EXPECT_NEAR((*it)["dose_mean_Gy"].get<double>() * (*it)["mass_g"].get<double>() * 1e-3,
                (*it)["deposited_J"].get<double>(), 1e-9 * (*it)["deposited_J"].get<double>() + 1e-30);
  }
  const Json& e = r.summary["energy_J"];
  const double deposited = e["deposited"], incident = e["incident"], transmitted = e["transmitted"], other = e["other"];
  // energy_J.deposited = sum over voxels of dose x mass, from the grids read back.
  double from_grid = 0;
  int64_t void_voxels = 0;
  for (int64_t v = 0; v < r.g.voxels(); ++v) {
    if (material[v] < 0) {
      ++void_voxels;
      EXPECT_EQ(dose[v], 0.0f);
      continue;
    }
    from_grid += dose[v] * density.at(material[v]) * r.g.voxel_volume_cm3() * 1e-3;
  }
  EXPECT_GT(void_voxels, 0);  // the sphere
  EXPECT_NEAR(from_grid, deposited, 1e-6 * deposited);
  EXPECT_NEAR(deposited_by_material, deposited, 1e-6 * deposited);
  EXPECT_GE(other, 0.0);
  EXPECT_NEAR(incident, deposited + transmitted + other, 1e-6 * incident);
  // The beam lies inside the grid: every photon's energy is incident.
  EXPECT_NEAR(incident, e["beam"].get<double>(), 1e-9 * incident);
}

TEST(RunOutputs, DoseVdbEqualsTheEngineAndMasksFollowTheDose) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  auto engine = test::run_engine(kScene);
  const std::string vdb = r.out + "/dose.vdb";
  const std::vector<float> dose = read_float_grid(vdb, "dose", r.g, 0.0f);
  ASSERT_EQ(dose.size(), engine->results.dose_Gy.size());  // same voxels
  for (int64_t v = 0; v < r.g.voxels(); ++v) ASSERT_EQ(dose[v], engine->results.dose_Gy[v]) << v;
  const std::vector<float> nmc = read_float_grid(vdb, "dose:NMC811", r.g, -1.0f);
  const auto& names = engine->results.tables.component_grid_names;
  const int nmc_grid = static_cast<int>(std::find(names.begin(), names.end(), "NMC811") - names.begin());
  for (int64_t v = 0; v < r.g.voxels(); ++v) {
    const bool cathode = engine->grid->material[v] == 3;
    if (cathode) ASSERT_EQ(nmc[v], engine->results.component_dose(nmc_grid)[v]) << v;
    else ASSERT_EQ(nmc[v], -1.0f) << v;  // inactive outside voxels holding NMC811
  }
  const char* labels[] = {"low", "high", "never"};
  const double levels[] = {1e4, 3e6, 1e12};
  for (int t = 0; t < 3; ++t) {
    const auto mask = read_bool_grid(vdb, std::string("dose_gt_") + labels[t], r.g);
    const auto cross = read_float_grid(vdb, std::string("t_") + labels[t] + "_s", r.g, -1.0f);
    int64_t above = 0;
    for (int64_t v = 0; v < r.g.voxels(); ++v) {
      const bool matter = engine->grid->material[v] != kVoidId;
      const bool over = matter && dose[v] >= levels[t];
      ASSERT_EQ(mask[v], over ? 1 : 0) << labels[t] << " voxel " << v;
      ASSERT_EQ(cross[v] >= 0, over) << labels[t] << " voxel " << v;
      if (over) {
        ASSERT_EQ(cross[v], engine->results.crossing(t)[v]);
        ASSERT_LE(cross[v], r.summary["time"]["scan_duration_s"].get<double>() + 1e-3);
      }
      above += over;
    }
    if (t == 0) {
      EXPECT_GT(above, 0);
    }
    if (t == 2) {
      EXPECT_EQ(above, 0);
    }
  }
  EXPECT_EQ(r.summary["backend"], "cpu");
  EXPECT_EQ(r.summary["dose_model"], "mu_en");
  EXPECT_EQ(r.summary["time"]["exposures"], 2);
  EXPECT_TRUE(r.summary["materials"]["cathode"]["components"].contains("NMC811"));
  EXPECT_TRUE(r.summary["materials"]["cathode"]["above"]["never"]["first_crossing_s"].is_null());
}

TEST(RunOutputs, SummaryPointPositionsAgreeWithTheGridsReadBack) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  const Json& positions = r.summary["point_positions"];
  ASSERT_EQ(positions.size(), 1u);  // the point step; the fly step is not a position
  const Json& p = positions[0];
  EXPECT_EQ(p["at_um"], Json::parse("[0.0, 0.0]"));
  EXPECT_EQ(p["exposures"], 1);
  EXPECT_EQ(p["beam_on_s"], 30.0);
  const int64_t i = p["column"][0], j = p["column"][1];
  EXPECT_LE(r.g.origin_um[0] + i * r.g.voxel_um[0], 0.0);
  EXPECT_GT(r.g.origin_um[0] + (i + 1) * r.g.voxel_um[0], 0.0);
  const std::string vdb = r.out + "/dose.vdb";
  const std::vector<float> dose = read_float_grid(vdb, "dose", r.g, 0.0f);
  const std::vector<float> nmc = read_float_grid(vdb, "dose:NMC811", r.g, 0.0f);
  const std::vector<float> low = read_float_grid(vdb, "t_low_s", r.g, -1.0f);
  const std::vector<int32_t> material = read_material_grid(vdb, r.g);
  const int cathode = r.summary["materials"]["cathode"]["index"];
  double cathode_max = 0, nmc_max = 0, cathode_low = -1;
  for (int64_t k = 0; k < r.g.dims[2]; ++k) {
    const int64_t v = (k * r.g.dims[1] + j) * r.g.dims[0] + i;
    if (material[v] != cathode) continue;
    cathode_max = std::max(cathode_max, double(dose[v]));
    nmc_max = std::max(nmc_max, double(nmc[v]));
    if (low[v] >= 0 && (cathode_low < 0 || low[v] < cathode_low)) cathode_low = low[v];
  }
  const Json& c = p["materials"]["cathode"];
  EXPECT_EQ(c["dose_max_Gy"].get<double>(), cathode_max);
  EXPECT_EQ(c["components"]["NMC811"]["dose_max_Gy"].get<double>(), nmc_max);
  ASSERT_GE(cathode_low, 0);
  EXPECT_EQ(c["first_crossing_s"]["low"].get<double>(), cathode_low);
  EXPECT_TRUE(c["first_crossing_s"]["never"].is_null());
  EXPECT_NE(r.result.out.find("Point positions"), std::string::npos) << r.result.out;
}

TEST(RunOutputs, ReportShowsMaterialsComponentsAndEnergyBalance) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  for (const char* want : {"dosemap run: outputs test", "copper", "cathode", "  NMC811", "  EC", "Energy balance",
                           "low 10 kGy", "results"})
    EXPECT_NE(r.result.out.find(want), std::string::npos) << want << "\n" << r.result.out;
  // No progress line when stderr is not a terminal: only the scene's warnings (its 6 um beam
  // on 4 um voxels) and at most the one-line notice that a CUDA build found no GPU.
  std::istringstream err(r.result.err);
  int warnings = 0;
  for (std::string line; std::getline(err, line);) {
    warnings += line.find(": warning: ") != std::string::npos;
    EXPECT_TRUE(line.find(": warning: ") != std::string::npos || line.rfind("dosemap: note: running on the CPU (", 0) == 0)
        << line;
  }
  EXPECT_GE(warnings, 1) << r.result.err;
}

TEST(RunOutputs, AnEarlierRunIsNeverOverwrittenSilently) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  const std::string before = test::read_file(r.dir / "results/summary.json");
  auto again = run_dosemap({"run", r.scene, "-o", r.out});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already holds the results of a dosemap run"), std::string::npos) << again.err;
  EXPECT_EQ(test::read_file(r.dir / "results/summary.json"), before);
  auto forced = run_dosemap({"run", r.scene, "-o", r.out, "--overwrite"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  // No temporary files are left behind.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(r.out)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"dose.vdb", "dose_history.json", "points.csv", "points.h5", "summary.json"}));
}

TEST(RunOutputs, RefusesARunThatCannotFitInMemoryWritesNothingAndCheckRefusesItToo) {
  std::string text = kScene;
  const std::string grid = "voxel_um = [4.0, 4.0, 2.0]\nlateral_um = [120.0, 60.0]";
  text.replace(text.find(grid), grid.size(), "voxel_um = [0.5, 0.5, 2.0]\nlateral_um = [30000.0, 30000.0]");
  ScratchDir dir;
  test::write_file(dir / "huge.toml", text);
  auto r = run_dosemap({"run", (dir / "huge.toml").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("huge.toml:14:"), std::string::npos) << r.err;  // the voxel_um line
  EXPECT_NE(r.err.find("the run needs about"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("use voxel_um = ["), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  // `check` accepts exactly what `run` accepts: the same error (its numbers follow the
  // memory available at the moment), first and alone, exit 2.
  auto c = run_dosemap({"check", (dir / "huge.toml").string()});
  EXPECT_EQ(c.exit_code, 2) << c.out;
  const std::string head = "huge.toml:14:12: error: the run needs about";
  EXPECT_NE(c.err.find(head), std::string::npos) << c.err;
  EXPECT_NE(r.err.find(head), std::string::npos) << r.err;
  EXPECT_NE(c.err.find("use voxel_um = ["), std::string::npos) << c.err;
  EXPECT_TRUE(c.out.empty()) << c.out;
}

TEST(RunOutputs, BackendCudaFailsClearlyWithoutAGpu) {
  std::string why;
  if (cuda_backend_usable(why)) GTEST_SKIP() << "a GPU is usable here";
  RunDir r;
  r.scene = (r.dir / "scene.toml").string();
  test::write_file(r.scene, kScene);
  auto res = run_dosemap({"run", r.scene, "-o", (r.dir / "out").string(), "--backend", "cuda"});
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--backend cuda is not available"), std::string::npos) << res.err;
  EXPECT_FALSE(std::filesystem::exists(r.dir / "out"));
}

TEST(RunOutputs, InfoListsGridsUnitsAndRanges) {
  auto run_ptr = run_scene(kScene);
  RunDir& r = *run_ptr;
  ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
  auto info = run_dosemap({"info", r.out + "/dose.vdb"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* want : {"material", "dose ", "dose_rate_peak", "dose_rate_mean", "t_low_s", "dose_gt_low", "dose:NMC811",
                           "dose:EC", "density", "Gy/s", "fog", "dose_model=mu_en", "threshold_Gy=10000"})
    EXPECT_NE(info.out.find(want), std::string::npos) << want << "\n" << info.out;
  auto missing = run_dosemap({"info", r.out + "/nothing.vdb"});
  EXPECT_EQ(missing.exit_code, 2);
  auto not_vdb = run_dosemap({"info", r.out + "/summary.json"});
  EXPECT_EQ(not_vdb.exit_code, 2);
  EXPECT_NE(not_vdb.err.find("has no dosemap integrity record"), std::string::npos) << not_vdb.err;
}

}  // namespace
}  // namespace dosemap
