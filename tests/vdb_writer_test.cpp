// dose.vdb's grids are streamed straight from the engine's dense arrays: each grid's tree
// holds its topology only, and each leaf's values are gathered, compressed and written in
// the order OpenVDB's trees keep their leaves (host/outputs/vdb_io.cpp). OpenVDB itself reads
// the file back here: a leaf written out of order, a wrong mask or a wrong inactive value
// would put values in the wrong voxels.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "host/outputs/checked_file.h"
#include "host/outputs/integrity_footer.h"
#include "host/outputs/vdb_io.h"
#include "host/transport/transport_tables.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

// 4 100 voxels along x (a tree's root node spans 4 096, so the grids have two), 13 along y
// and 11 along z (partial leaves at every far edge), a void sphere and a composite layer;
// the beam swept along x so that every column gets dose.
const std::string kWideScene = test::make_scene("[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
                                                R"(voxel_um = [1.0, 1.0, 1.0]
lateral_um = [4100.0, 13.0]
[[sample.layers]]
material = "copper"
thickness_um = 3.0
[[sample.layers]]
material = "cathode"
thickness_um = 8.0
[[sample.shapes]]
kind = "sphere"
material = "void"
center_um = [2040.0, 0.0, 6.0]
radius_um = 5.0
)",
                                                R"(energy_keV = 27.0
flux_ph_s = 1e12
profile = "gaussian"
fwhm_um = [30.0, 20.0]
)",
                                                R"([[scan.steps]]
kind = "fly"
path_um = [[-2100.0, 0.0], [2100.0, 0.0]]
speed_um_s = 1000.0
)",
                                                "[output]\nthresholds_Gy = { low = 1.0e3, high = 1.0e5 }\n");

// Every grid of the dose.vdb at `path`, read back through OpenVDB, is the engine's arrays
// (the background where inactive), the masks follow the dose and `density` is its definition.
// Returns how many voxels of each float grid are active, by name.
std::map<std::string, int64_t> expect_grids_are_the_engines_arrays(const std::string& path, const test::EngineRun& run) {
  const GridGeometry& g = run.g();
  const DoseResults& r = run.results;
  const std::vector<MaterialId>& material = run.grid->material;
  std::map<std::string, int64_t> active;
  const std::vector<int32_t> mat = read_material_grid(path, g);
  auto is_matter = [&](int64_t v) { return material[v] != kVoidId; };
  for (int64_t v = 0; v < g.voxels(); ++v) {
    EXPECT_EQ(mat[v], is_matter(v) ? material[v] : -1) << v;
    if (mat[v] != (is_matter(v) ? material[v] : -1)) break;
  }
  // A float grid read back against the array (background where inactive).
  auto expect_float_grid = [&](const std::string& name, const float* values, float background, auto is_active) {
    const std::vector<float> back = read_float_grid(path, name, g, background);
    int64_t on = 0, wrong = 0, first_wrong = -1;
    for (int64_t v = 0; v < g.voxels(); ++v) {
      const float expected = is_active(v) ? values[v] : background;
      on += is_active(v);
      if (back[v] != expected && wrong++ == 0) first_wrong = v;
    }
    EXPECT_EQ(wrong, 0) << name << ": first at voxel " << first_wrong;
    active[name] = on;
  };
  expect_float_grid("dose", r.dose_Gy.data(), 0.0f, is_matter);
  expect_float_grid("dose_rate_peak", r.rate_peak_Gy_s.data(), 0.0f, is_matter);
  expect_float_grid("dose_rate_mean", r.rate_mean_Gy_s.data(), 0.0f, is_matter);
  const ThresholdScale& th = r.tables.thresholds;
  for (int t = 0; t < th.count(); ++t) {
    const float* cross = r.crossing(t);
    expect_float_grid("t_" + th.labels[t] + "_s", cross, -1.0f, [&](int64_t v) { return is_matter(v) && cross[v] >= 0; });
    const std::vector<uint8_t> mask = read_bool_grid(path, "dose_gt_" + th.labels[t], g);
    for (int64_t v = 0; v < g.voxels(); ++v) {
      EXPECT_EQ(mask[v] != 0, is_matter(v) && th.reached(material[v], t, r.dose_Gy[v])) << th.labels[t] << " " << v;
      if ((mask[v] != 0) != (is_matter(v) && th.reached(material[v], t, r.dose_Gy[v]))) break;
    }
  }
  const auto presence = component_presence(r.tables);
  for (size_t c = 0; c < r.tables.component_grid_names.size(); ++c)
    expect_float_grid("dose:" + r.tables.component_grid_names[c], r.component_dose(static_cast<int>(c)), 0.0f,
                      [&](int64_t v) { return is_matter(v) && presence[c][material[v]]; });
  // `density` is the log-scaled dose over four decades below the maximum.
  const std::vector<float> density = read_float_grid(path, "density", g, 0.0f);
  float dose_max = 0;
  for (int64_t v = 0; v < g.voxels(); ++v) dose_max = std::max(dose_max, r.dose_Gy[v]);
  for (int64_t v = 0; v < g.voxels(); ++v) {
    const double d = r.dose_Gy[v];
    const double x = d > 0 ? (std::log10(d) - (std::log10(dose_max) - 4.0)) / 4.0 : 0.0;
    if (!is_matter(v) || x <= 0) EXPECT_EQ(density[v], 0.0f) << v;
    else EXPECT_FLOAT_EQ(density[v], static_cast<float>(std::min(1.0, x))) << v;
    if (testing::Test::HasFailure()) break;
  }
  return active;
}

