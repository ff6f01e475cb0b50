// Thresholds per material (host/scene/threshold_scale.h, docs/scene-format.md "Thresholds
// per material"): each voxel is judged against its own material's scale, a component grid
// against its material's, in the crossing grids, the masks (dose.vdb and dose.vti), the
// statistics and report, the point positions and the per-visit table; a scene that gives
// every material the default scale writes exactly what the default writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "host/outputs/vdb_io.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using Json = nlohmann::json;

// Copper on the default scale, the cathode and the electrolyte (EC) on their own, NMC811
// on none; the cathode holds both components, so dose:EC follows EC's scale inside it.
const std::string kMaterials = R"(format = 1
title = "per-material thresholds"
[materials.copper]
formula = "Cu"
[materials.NMC811]
formula = "LiNi0.8Mn0.1Co0.1O2"
density_g_cm3 = 4.8
thresholds_Gy = {}
[materials.EC]
formula = "C3H4O3"
density_g_cm3 = 1.32
thresholds_Gy = { radiolysis = 2.0e4 }
[materials.cathode]
components = [ { material = "NMC811", volume_fraction = 0.72 }, { material = "EC", volume_fraction = 0.28 } ]
thresholds_Gy = { low = 5.0e3, kinetics = 1.1e7 }
)";

const std::string kRest = R"([sample]
voxel_um = [2.0, 2.0, 2.0]
lateral_um = [60.0, 40.0]
[[sample.layers]]
material = "copper"
thickness_um = 6.0
[[sample.layers]]
material = "cathode"
thickness_um = 20.0
[[sample.layers]]
material = "EC"
thickness_um = 10.0
[beam]
energy_keV = 27.0
flux_ph_s = 5e10
profile = "gaussian"
fwhm_um = [10.0, 8.0]
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 30.0
[[scan.steps]]
kind = "raster"
from_um = [-20.0, -10.0]
to_um = [20.0, 10.0]
step_um = [10.0, 10.0]
dwell_s = 1.0
[output]
thresholds_Gy = { low = 1.0e4, high = 3.0e6 }
formats = ["vdb", "vti"]
)";

const double kInf = std::numeric_limits<double>::infinity();

struct Run {
  test::ScratchDir dir;
  test::CommandResult result;
  Json summary;
  GridGeometry g;
  std::string out() const { return (dir / "out").string(); }
};

std::unique_ptr<Run> run_cli(const std::string& text) {
  auto r = std::make_unique<Run>();
  test::write_file(r->dir / "scene.toml", text);
  r->result = test::run_dosemap({"run", (r->dir / "scene.toml").string(), "-o", r->out(), "--threads", "2"});
  if (r->result.exit_code != 0) return r;
  r->summary = Json::parse(test::read_file(r->dir / "out" / "summary.json"));
  for (int a = 0; a < 3; ++a) {
    r->g.dims[a] = r->summary["grid"]["dims"][a];
    r->g.voxel_um[a] = r->summary["grid"]["voxel_um"][a];
    r->g.origin_um[a] = r->summary["grid"]["origin_um"][a];
  }
  return r;
}

TEST(MaterialThresholds, TheScaleIsEachMaterialsOwnOrTheDefaultAndLabelsRankByLowestDose) {
  auto run = test::run_engine(kMaterials + kRest);
  const ThresholdScale& s = run->results.tables.thresholds;
  ASSERT_EQ(s.labels, (std::vector<std::string>{"low", "radiolysis", "high", "kinetics"}));
  const int copper = run->scene.material_index("copper"), nmc = run->scene.material_index("NMC811"),
            ec = run->scene.material_index("EC"), cathode = run->scene.material_index("cathode");
  const std::vector<std::vector<double>> want = {{1e4, kInf, 3e6, kInf},    // copper: [output]
                                                 {kInf, kInf, kInf, kInf},  // NMC811: none
                                                 {kInf, 2e4, kInf, kInf},   // EC
                                                 {5e3, kInf, kInf, 1.1e7}}; // cathode
  const int order[] = {copper, nmc, ec, cathode};
  for (int n = 0; n < 4; ++n)
    for (int t = 0; t < 4; ++t) EXPECT_EQ(s.at(order[n], t), want[n][t]) << n << " " << t;
  EXPECT_TRUE(std::isnan(s.common_dose(0)));  // low: 10 kGy for copper, 5 kGy for the cathode
  EXPECT_EQ(s.common_dose(1), 2e4);
  EXPECT_FALSE(s.uniform());
  // A component grid follows its material's scale.
  const auto& names = run->results.tables.component_grid_names;
  for (size_t c = 0; c < names.size(); ++c)
    for (int t = 0; t < 4; ++t)
      EXPECT_EQ(run->results.tables.component_threshold_Gy[c * 4 + t], s.at(run->scene.material_index(names[c]), t));
}

