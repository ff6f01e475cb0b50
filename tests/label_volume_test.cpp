// Label volumes as samples ([sample.volume], host/grid/label_grid.h): a segmented volume
// equal to a layered sample gives the same material grid and the same dose grids bit for bit,
// whether it comes as a TIFF stack, an HDF5 dataset in another axis order (chunked and
// compressed), a Fortran-order .npy or a raw file; shapes are drawn over it as over layers; a
// finer grid over part of it (--convergence) samples it voxel by voxel; every broken file or
// label is an error with exit code 2, in check as in run, and nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "host/grid/voxel_grid.h"
#include "host/scene/scene_reader.h"
#include "tests/array_writers.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

// The layered sample: 10 x 8 columns of 4 x 4 um; copper 4 um, cathode 10 um, a 2 um gap,
// NMC811 6 um: 11 z voxels of 2 um.
constexpr int kNx = 10, kNy = 8, kNz = 11;
constexpr int kVoid = 0, kCopper = 7, kCathode = 20, kNmc = 300;  // labels (300: 16-bit)

int label_at(int k) { return k < 2 ? kCopper : k < 7 ? kCathode : k < 8 ? kVoid : kNmc; }

const std::string kMaterials = test::kCathodeMaterials + "[materials.copper]\nformula = \"Cu\"\ndensity_g_cm3 = 8.96\n";
const std::string kLabels = "labels = { 0 = \"void\", 7 = \"copper\", 20 = \"cathode\", 300 = \"NMC811\" }\n";
// Drawn over the sample either way: a sphere of copper reaching into the cathode.
const std::string kShape = "[[sample.shapes]]\nkind = \"sphere\"\nmaterial = \"copper\"\ncenter_um = [6.0, -2.0, 8.0]\n"
                           "radius_um = 6.0\n";

std::string scene_with(const std::string& sample) {
  return test::make_scene(kMaterials, "voxel_um = [4.0, 4.0, 2.0]\n" + sample + kShape,
                          "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"gaussian\"\nfwhm_um = [12.0, 10.0]\n",
                          "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-8.0, -6.0]\nto_um = [8.0, 6.0]\n"
                          "step_um = [8.0, 6.0]\ndwell_s = 0.5\n");
}

const std::string kLayers = "lateral_um = [40.0, 32.0]\n"
                            "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 4.0\n"
                            "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 10.0\n"
                            "[[sample.layers]]\nmaterial = \"void\"\nthickness_um = 2.0\n"
                            "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 6.0\n";

std::string volume(const std::filesystem::path& file, const std::string& keys = "", const std::string& labels = kLabels) {
  return "[sample.volume]\nfile = \"" + file.string() + "\"\n" + keys + labels;
}

class LabelVolume : public ::testing::Test {
 protected:
  void SetUp() override {
    // TIFF: pages = z, rows = y, columns = x (the default axes "zyx").
    std::vector<std::vector<uint16_t>> pages(kNz, std::vector<uint16_t>(kNx * kNy));
    for (int k = 0; k < kNz; ++k) std::fill(pages[k].begin(), pages[k].end(), static_cast<uint16_t>(label_at(k)));
    test::write_tiff_stack(dir_ / "labels.tif", pages, kNy, kNx);
    // The same stored downstream face first: axes "-zyx".
    std::reverse(pages.begin(), pages.end());
    test::write_tiff_stack(dir_ / "flipped.tif", pages, kNy, kNx);
    // HDF5, axes "xzy": [i][k][j], int32, chunked 3 x 4 x 4 (slices read a chunk deep).
    std::vector<int32_t> xzy(kNx * kNz * kNy);
    for (int i = 0; i < kNx; ++i)
      for (int k = 0; k < kNz; ++k)
        for (int j = 0; j < kNy; ++j) xzy[(i * kNz + k) * kNy + j] = label_at(k);
    test::write_hdf5_volume(dir_ / "labels.h5", "/exchange/data", H5T_STD_I32LE, {kNx, kNz, kNy}, xzy, {3, 4, 4});
    // .npy, axes "yxz" as numpy shows them, in Fortran order: (j, i, k) at j + ny (i + nx k).
    std::vector<uint16_t> fortran(kNx * kNy * kNz);
    for (int k = 0; k < kNz; ++k)
      for (int i = 0; i < kNx; ++i)
        for (int j = 0; j < kNy; ++j) fortran[j + kNy * (i + kNx * k)] = static_cast<uint16_t>(label_at(k));
    test::write_npy(dir_ / "labels.npy", "<u2", "(8, 10, 11)", fortran.data(), fortran.size() * 2, true);
    // raw: uint16 little-endian, zyx.
    std::vector<uint16_t> zyx(kNx * kNy * kNz);
    for (int k = 0; k < kNz; ++k)
      std::fill(zyx.begin() + k * kNx * kNy, zyx.begin() + (k + 1) * kNx * kNy, static_cast<uint16_t>(label_at(k)));
    test::write_file(dir_ / "labels.raw", std::string(reinterpret_cast<const char*>(zyx.data()), zyx.size() * 2));
    // Float labels (as some segmentation tools save them), zyx.
    std::vector<float> floats(zyx.begin(), zyx.end());
    test::write_npy(dir_ / "float_labels.npy", "<f4", "(11, 8, 10)", floats.data(), floats.size() * 4);
  }
  test::ScratchDir dir_;
};