// The statistics each grid's metadata gives (what OpenVDB's GridBase::addStatsMetadata
// would add, found by the writer from its blocks) are those of the tree read back.
void expect_statistics_are_the_trees(const std::string& path) {
  for (const VdbGridSummary& s : read_vdb_summary(path).grids) {
    EXPECT_EQ(s.metadata.at("file_voxel_count"), std::to_string(s.active_voxels)) << s.name;
    if (s.active_voxels == 0) continue;
    auto vec = [](const std::array<int, 3>& v) {
      return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + "]";
    };
    EXPECT_EQ(s.metadata.at("file_bbox_min"), vec(s.index_min)) << s.name;
    EXPECT_EQ(s.metadata.at("file_bbox_max"), vec(s.index_max)) << s.name;
  }
}

void write_dose_vdb_of(const test::EngineRun& run, const std::string& path) {
  CheckedFile file(path, path);
  VdbWriteContext ctx{run.scene, run.materials, *run.grid, run.timeline.duration_s, "test", nullptr};
  DoseResults copy = run.results;
  write_dose_vdb(file, ctx, std::move(copy));
  file.finish();
}

TEST(VdbWriter, EveryGridReadsBackThroughOpenVdbAsTheEnginesArrays) {
  auto run = test::run_engine(kWideScene);
  const GridGeometry& g = run->g();
  ASSERT_GT(g.dims[0], 4096);
  ASSERT_NE(g.dims[1] % 8, 0);
  ASSERT_NE(g.dims[2] % 8, 0);
  const std::vector<MaterialId>& material = run->grid->material;
  // Some doses exactly at a threshold and some a float below one: the masks' edge (dose >=
  // threshold) on both sides.
  float* dose = run->results.dose_Gy.data();
  for (int64_t v = 0; v < g.voxels(); v += 7) {
    const float threshold = (v / 7) % 4 < 2 ? 1.0e3f : 1.0e5f;
    dose[v] = (v / 7) % 2 == 0 ? threshold : std::nextafter(threshold, 0.0f);
  }

  test::ScratchDir dir;
  const std::string path = (dir / "dose.vdb").string();
  write_dose_vdb_of(*run, path);

  int64_t matter = 0, cathode = 0;
  const int cathode_id = 3;  // copper, NMC811, EC, cathode
  for (int64_t v = 0; v < g.voxels(); ++v) {
    matter += material[v] != kVoidId;
    cathode += material[v] == cathode_id;
  }
  ASSERT_GT(matter, cathode);
  ASSERT_LT(matter, g.voxels());  // the sphere is void

  const std::map<std::string, int64_t> active = expect_grids_are_the_engines_arrays(path, *run);
  expect_statistics_are_the_trees(path);
  EXPECT_EQ(active.at("dose"), matter);
  EXPECT_GT(active.at("t_low_s"), 0);
  EXPECT_GT(active.at("t_high_s"), 0);
  EXPECT_EQ(active.at("dose:NMC811"), cathode);
  EXPECT_EQ(active.at("dose:EC"), cathode);

  // The file's own account of its grids: every grid listed, in the order written, with the
  // active voxels and bounding boxes OpenVDB computes from the topology read back.
  const VdbFileSummary summary = read_vdb_summary(path);
  EXPECT_EQ(summary.metadata.at("grids"),
            "material,dose,dose_rate_peak,dose_rate_mean,t_low_s,t_high_s,dose_gt_low,dose_gt_high,dose:NMC811,dose:EC,"
            "density");
  ASSERT_EQ(summary.grids.size(), 11u);
  for (const VdbGridSummary& s : summary.grids) {
    if (s.name != "material" && s.name != "dose") continue;
    EXPECT_EQ(s.active_voxels, matter) << s.name;
    EXPECT_EQ(s.index_min, (std::array<int, 3>{0, 0, 0})) << s.name;
    EXPECT_EQ(s.index_max, (std::array<int, 3>{int(g.dims[0] - 1), int(g.dims[1] - 1), int(g.dims[2] - 1)})) << s.name;
  }
}

