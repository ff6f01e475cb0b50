// The memory estimate (host/transport/run_memory.h) against what a run really uses: the
// peak resident memory of the real binary, for scenes where each kind of allocation
// dominates in turn (the exposure list, the beam image, the fluence histories, the
// per-voxel results). An estimate below the peak lets a run that cannot fit start anyway.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include "host/cli/scene_setup.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

const std::string kHead = R"(format = 1
[materials.copper]
formula = "Cu"
[sample]
voxel_um = [VOXEL]
lateral_um = [LATERAL]
[[sample.layers]]
material = "copper"
thickness_um = 20.0
[beam]
energy_keV = 27.0
flux_ph_s = 1e10
)";

std::string scene(const std::string& voxel, const std::string& lateral, const std::string& profile,
                  const std::string& scan) {
  std::string s = kHead;
  s.replace(s.find("VOXEL"), 5, voxel);
  s.replace(s.find("LATERAL"), 7, lateral);
  return s + profile + scan;
}

const std::string kGaussian = "profile = \"gaussian\"\nfwhm_um = [10.0, 10.0]\n";

struct Case {
  const char* name;
  std::string text;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class RunMemory : public ::testing::TestWithParam<Case> {};

TEST_P(RunMemory, EstimateCoversTheMeasuredPeak) {
  if (kSanitized) GTEST_SKIP() << "AddressSanitizer's shadow memory changes what a run uses";
  test::ScratchDir dir;
  const fs::path path = dir / "scene.toml";
  test::write_file(path, GetParam().text);
  if (GetParam().text.find("beam.csv") != std::string::npos) {
    // A 1500 x 1500 pixel measured beam (18 MB of doubles).
    std::string csv;
    for (int j = 0; j < 1500; ++j) {
      for (int i = 0; i < 1500; ++i) csv += (i ? ",1" : "1");
      csv += "\n";
    }
    test::write_file(dir / "beam.csv", csv);
  }
  const double estimate = set_up_scene(path.string(), WorkLimits{}, 2).memory.peak_bytes();
  test::BackgroundRun run({"run", path.string(), "-o", (dir / "out").string(), "--threads", "2", "--backend", "cpu"});
  const int status = run.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << run.err();
  const double peak = run.max_rss_kb() * 1024.0;
  EXPECT_LE(peak, estimate) << "measured " << peak / 1e6 << " MB, estimated " << estimate / 1e6 << " MB";
  // And not so far above that runs which fit are refused.
  EXPECT_LE(estimate, 2.0 * peak + 30e6) << "measured " << peak / 1e6 << " MB, estimated " << estimate / 1e6 << " MB";
}

INSTANTIATE_TEST_SUITE_P(
    Scenes, RunMemory,
    ::testing::Values(
        // 640 000 exposures of a 1 um beam: the exposure and sub-exposure lists dominate.
        Case{"exposures", scene("2.0, 2.0, 1.0", "100.0, 100.0", "profile = \"tophat\"\nsize_um = [1.0, 1.0]\n",
                                "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-40.0, -40.0]\nto_um = [40.0, 40.0]\n"
                                "step_um = [0.1, 0.1]\ndwell_s = 0.01\n")},
        // A large measured beam on a small grid.
        Case{"beam_image", scene("2.0, 2.0, 1.0", "100.0, 100.0",
                                 "profile = \"image\"\nimage = \"beam.csv\"\npixel_um = [0.01, 0.01]\n",
                                 "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n")},
        // Fly paths over many columns: fluence histories and results.
        Case{"fly_histories", scene("1.0, 1.0, 5.0", "1500.0, 1500.0", kGaussian,
                                    "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-700.0, -700.0], [700.0, -700.0], "
                                    "[700.0, 700.0], [-700.0, 700.0]]\nspeed_um_s = 100.0\n")},
        // A turned scan: poses built one after the other, frames kept per voxel.
        Case{"turned_poses", scene("2.0, 2.0, 2.0", "800.0, 40.0", kGaussian + "[sample.stage]\naxis = \"y\"\n",
                                   "[[scan.steps]]\nkind = \"xrdct\"\nfrom_deg = 0.0\nto_deg = 170.0\n"
                                   "step_deg = 10.0\nx_from_um = -390.0\nx_to_um = 390.0\nspeed_um_s = 100.0\n"
                                   "y_um = [-10.0, 0.0, 10.0]\n[output]\nframe_every_s = 60.0\n")},
        // Many voxels, one exposure: the per-voxel results and the writer.
        Case{"voxels", scene("1.0, 1.0, 0.5", "600.0, 600.0", kGaussian,
                             "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n")}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace dosemap