TEST_F(LabelVolume, EveryFormatAndAxisOrderGivesTheLayeredSamplesDoseBitForBit) {
  const auto layered = test::run_engine(scene_with(kLayers));
  const std::vector<std::pair<std::string, std::string>> volumes = {
      {"TIFF stack", volume(dir_ / "labels.tif")},
      {"TIFF stack, z flipped", volume(dir_ / "flipped.tif", "axes = \"-zyx\"\n")},
      {"HDF5 xzy, chunked", volume(dir_ / "labels.h5", "dataset = \"/exchange/data\"\naxes = \"xzy\"\n")},
      {".npy yxz, Fortran order", volume(dir_ / "labels.npy", "axes = \"yxz\"\n")},
      {"raw", volume(dir_ / "labels.raw", "shape = [11, 8, 10]\ndtype = \"uint16\"\n")},
      {"float labels", volume(dir_ / "float_labels.npy")},
  };
  ASSERT_GT(layered->results.dose_Gy.size(), 0u);
  for (const auto& [name, sample] : volumes) {
    SCOPED_TRACE(name);
    const auto r = test::run_engine(scene_with(sample));
    ASSERT_EQ(r->g().dims, layered->g().dims);
    EXPECT_EQ(r->g().origin_um, layered->g().origin_um);
    EXPECT_EQ(r->grid->material, layered->grid->material);
    auto same = [](const BulkVector<float>& a, const BulkVector<float>& b) {
      return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    };
    EXPECT_TRUE(same(r->results.dose_Gy, layered->results.dose_Gy));
    EXPECT_TRUE(same(r->results.rate_peak_Gy_s, layered->results.rate_peak_Gy_s));
    EXPECT_TRUE(same(r->results.crossing_s, layered->results.crossing_s));
  }
}

TEST_F(LabelVolume, AFinerGridOverPartOfTheVolumeSamplesItVoxelByVoxel) {
  const Scene layered = read_scene_text(scene_with(kLayers), "layered.toml");
  const Scene tiff = read_scene_text(scene_with(volume(dir_ / "labels.tif")), "volume.toml");
  const Scene h5 = read_scene_text(
      scene_with(volume(dir_ / "labels.h5", "dataset = \"/exchange/data\"\naxes = \"xzy\"\n")), "volume.toml");
  // As --convergence builds it: halved voxels over columns 3..7 x 2..5, down to k = 9.
  GridGeometry h;
  h.dims = {10, 8, 18};
  h.voxel_um = {2.0, 2.0, 1.0};
  h.origin_um = {-20.0 + 3 * 4.0, -16.0 + 2 * 4.0, 0.0};
  const VoxelGrid expected = voxelize(layered, h);
  EXPECT_EQ(voxelize(tiff, h).material, expected.material);
  EXPECT_EQ(voxelize(h5, h).material, expected.material);
}