// Layers a whole number of leaves thick and a void box spanning whole leaves, a grid edge
// cutting leaves along every axis, and a small top-hat spot: most 8^3 blocks are one material,
// undosed or void, which the writer stores as tiles (or not at all) without gathering them.
const std::string kLayeredScene = test::make_scene("[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
                                                   R"(voxel_um = [1.0, 1.0, 1.0]
lateral_um = [84.0, 43.0]
[[sample.layers]]
material = "copper"
thickness_um = 8.0
[[sample.layers]]
material = "cathode"
thickness_um = 21.0
[[sample.shapes]]
kind = "box"
material = "void"
center_um = [26.0, 0.0, 14.0]
size_um = [16.0, 43.0, 16.0]
)",
                                                   R"(energy_keV = 27.0
flux_ph_s = 1e12
profile = "tophat"
size_um = [20.0, 10.0]
)",
                                                   R"([[scan.steps]]
kind = "point"
at_um = [-20.0, 0.0]
exposure_s = 10.0
)",
                                                   "[output]\nthresholds_Gy = { low = 1.0e3, high = 1.0e5 }\n"
                                                   "frames_s = [4.0]\n");

TEST(VdbWriter, BlocksOfOneValueAreTilesThatReadBackAsTheirVoxels) {
  auto run = test::run_engine(kLayeredScene);
  const GridGeometry& g = run->g();
  ASSERT_NE(g.dims[0] % 8, 0);
  ASSERT_NE(g.dims[1] % 8, 0);
  ASSERT_NE(g.dims[2] % 8, 0);
  const std::vector<MaterialId>& material = run->grid->material;
  int64_t matter = 0, undosed_matter = 0;
  for (int64_t v = 0; v < g.voxels(); ++v) {
    matter += material[v] != kVoidId;
    undosed_matter += material[v] != kVoidId && run->results.dose_Gy[v] == 0.0f;
  }
  ASSERT_LT(matter, g.voxels());
  ASSERT_GT(undosed_matter, matter / 2);  // the spot covers a small part

  test::ScratchDir dir;
  const std::string path = (dir / "dose.vdb").string();
  write_dose_vdb_of(*run, path);
  const std::map<std::string, int64_t> active = expect_grids_are_the_engines_arrays(path, *run);
  expect_statistics_are_the_trees(path);
  EXPECT_EQ(active.at("dose"), matter);
  EXPECT_GT(active.at("t_low_s"), 0);

  // Tiles where blocks are one value, counted with the voxels (OpenVDB's own account).
  for (const VdbGridSummary& s : read_vdb_summary(path).grids) {
    if (s.name == "material" || s.name == "dose" || s.name == "dose_rate_peak" || s.name == "dose:NMC811" ||
        s.name == "dose_gt_low") {
      EXPECT_GT(s.active_tiles, 0) << s.name;
    }
    if (s.name == "material" || s.name == "dose") {
      EXPECT_EQ(s.active_voxels, matter) << s.name;
      EXPECT_LT(s.leaves, (g.dims[0] / 8 + 1) * (g.dims[1] / 8 + 1) * (g.dims[2] / 8 + 1)) << s.name;
    }
    if (s.name == "dose") {
      double sum = 0;
      for (int64_t v = 0; v < g.voxels(); ++v) sum += material[v] != kVoidId ? run->results.dose_Gy[v] : 0.0;
      EXPECT_NEAR(s.mean, sum / static_cast<double>(matter), 1e-6 * s.max) << "the tiles count in the mean";
      EXPECT_EQ(s.min, 0.0);
    }
  }

  // A frame: its dose, zero over most blocks, and its density on the final dose's scale.
  ASSERT_EQ(run->results.frame_dose_Gy.size(), static_cast<size_t>(g.voxels()));  // one frame
  const std::string frame_path = (dir / "dose_0001.vdb").string();
  float dose_max = 0;
  for (int64_t v = 0; v < g.voxels(); ++v) dose_max = std::max(dose_max, run->results.dose_Gy[v]);
  {
    CheckedFile file(frame_path, frame_path);
    VdbWriteContext ctx{run->scene, run->materials, *run->grid, 4.0, "test", nullptr};
    write_frame_vdb(file, ctx, run->results.frame_dose(0), 4.0, 1, std::log10(dose_max));
    file.finish();
  }
  const std::vector<float> frame = read_float_grid(frame_path, "dose", g, -1.0f);
  const std::vector<float> density = read_float_grid(frame_path, "density", g, 0.0f);
  const float* expected = run->results.frame_dose(0);
  int64_t dosed = 0;
  for (int64_t v = 0; v < g.voxels(); ++v) {
    const bool on = material[v] != kVoidId;
    ASSERT_EQ(frame[v], on ? expected[v] : -1.0f) << v;
    const double x = expected[v] > 0 ? (std::log10(double(expected[v])) - (std::log10(dose_max) - 4.0)) / 4.0 : 0.0;
    if (!on || x <= 0) ASSERT_EQ(density[v], 0.0f) << v;
    else ASSERT_NEAR(density[v], std::min(1.0, x), 1e-6) << v;
    dosed += on && expected[v] > 0;
  }
  EXPECT_GT(dosed, 0);
  for (const VdbGridSummary& s : read_vdb_summary(frame_path).grids) {
    if (s.name == "dose") {
      EXPECT_GT(s.active_tiles, 0);
    }
  }
}

