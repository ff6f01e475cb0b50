// Measured beam images (host/scene/beam_image.h, host/scene/array_files.h): a camera image of
// a Gaussian, with a dark offset, stored first row = highest y, off-centre, gives the
// analytic Gaussian's dose within 0.5 % from TIFF, HDF5 and .npy alike (bit for bit the same
// grids); read the wrong way round it visibly moves the dose; `check` prints the image's FWHM
// and centroid; every broken file is a clear error with exit code 2 and nothing written.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <tiffio.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <filesystem>
#include <regex>

#include "host/scene/beam_image.h"
#include "tests/array_writers.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

constexpr int kNx = 128, kNy = 96;       // pixels
constexpr double kPixel = 0.5;           // um
constexpr double kFwhm[2] = {12.0, 8.0};  // um
constexpr double kCentre[2] = {3.0, -2.0};  // um from the beam position
constexpr double kDark = 100.0;           // the camera's offset (counts)

// The camera's counts, the file's row 0 = the highest y: the Gaussian integrated over each
// pixel, 60 000 counts at the peak, plus the dark offset.
std::vector<uint16_t> camera_counts() {
  auto cdf = [](double x, int a) { return 0.5 * std::erfc(-(x - kCentre[a]) / (kFwhm[a] / std::sqrt(8 * std::log(2.0))) / std::sqrt(2.0)); };
  auto pixel = [&](int k, int n, int a) {
    const double lo = (k - 0.5 * n) * kPixel;
    return cdf(lo + kPixel, a) - cdf(lo, a);
  };
  double peak = 0;
  for (int j = 0; j < kNy; ++j)
    for (int i = 0; i < kNx; ++i) peak = std::max(peak, pixel(i, kNx, 0) * pixel(j, kNy, 1));
  std::vector<uint16_t> counts(static_cast<size_t>(kNx) * kNy);
  for (int r = 0; r < kNy; ++r)
    for (int i = 0; i < kNx; ++i) {
      const int j = kNy - 1 - r;  // first row = highest y
      counts[static_cast<size_t>(r) * kNx + i] =
          static_cast<uint16_t>(std::lround(kDark + 60000.0 * pixel(i, kNx, 0) * pixel(j, kNy, 1) / peak));
    }
  return counts;
}

void write_tiff(const std::filesystem::path& path, const std::vector<uint16_t>& counts, int samples = 1) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, kNx);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, kNy);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, samples);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, samples == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 8);
  TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_DEFLATE);
  std::vector<uint16_t> row(static_cast<size_t>(kNx) * samples);
  for (int r = 0; r < kNy; ++r) {
    for (int i = 0; i < kNx * samples; ++i) row[i] = counts[static_cast<size_t>(r) * kNx + i / samples];
    ASSERT_GE(TIFFWriteScanline(t, row.data(), r, 0), 0);
  }
  TIFFClose(t);
}

void write_hdf5(const std::filesystem::path& path, const std::vector<uint16_t>& counts) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t entry = H5Gcreate2(f, "/entry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t data = H5Gcreate2(f, "/entry/data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[3] = {1, kNy, kNx};  // a stack of one frame, as detectors write
  const hid_t space = H5Screate_simple(3, dims, nullptr);
  const hid_t set = H5Dcreate2(f, "/entry/data/data", H5T_STD_U16LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(set, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts.data());
  H5Dclose(set);
  H5Sclose(space);
  H5Gclose(data);
  H5Gclose(entry);
  H5Fclose(f);
}

using test::write_npy;

std::string scene(const std::string& beam, const std::string& at_um = "[0.0, 0.0]") {
  return test::make_scene("[materials.NMC811]\nformula = \"LiNi0.8Mn0.1Co0.1O2\"\ndensity_g_cm3 = 4.8\n",
                          "voxel_um = [1.0, 1.0, 5.0]\nlateral_um = [64.0, 48.0]\n"
                          "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 10.0\n",
                          "energy_keV = 27.0\nflux_ph_s = 1e10\n" + beam,
                          "[[scan.steps]]\nkind = \"point\"\nat_um = " + at_um + "\nexposure_s = 1.0\n");
}

std::string image_beam(const std::filesystem::path& file, const std::string& extra = "") {
  return "profile = \"image\"\nimage = \"" + file.string() + "\"\npixel_um = [0.5, 0.5]\n" + extra;
}

const std::string kCamera = "image_background = 100.0\nimage_first_row = \"highest_y\"\n";

class BeamImageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    counts_ = camera_counts();
    write_tiff(dir_ / "beam.tif", counts_);
    write_hdf5(dir_ / "beam.h5", counts_);
    write_npy(dir_ / "beam.npy", "<u2", "(96, 128)", counts_.data(), counts_.size() * 2);
  }
  test::ScratchDir dir_;
  std::vector<uint16_t> counts_;
};

double y_centroid(const test::EngineRun& r) {
  double sum = 0, moment = 0;
  const GridGeometry& g = r.g();
  for (int64_t j = 0; j < g.dims[1]; ++j)
    for (int64_t i = 0; i < g.dims[0]; ++i) {
      const double d = r.dose(i, j, 0);
      sum += d;
      moment += d * (g.origin_um[1] + (j + 0.5) * g.voxel_um[1]);
    }
  return moment / sum;
}