TEST(MaterialThresholds, CrossingGridsMasksAndStatisticsJudgeEachVoxelByItsMaterial) {
  auto r = run_cli(kMaterials + kRest);
  ASSERT_EQ(r->result.exit_code, 0) << r->result.err;
  auto engine = test::run_engine(kMaterials + kRest);
  const ThresholdScale& scale = engine->results.tables.thresholds;
  const std::string vdb = r->out() + "/dose.vdb";
  const std::string vti = test::read_file(r->dir / "out" / "dose.vti");
  const std::vector<float> dose = read_float_grid(vdb, "dose", r->g, 0.0f);
  const std::vector<MaterialId>& material = engine->grid->material;
  const Json& materials = r->summary["materials"];
  for (int t = 0; t < scale.count(); ++t) {
    const std::string& label = scale.labels[t];
    SCOPED_TRACE(label);
    const auto mask = read_bool_grid(vdb, "dose_gt_" + label, r->g);
    const auto cross = read_float_grid(vdb, "t_" + label + "_s", r->g, -1.0f);
    const std::string vti_mask = test::vti_array(vti, "dose_gt_" + label);
    ASSERT_EQ(vti_mask.size(), static_cast<size_t>(r->g.voxels()));
    std::vector<int64_t> above(engine->materials.materials.size(), 0);
    for (int64_t v = 0; v < r->g.voxels(); ++v) {
      const bool matter = material[v] != kVoidId;
      const bool over = matter && dose[v] >= scale.at(material[v], t);
      ASSERT_EQ(mask[v], over ? 1 : 0) << "voxel " << v;
      ASSERT_EQ(vti_mask[v], over ? 1 : 0) << "voxel " << v;
      ASSERT_EQ(cross[v] >= 0, over) << "voxel " << v;
      if (over) {
        ASSERT_EQ(cross[v], engine->results.crossing(t)[v]);
        ++above[material[v]];
      }
    }
    // summary.json lists a label under a material exactly when the material carries it,
    // with the voxels the mask holds.
    for (const auto& m : engine->materials.materials) {
      const int i = engine->scene.material_index(m.name);
      const Json& a = materials[m.name]["above"];
      ASSERT_EQ(a.contains(label), scale.applies(i, t)) << m.name;
      if (!scale.applies(i, t)) continue;
      EXPECT_EQ(a[label]["threshold_Gy"].get<double>(), scale.at(i, t)) << m.name;
      EXPECT_EQ(a[label]["voxels"].get<int64_t>(), above[i]) << m.name;
      EXPECT_EQ(materials[m.name]["thresholds_Gy"][label].get<double>(), scale.at(i, t)) << m.name;
    }
  }
  // Each label reached somewhere, so that the checks above saw both answers.
  EXPECT_GT(materials["copper"]["above"]["high"]["voxels"].get<int64_t>(), 0);
  EXPECT_GT(materials["EC"]["above"]["radiolysis"]["voxels"].get<int64_t>(), 0);
  EXPECT_GT(materials["cathode"]["above"]["kinetics"]["voxels"].get<int64_t>(), 0);
  EXPECT_EQ(materials["NMC811"]["thresholds_Gy"], Json::object());
  EXPECT_EQ(r->summary["thresholds_Gy"], Json::parse(R"({"low": 1e4, "high": 3e6})"));  // the default
  // A component against its material's scale: EC inside the cathode, NMC811 on none.
  const Json& components = materials["cathode"]["components"];
  EXPECT_EQ(components["NMC811"]["above"], Json::object());
  ASSERT_TRUE(components["EC"]["above"].contains("radiolysis"));
  EXPECT_FALSE(components["EC"]["above"].contains("low"));
  const auto ec_dose = read_float_grid(vdb, "dose:EC", r->g, 0.0f);
  int64_t ec_above = 0;
  for (int64_t v = 0; v < r->g.voxels(); ++v)
    ec_above += material[v] == engine->scene.material_index("cathode") && ec_dose[v] >= 2e4;
  EXPECT_GT(ec_above, 0);
  EXPECT_EQ(components["EC"]["above"]["radiolysis"]["voxels"].get<int64_t>(), ec_above);
  EXPECT_GE(components["EC"]["above"]["radiolysis"]["first_crossing_s"].get<double>(), 0.0);
  // The metadata: one dose where the materials agree, each material's where they do not.
  const VdbFileSummary info = read_vdb_summary(vdb);
  for (const auto& grid : info.grids) {
    if (grid.name == "dose_gt_radiolysis") {
      EXPECT_EQ(grid.metadata.at("threshold_Gy"), "20000");
    }
    if (grid.name == "t_low_s") {
      EXPECT_EQ(grid.metadata.at("threshold_Gy_by_material"), "copper=10000,cathode=5000");
    }
  }
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  for (size_t b = 0, e; b <= line.size(); b = e + 1) {
    e = std::min(line.find(',', b), line.size());
    cells.push_back(line.substr(b, e - b));
  }
  return cells;
}