// A file's bytes but for what tells one file from another: the header's UUID (36
// characters after the magic number, the file and library versions and the offsets flag)
// and the integrity record that hashes them.
std::string vdb_bytes_but_identity(const std::string& path) {
  std::string bytes = test::read_file(path);
  constexpr size_t kUuidAt = 8 + 4 + 8 + 1, kUuidBytes = 36;
  EXPECT_GT(bytes.size(), kUuidAt + kUuidBytes + kIntegrityFooterBytes) << path;
  bytes.resize(bytes.size() - kIntegrityFooterBytes);
  return bytes.erase(kUuidAt, kUuidBytes);
}

// Frames written in a series take the rows of blocks where the dose is the previous
// frame's from what was compressed for it: the files are, byte for byte, those written one
// frame at a time, also when another file used the writer in between.
TEST(VdbWriter, FramesWrittenInASeriesAreTheFramesWrittenAlone) {
  auto run = test::run_engine(kLayeredScene);
  const GridGeometry& g = run->g();
  const std::vector<float> dose(run->results.dose_Gy.begin(), run->results.dose_Gy.end());
  float dose_max = 0;
  for (float d : dose) dose_max = std::max(dose_max, d);
  ASSERT_GT(dose_max, 0.0f);
  // Three frames: the far half along the beam at half the dose, then the final dose, then
  // the near half at a third: each differs from the one before in some rows of blocks only.
  std::vector<std::vector<float>> frames(3, dose);
  int64_t changed[2] = {0, 0};
  for (int64_t v = 0; v < g.voxels(); ++v) {
    const bool far = v / (g.dims[0] * g.dims[1]) >= g.dims[2] / 2;
    if (far) frames[0][v] *= 0.5f;
    if (!far) frames[2][v] /= 3.0f;
    changed[0] += frames[0][v] != frames[1][v];
    changed[1] += frames[2][v] != frames[1][v];
  }
  ASSERT_GT(changed[0], 0);
  ASSERT_GT(changed[1], 0);

  test::ScratchDir dir;
  VdbWriteContext ctx{run->scene, run->materials, *run->grid, 4.0, "test", nullptr};
  auto write_frame = [&](const std::string& name, int f, FrameSeries* series) {
    const std::string path = (dir / name).string();
    CheckedFile file(path, path);
    write_frame_vdb(file, ctx, frames[f].data(), 4.0 * (f + 1), f + 1, std::log10(dose_max), series);
    file.finish();
    return path;
  };
  FrameSeries series;
  std::vector<std::string> in_series;
  in_series.push_back(write_frame("series_1.vdb", 0, &series));
  in_series.push_back(write_frame("series_2.vdb", 1, &series));
  write_dose_vdb_of(*run, (dir / "dose.vdb").string());  // the writer's memory used for other grids
  in_series.push_back(write_frame("series_3.vdb", 2, &series));
  for (int f = 0; f < 3; ++f) {
    const std::string alone = write_frame("alone_" + std::to_string(f + 1) + ".vdb", f, nullptr);
    EXPECT_TRUE(vdb_bytes_but_identity(in_series[f]) == vdb_bytes_but_identity(alone)) << "frame " << f + 1;
    const std::vector<float> back = read_float_grid(in_series[f], "dose", g, -1.0f);
    int64_t wrong = 0;
    for (int64_t v = 0; v < g.voxels(); ++v)
      wrong += back[v] != (run->grid->material[v] != kVoidId ? frames[f][v] : -1.0f);
    EXPECT_EQ(wrong, 0) << "frame " << f + 1;
  }
}