TEST_F(LabelVolume, AnAxisStoredFromItsHighEndIsFlippedByAMinusSign) {
  // A volume with no symmetry: label (i + 3 j + 5 k) mod 4, stored as is and with every axis
  // reversed (pages downstream first, rows from the highest y, columns from the highest x).
  std::vector<std::vector<uint16_t>> pages(kNz, std::vector<uint16_t>(kNx * kNy)), reversed = pages;
  const int labels[4] = {kVoid, kCopper, kCathode, kNmc};
  for (int k = 0; k < kNz; ++k)
    for (int j = 0; j < kNy; ++j)
      for (int i = 0; i < kNx; ++i) {
        const uint16_t l = static_cast<uint16_t>(labels[(i + 3 * j + 5 * k) % 4]);
        pages[k][j * kNx + i] = l;
        reversed[kNz - 1 - k][(kNy - 1 - j) * kNx + (kNx - 1 - i)] = l;
      }
  test::write_tiff_stack(dir_ / "mixed.tif", pages, kNy, kNx);
  test::write_tiff_stack(dir_ / "mixed_reversed.tif", reversed, kNy, kNx);
  const Scene as_is = read_scene_text(scene_with(volume(dir_ / "mixed.tif")), "a.toml");
  const Scene flipped = read_scene_text(scene_with(volume(dir_ / "mixed_reversed.tif", "axes = \"-z-y-x\"\n")), "b.toml");
  const VoxelGrid a = voxelize(as_is), b = voxelize(flipped);
  EXPECT_EQ(a.material, b.material);
  // And without the signs the two differ.
  const Scene unflipped = read_scene_text(scene_with(volume(dir_ / "mixed_reversed.tif")), "c.toml");
  EXPECT_NE(voxelize(unflipped).material, a.material);
}