TEST(MaterialThresholds, ReportAndPerVisitTableNameEachMaterialsOwnThresholds) {
  auto r = run_cli(kMaterials + kRest);
  ASSERT_EQ(r->result.exit_code, 0) << r->result.err;
  const std::string& out = r->result.out;
  for (const char* want : {"each material against its own thresholds", "radiolysis 20 kGy", "10 kGy: ", "5 kGy: ", "n/a"})
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
  // points.csv: the highest threshold of the entry's own scale its max dose passed.
  std::ifstream csv(r->dir / "out" / "points.csv");
  std::string line;
  std::getline(csv, line);
  const std::vector<std::string> header = split_csv(line);
  auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t ec_max = column("EC_dose_max_Gy"), ec_passed = column("EC_threshold_passed"),
               nmc_passed = column("dose:NMC811_threshold_passed"), copper_passed = column("copper_threshold_passed");
  ASSERT_LT(std::max({ec_max, ec_passed, nmc_passed, copper_passed}), header.size()) << line;
  int radiolysis_rows = 0;
  while (std::getline(csv, line)) {
    const std::vector<std::string> cells = split_csv(line);
    const double ec = cells[ec_max].empty() ? 0 : std::stod(cells[ec_max]);
    EXPECT_EQ(cells[ec_passed], ec >= 2e4 ? "radiolysis" : "") << line;
    EXPECT_EQ(cells[nmc_passed], "") << line;  // NMC811 carries no threshold
    EXPECT_TRUE(cells[copper_passed] == "" || cells[copper_passed] == "low" || cells[copper_passed] == "high") << line;
    radiolysis_rows += ec >= 2e4;
  }
  EXPECT_GT(radiolysis_rows, 0);
}

TEST(MaterialThresholds, GivingEveryMaterialTheDefaultScaleWritesWhatTheDefaultWrites) {
  // The default scale, once implied and once written out for every material.
  const std::string materials = "format = 1\n[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials;
  std::string spelt = materials;
  for (const char* m : {"copper]\n", "NMC811]\n", "EC]\n", "cathode]\n"})
    spelt.insert(spelt.find(m) + std::strlen(m), "thresholds_Gy = { low = 1.0e4, high = 3.0e6 }\n");
  auto implied = run_cli(materials + kRest);
  auto explicit_ = run_cli(spelt + kRest);
  ASSERT_EQ(implied->result.exit_code, 0) << implied->result.err;
  ASSERT_EQ(explicit_->result.exit_code, 0) << explicit_->result.err;
  // dose.vdb: the same grids, metadata and values (the file's own UUID differs).
  const std::string a = implied->out() + "/dose.vdb", b = explicit_->out() + "/dose.vdb";
  const VdbFileSummary sa = read_vdb_summary(a), sb = read_vdb_summary(b);
  ASSERT_EQ(sa.grids.size(), sb.grids.size());
  for (size_t n = 0; n < sa.grids.size(); ++n) {
    const VdbGridSummary &ga = sa.grids[n], &gb = sb.grids[n];
    SCOPED_TRACE(ga.name);
    EXPECT_EQ(ga.name, gb.name);
    EXPECT_EQ(ga.metadata, gb.metadata);
    EXPECT_EQ(ga.active_voxels, gb.active_voxels);
    if (ga.type == "bool") {
      EXPECT_TRUE(read_bool_grid(a, ga.name, implied->g) == read_bool_grid(b, gb.name, implied->g));
    }
    if (ga.type == "float") {
      EXPECT_TRUE(read_float_grid(a, ga.name, implied->g, -7.0f) == read_float_grid(b, gb.name, implied->g, -7.0f));
    }
  }
  // Byte for byte where the files hold no identifier (EXPECT_TRUE: no dump of binary files).
  EXPECT_TRUE(test::read_file(implied->dir / "out" / "dose.vti") == test::read_file(explicit_->dir / "out" / "dose.vti"));
  EXPECT_EQ(test::read_file(implied->dir / "out" / "points.csv"), test::read_file(explicit_->dir / "out" / "points.csv"));
  EXPECT_EQ(implied->summary["materials"], explicit_->summary["materials"]);
  EXPECT_EQ(implied->result.out.find("n/a"), std::string::npos) << implied->result.out;
}

}  // namespace
}  // namespace dosemap