// The blocks no ray reached (DoseResults::column_marched) are written without being read:
// the files are, byte for byte, those written when the writer reads every block.
TEST(VdbWriter, BlocksNoRayReachedAreWrittenAsTheyReadBack) {
  auto run = test::run_engine(kLayeredScene);
  const DoseResults& r = run->results;
  const VdbGridBlocks known = vdb_grid_blocks(*run->grid, r.column_marched);
  ASSERT_EQ(known.unreached.size(), known.one_material.size());
  int64_t unreached = 0;
  for (uint8_t u : known.unreached) unreached += u;
  ASSERT_GT(unreached, 0);
  ASSERT_LT(unreached, static_cast<int64_t>(known.unreached.size()));
  float dose_max = 0;
  for (int64_t v = 0; v < r.voxels; ++v) dose_max = std::max(dose_max, r.dose_Gy[v]);
  ASSERT_GT(dose_max, 0.0f);

  test::ScratchDir dir;
  auto write_both = [&](const std::string& name, const VdbGridBlocks* blocks) {
    VdbWriteContext ctx{run->scene, run->materials, *run->grid, 4.0, "test", nullptr};
    ctx.blocks = blocks;
    const std::string frame = (dir / ("frame_" + name)).string(), dose = (dir / ("dose_" + name)).string();
    {
      CheckedFile file(frame, frame);
      write_frame_vdb(file, ctx, r.frame_dose(0), 4.0, 1, std::log10(dose_max));
      file.finish();
    }
    CheckedFile file(dose, dose);
    DoseResults copy = r;
    write_dose_vdb(file, ctx, std::move(copy));
    file.finish();
    return std::make_pair(frame, dose);
  };
  const auto read_all = write_both("read.vdb", nullptr);
  const auto unread = write_both("unread.vdb", &known);
  EXPECT_TRUE(vdb_bytes_but_identity(read_all.first) == vdb_bytes_but_identity(unread.first));
  EXPECT_TRUE(vdb_bytes_but_identity(read_all.second) == vdb_bytes_but_identity(unread.second));
  expect_grids_are_the_engines_arrays(unread.second, *run);
}