TEST_F(LabelVolume, CheckShowsWhatEachMaterialFills) {
  test::write_file(dir_ / "s.toml", scene_with(volume("labels.tif")));
  const auto r = test::run_dosemap({"check", (dir_ / "s.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("grid        10 x 8 x 11 = 880 voxels of 4 x 4 x 2 um"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Sample: label volume"), std::string::npos) << r.out;
  // NMC811: 3 of 11 layers of voxels, the sphere not reaching it.
  EXPECT_NE(r.out.find("NMC811       300     240     27.27"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per column, whole sample: "), std::string::npos) << r.out;
}

// The example a user starts from (tools/volumes/make_electrode_volume.py, made by the build):
// valid, read as an electrode on its foil, and its particles take far more dose than the
// electrolyte around them (NMC811 absorbs 27 keV photons some 30 times more per gram).
TEST(LabelVolumeExample, TheElectrodeMicrostructureSceneRuns) {
  test::ScratchDir dir;
  const std::string scene = test::source_path("scenes/electrode_microstructure.toml").string();
  const auto check = test::run_dosemap({"check", scene});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(check.out, m, std::regex(R"(NMC811 +1 +[0-9 ]+ +([0-9.]+))"))) << check.out;
  EXPECT_GT(std::stod(m[1]), 40.0);  // of the whole volume (58 % of the electrode, 80 % of the depth)
  EXPECT_LT(std::stod(m[1]), 52.0);
  ASSERT_TRUE(std::regex_search(check.out, m, std::regex(R"(aluminium +3 +[0-9 ]+ +([0-9.]+))"))) << check.out;
  EXPECT_EQ(m[1], "20.00");  // the last 8 of 40 um
  const auto run = test::run_dosemap({"run", scene, "-o", (dir / "out").string(), "--format", "vdb"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string summary = test::read_file(dir / "out" / "summary.json");
  EXPECT_NE(summary.find("\"volume\""), std::string::npos);
  auto max_dose = [&](const std::string& material) {
    const size_t at = summary.find("\"" + material + "\": {");
    EXPECT_NE(at, std::string::npos) << material;
    std::smatch d;
    const std::string rest = summary.substr(at, 2000);
    EXPECT_TRUE(std::regex_search(rest, d, std::regex(R"("dose_max_Gy": ([0-9.e+]+))"))) << rest;
    return std::stod(d[1]);
  };
  EXPECT_GT(max_dose("NMC811"), 10 * max_dose("electrolyte"));
}

TEST_F(LabelVolume, BrokenVolumesAreErrorsWithExitCodeTwoInCheckAndRunAndNothingWritten) {
  // A stack whose second page has another size.
  const std::vector<uint16_t> page(kNx * kNy, kCopper), small(4, kCopper);
  test::write_tiff_stack(dir_ / "ragged.tif", {page}, kNy, kNx);
  test::write_tiff_stack(dir_ / "ragged.tif", {small}, 2, 2, true);
  std::vector<uint16_t> zyx(kNx * kNy * kNz, kCopper);
  test::write_npy(dir_ / "short.npy", "<u2", "(11, 8, 10)", zyx.data(), zyx.size());  // half the data
  test::write_npy(dir_ / "flat.npy", "<u2", "(8, 10)", zyx.data(), kNx * kNy * 2);
  std::vector<float> halves(kNx * kNy * kNz, 1.0f);
  halves[5] = 1.5f;
  test::write_npy(dir_ / "halves.npy", "<f4", "(11, 8, 10)", halves.data(), halves.size() * 4);
  test::write_file(dir_ / "short.raw", std::string(100, '\0'));
  test::write_file(dir_ / "text.tif", "not a TIFF");
  // A stack cut short (a copy that stopped half way).
  const std::string whole = test::read_file(dir_ / "labels.tif");
  test::write_file(dir_ / "cut.tif", whole.substr(0, whole.size() * 6 / 10));
  const std::string one = "labels = { 7 = \"copper\" }\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {volume(dir_ / "labels.tif", "", "labels = { 0 = \"void\", 7 = \"copper\", 20 = \"cathode\" }\n"),
       "holds label 300 (at page 9, row 0, column 0), which [sample.volume] labels does not name"},
      {volume(dir_ / "halves.npy", "", "labels = { 1 = \"copper\" }\n"),
       "holds 1.5 at index [0, 0, 5], which is not an integer label"},
      {volume(dir_ / "ragged.tif", "", one),
       "page 2 of 2 holds 2 x 2 pixels of 16-bit unsigned samples, the first page 10 x 8 pixels of 16-bit unsigned"},
      {volume(dir_ / "cut.tif", "", one), "is truncated or damaged"},
      {volume(dir_ / "short.npy", "", one), "is truncated: 880 bytes of data for 880 values of 2 bytes"},
      {volume(dir_ / "flat.npy", "", one), "holds a 2-D array, not a volume"},
      {volume(dir_ / "short.raw", "shape = [11, 8, 10]\ndtype = \"uint16\"\n", one),
       "holds 100 bytes, but shape [11, 8, 10] of 2-byte values needs 1760 (truncated?)"},
      {volume(dir_ / "labels.raw", "", one), "shape"},
      {volume(dir_ / "labels.h5", "", one), "dataset"},
      {volume(dir_ / "labels.h5", "dataset = \"/exchange/nothing\"\n", one), "has no dataset '/exchange/nothing'"},
      {volume(dir_ / "labels.tif", "dataset = \"/x\"\n", one), "applies to HDF5 volumes (.h5, .hdf5, .nxs) only"},
      {volume(dir_ / "labels.tif", "axes = \"zyz\"\n", one), "'zyz' does not name the file's three axes"},
      {volume(dir_ / "labels.tif", "axes = \"z+yx\"\n", one), "'z+yx' does not name the file's three axes"},
      {volume(dir_ / "labels.vol", "", one), "'" + (dir_ / "labels.vol").string() + "' is not a volume file dosemap reads"},
      {volume(dir_ / "labels.tif", "", "labels = { one = \"copper\" }\n"), "labels key 'one' is not an integer label"},
      {volume(dir_ / "labels.tif", "", "labels = { 7 = \"copper\", 07 = \"void\" }\n"), "is label 7 again"},
      {volume(dir_ / "labels.tif", "", "labels = { 7 = \"kapton\" }\n"), "label 7 uses material 'kapton', which is not defined"},
      {volume(dir_ / "labels.tif", "", "labels = {}\n"), "labels is empty"},
      {volume(dir_ / "missing.tif", "", one), "missing.tif' does not exist; check the path (relative to the scene file)"},
      {volume(dir_ / "text.tif", "", one), "cannot be read as TIFF"},
      {kLayers + volume(dir_ / "labels.tif"), "[sample.volume] both describe the sample"},
      {"lateral_um = [40.0, 32.0]\n" + volume(dir_ / "labels.tif"), "does not apply to a [sample.volume]"},
  };
  for (const auto& [sample, message] : cases) {
    SCOPED_TRACE(message);
    test::write_file(dir_ / "s.toml", scene_with(sample));
    for (const char* command : {"check", "run"}) {
      auto r = test::run_dosemap({command, (dir_ / "s.toml").string(), "-o", (dir_ / "out").string()});
      if (std::string(command) == "check") r = test::run_dosemap({command, (dir_ / "s.toml").string()});
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
      EXPECT_NE(r.err.find(message), std::string::npos) << command << ": " << r.err;
      EXPECT_NE(r.err.find("s.toml:"), std::string::npos) << r.err;  // file:line:col of the scene
      EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
    }
  }
}

}  // namespace
}  // namespace dosemap