TEST_F(BeamImageFiles, ACameraImageOfAGaussianGivesTheGaussiansDoseFromEveryFormat) {
  const auto gaussian = test::run_engine(scene("profile = \"gaussian\"\nfwhm_um = [12.0, 8.0]\n", "[3.0, -2.0]"));
  const auto tif = test::run_engine(scene(image_beam(dir_ / "beam.tif", kCamera)));
  const auto h5 = test::run_engine(scene(image_beam(dir_ / "beam.h5", kCamera + "image_dataset = \"/entry/data/data\"\n")));
  const auto npy = test::run_engine(scene(image_beam(dir_ / "beam.npy", kCamera)));
  const int64_t n = tif->g().voxels();
  float max = 0;
  for (int64_t v = 0; v < n; ++v) max = std::max(max, gaussian->results.dose_Gy[v]);
  ASSERT_GT(max, 0);
  int compared = 0;
  for (int64_t v = 0; v < n; ++v) {
    EXPECT_EQ(tif->results.dose_Gy[v], h5->results.dose_Gy[v]) << v;
    EXPECT_EQ(tif->results.dose_Gy[v], npy->results.dose_Gy[v]) << v;
    const double expected = gaussian->results.dose_Gy[v];
    if (expected < 0.01 * max) continue;
    EXPECT_NEAR(tif->results.dose_Gy[v], expected, 0.005 * expected) << v;
    ++compared;
  }
  EXPECT_GT(compared, 500);
  EXPECT_NEAR(y_centroid(*tif), -2.0, 0.01);
  // Read as if the first row were the lowest y, the beam lands 2 um above the centre instead
  // of 2 um below.
  const auto flipped = test::run_engine(scene(image_beam(dir_ / "beam.tif", "image_background = 100.0\n")));
  EXPECT_NEAR(y_centroid(*flipped), 2.0, 0.01);
  EXPECT_GT(std::fabs(y_centroid(*flipped) - y_centroid(*tif)), 3.0);
}

TEST_F(BeamImageFiles, CheckPrintsTheMeasuredWidthAndCentroid) {
  test::write_file(dir_ / "s.toml", scene(image_beam(dir_ / "beam.tif", kCamera)));
  auto r = test::run_dosemap({"check", (dir_ / "s.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  static const std::regex line(R"(FWHM ([0-9.]+) x ([0-9.]+) um, centroid \(([-0-9.e]+), ([-0-9.e]+)\) um)");
  ASSERT_TRUE(std::regex_search(r.out, m, line)) << r.out;
  EXPECT_NEAR(std::stod(m[1]), 12.0, 0.12);
  EXPECT_NEAR(std::stod(m[2]), 8.0, 0.08);
  EXPECT_NEAR(std::stod(m[3]), 3.0, 0.01);
  EXPECT_NEAR(std::stod(m[4]), -2.0, 0.01);
}

TEST_F(BeamImageFiles, BrokenImagesAreErrorsWithExitCodeTwoAndNothingWritten) {
  // Truncated: half the data of a .npy.
  write_npy(dir_ / "short.npy", "<u2", "(96, 128)", counts_.data(), counts_.size());
  write_tiff(dir_ / "rgb.tif", counts_, 3);
  const std::vector<std::complex<float>> complex(4);
  write_npy(dir_ / "complex.npy", "<c8", "(2, 2)", complex.data(), 32);
  const double nan_pixels[4] = {1.0, std::nan(""), 1.0, 1.0};
  write_npy(dir_ / "nan.npy", "<f8", "(2, 2)", nan_pixels, sizeof nan_pixels);
  write_npy(dir_ / "line.npy", "<u2", "(128,)", counts_.data(), 256);
  test::write_file(dir_ / "not.tif", "not a tiff");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {image_beam(dir_ / "short.npy"), "is truncated: 12288 bytes of data for 12288 values of 2 bytes"},
      {image_beam(dir_ / "rgb.tif"), "has 3 samples per pixel (a colour image)"},
      {image_beam(dir_ / "not.tif"), "cannot be read as TIFF"},
      {image_beam(dir_ / "complex.npy"), "holds a dtype other than integers, floats or booleans"},
      {image_beam(dir_ / "nan.npy"), "beam image pixel at row 0, column 1 is not finite"},
      {image_beam(dir_ / "line.npy"), "holds a 1-D array"},
      {image_beam(dir_ / "beam.h5", "image_dataset = \"/entry/nothing\"\n"), "has no dataset '/entry/nothing'"},
      {image_beam(dir_ / "beam.h5"), "is an HDF5 file: image_dataset must say which dataset holds the image"},
      {image_beam(dir_ / "beam.npy", "image_dataset = \"/x\"\n"), "applies to HDF5 images (.h5, .hdf5, .nxs) only"},
      {image_beam(dir_ / "beam.npy", "image_background = 70000.0\n"),
       "beam image is all zero once image_background (70000) is subtracted"},
      {image_beam(dir_ / "beam.npy", "image_first_row = \"top\"\n"), "image_first_row"},
      {"profile = \"gaussian\"\nfwhm_um = [5.0, 5.0]\nimage_background = 1.0\n", "does not apply to profile = \"gaussian\""},
  };
  for (const auto& [beam, message] : cases) {
    SCOPED_TRACE(message);
    test::write_file(dir_ / "s.toml", scene(beam));
    auto r = test::run_dosemap({"run", (dir_ / "s.toml").string(), "-o", (dir_ / "out").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
  }
}

}  // namespace
}  // namespace dosemap