// The writer writes a grid's topology from its blocks without building a tree: the bytes
// (and the memory figure the metadata gives) are those of OpenVDB's Tree::writeTopology and
// memUsage() for a tree built of the same leaves and tiles, over grids spanning two of the
// tree's top nodes along each axis, with leaves, tiles of the background, of its negative
// and of other values (each a case of OpenVDB's mask compression), and none.
TEST(VdbWriter, TopologyIsOpenVdbsByteForByte) {
  std::mt19937 random(7);
  for (const std::array<int64_t, 3>& dims : {std::array<int64_t, 3>{4100, 13, 11}, std::array<int64_t, 3>{20, 4100, 9},
                                             std::array<int64_t, 3>{9, 9, 4105}, std::array<int64_t, 3>{30, 20, 10}}) {
    GridGeometry g;
    g.dims = dims;
    const int64_t blocks = ((dims[0] + 7) / 8) * ((dims[1] + 7) / 8) * ((dims[2] + 7) / 8);
    for (const float background : {0.0f, -1.0f}) {
      for (int pattern = 0; pattern < 4; ++pattern) {
        std::vector<uint64_t> masks(static_cast<size_t>(8 * blocks), 0);
        std::vector<uint8_t> tile(static_cast<size_t>(blocks), 0);
        std::vector<float> tile_values(static_cast<size_t>(blocks), 0.0f);
        const float values[] = {background, -background, 3.5f, 0.0f};
        for (int64_t b = 0; b < blocks; ++b) {
          // Pattern 0: nothing; 1: leaves only; 2: tiles only; 3: a mix, sparse.
          const uint32_t r = random() % 16;
          if (pattern == 0 || (pattern == 3 && r >= 6)) continue;
          const bool as_tile = pattern == 2 || (pattern == 3 && r % 2 == 0);
          if (as_tile) {
            tile[static_cast<size_t>(b)] = 1;
            tile_values[static_cast<size_t>(b)] = values[random() % 4];
          } else if (pattern == 1 || pattern == 3) {
            for (int x = 0; x < 8; ++x) masks[static_cast<size_t>(8 * b + x)] = (uint64_t(random()) << 32) | random();
            masks[static_cast<size_t>(8 * b)] |= 1;  // never all off
          }
        }
        const TopologyBytes t = value_less_topology_both_ways(g, masks, tile, tile_values, background);
        const std::string what = std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" +
                                 std::to_string(dims[2]) + ", background " + std::to_string(background) +
                                 ", pattern " + std::to_string(pattern);
        EXPECT_GT(t.openvdbs.size(), 0u) << what;
        EXPECT_TRUE(t.ours == t.openvdbs) << what << ": " << t.ours.size() << " bytes against " << t.openvdbs.size();
        EXPECT_EQ(t.our_mem_bytes, t.openvdb_mem_bytes) << what;
      }
    }
  }
}

TEST(VdbWriter, GridsOfOneTopologyKeepTheirOwnTileValues) {
  // Two frames of the same tiles and masks but for one tile's value: the writer reuses an
  // earlier grid's topology only when everything it was written from is the same, and a
  // topology holds its tiles' values.
  auto run = test::run_engine(kLayeredScene);
  const GridGeometry& g = run->g();
  const std::vector<MaterialId>& material = run->grid->material;
  std::vector<float> zero(static_cast<size_t>(g.voxels()), 0.0f), one_block = zero;
  for (int64_t k = 0; k < 8; ++k)
    for (int64_t j = 0; j < 8; ++j)
      for (int64_t i = 0; i < 8; ++i) {
        const int64_t v = g.index(i, j, k);
        ASSERT_EQ(material[v], material[0]);  // one material: a tile
        one_block[v] = 7.0f;
      }
  ASSERT_NE(material[0], kVoidId);
  test::ScratchDir dir;
  VdbWriteContext ctx{run->scene, run->materials, *run->grid, 4.0, "test", nullptr};
  for (const bool block_first : {false, true}) {
    const std::vector<float>* frames[2] = {&zero, &one_block};
    if (block_first) std::swap(frames[0], frames[1]);
    for (int f = 0; f < 2; ++f) {
      const std::string path = (dir / ("frame_" + std::to_string(block_first) + std::to_string(f) + ".vdb")).string();
      CheckedFile file(path, path);
      write_frame_vdb(file, ctx, frames[f]->data(), 4.0 * (f + 1), f + 1, std::log10(7.0), nullptr);
      file.finish();
      const std::vector<float> back = read_float_grid(path, "dose", g, -1.0f);
      int64_t wrong = 0;
      for (int64_t v = 0; v < g.voxels(); ++v) wrong += back[v] != (material[v] != kVoidId ? (*frames[f])[v] : -1.0f);
      EXPECT_EQ(wrong, 0) << (block_first ? "the block's frame first" : "the block's frame second") << ", frame " << f;
    }
  }
}

}  // namespace
}  // namespace dosemap
