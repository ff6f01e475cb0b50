// Cumulative-dose frames: written at the requested times (and at the end of the scan with
// frame_every_s), the last one equal to dose.vdb, dose never decreasing from one frame to
// the next, and a .pvd giving ParaView the real times.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "host/outputs/vdb_io.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

const char* kScene = R"(format = 1
title = "frames test"
[materials.al]
formula = "Al"
[materials.cu]
formula = "Cu"
[sample]
voxel_um = [5.0, 5.0, 2.0]
lateral_um = [60.0, 40.0]
[[sample.layers]]
material = "cu"
thickness_um = 4.0
[[sample.layers]]
material = "al"
thickness_um = 10.0
[beam]
energy_keV = 20.0
flux_ph_s = 1e10
profile = "gaussian"
fwhm_um = [8.0, 6.0]
[[scan.steps]]
kind = "point"
at_um = [-10.0, 0.0]
exposure_s = 10.0
[[scan.steps]]
kind = "wait"
duration_s = 5.0
[[scan.steps]]
kind = "fly"
path_um = [[-20.0, 5.0], [20.0, 5.0]]
speed_um_s = 4.0
[output]
formats = ["vdb", "vti"]
frame_every_s = 8.0
)";

GridGeometry geometry_of(const nlohmann::json& summary) {
  GridGeometry g;
  for (int a = 0; a < 3; ++a) {
    g.dims[a] = summary["grid"]["dims"][a];
    g.voxel_um[a] = summary["grid"]["voxel_um"][a];
    g.origin_um[a] = summary["grid"]["origin_um"][a];
  }
  return g;
}

std::string frame_path(const test::ScratchDir& dir, size_t frame, const char* extension) {
  char name[64];
  std::snprintf(name, sizeof name, "out/frames/dose_%04zu.%s", frame, extension);
  return (dir / name).string();
}

TEST(Frames, LastFrameIsTheFinalDoseAndFramesNeverDecrease) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", kScene);
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(test::read_file(dir / "out/summary.json"));
  // Scan: 10 s + 5 s off + 10 s fly = 25 s; frames every 8 s and at the end.
  const std::vector<double> expect_times{8, 16, 24, 25};
  ASSERT_EQ(summary["frames"].size(), expect_times.size());
  for (size_t f = 0; f < expect_times.size(); ++f) EXPECT_DOUBLE_EQ(summary["frames"][f]["time_s"].get<double>(), expect_times[f]);
  const GridGeometry g = geometry_of(summary);
  const std::vector<float> final_dose = read_float_grid((dir / "out/dose.vdb").string(), "dose", g, 0.0f);
  std::vector<float> previous(final_dose.size(), 0.0f);
  for (size_t f = 0; f < expect_times.size(); ++f) {
    const std::string path = frame_path(dir, f + 1, "vdb");
    const std::vector<float> frame = read_float_grid(path, "dose", g, 0.0f);
    for (size_t v = 0; v < frame.size(); ++v) ASSERT_GE(frame[v], previous[v]) << "frame " << f + 1 << " voxel " << v;
    previous = frame;
    const VdbFileSummary info = read_vdb_summary(path);
    EXPECT_DOUBLE_EQ(std::stod(info.metadata.at("time_s")), expect_times[f]);
    EXPECT_TRUE(std::filesystem::exists(frame_path(dir, f + 1, "vti"))) << f + 1;
  }
  EXPECT_EQ(previous, final_dose);  // the last frame is dose.vdb
  // The first frame, at 8 s, is inside the first exposure: 8/10 of its dose in its columns.
  const std::string pvd = test::read_file(dir / "out/dose.pvd");
  EXPECT_NE(pvd.find("timestep=\"8\" part=\"0\" file=\"frames/dose_0001.vti\""), std::string::npos) << pvd;
  EXPECT_NE(pvd.find("timestep=\"25\" part=\"0\" file=\"frames/dose_0004.vti\""), std::string::npos) << pvd;
}

// A frame's density (made of its dose grid's leaves as they are written) is its dose on the
// final dose's scale: log10 over the four decades below the run's largest dose.
TEST(Frames, EachFramesDensityIsItsDoseOnTheFinalDosesScale) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", kScene);
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const GridGeometry g = geometry_of(nlohmann::json::parse(test::read_file(dir / "out/summary.json")));
  const std::vector<float> final_dose = read_float_grid((dir / "out/dose.vdb").string(), "dose", g, 0.0f);
  const double log10_final_max = std::log10(*std::max_element(final_dose.begin(), final_dose.end()));
  // The scale is the run's largest dose as the statistics hold it (in double), within a
  // float's rounding of dose.vdb's largest value: x is compared to 1e-6 (a fog value in [0, 1]).
  const double lo = log10_final_max - 4.0;
  constexpr double kScaleRounding = 1e-6;
  int64_t with_density = 0;
  for (size_t f = 1; f <= 4; ++f) {
    for (const VdbGridSummary& s : read_vdb_summary(frame_path(dir, f, "vdb")).grids)
      if (s.name == "density") {
        EXPECT_NEAR(std::stod(s.metadata.at("log10_dose_max_Gy")), log10_final_max, 1e-5);
      }
    const std::vector<float> dose = read_float_grid(frame_path(dir, f, "vdb"), "dose", g, 0.0f);
    const std::vector<float> density = read_float_grid(frame_path(dir, f, "vdb"), "density", g, 0.0f);
    for (size_t v = 0; v < dose.size(); ++v) {
      const double x = dose[v] > 0 ? (std::log10(static_cast<double>(dose[v])) - lo) / 4.0 : 0.0;
      if (std::fabs(x) < kScaleRounding) continue;  // on the floor: either side
      if (x < 0) {
        ASSERT_EQ(density[v], 0.0f) << "frame " << f << " voxel " << v;
        continue;
      }
      ASSERT_NEAR(density[v], std::min(1.0, x), kScaleRounding) << "frame " << f << " voxel " << v;
      ++with_density;
    }
  }
  EXPECT_GT(with_density, 100);  // the comparison saw dosed voxels
}

TEST(Frames, DoseAtAFrameFollowsTheColumnHistory) {
  // At 8 s only the first (static) exposure has delivered, 8/10 of it.
  auto run = test::run_engine(kScene);
  auto first_only = test::run_engine(std::string(kScene).replace(std::string(kScene).find("[[scan.steps]]\nkind = \"wait\""),
                                                                 std::string::npos, "[output]\nframe_every_s = 8.0\n"));
  const DoseResults& r = run->results;
  ASSERT_EQ(r.tables.frame_time_s.size(), 4u);
  for (int64_t v = 0; v < r.voxels; ++v) {
    const double at8 = r.frame_dose(0)[v];
    const double expect = 0.8 * first_only->results.dose_Gy[v];
    EXPECT_NEAR(at8, expect, 1e-6 * expect + 1e-30) << v;
  }
}

TEST(Frames, FramesAfterTheScanAreAnError) {
  test::ScratchDir dir;
  std::string text = kScene;
  text.replace(text.find("frame_every_s = 8.0"), 19, "frames_s = [10.0, 30.0]");
  test::write_file(dir / "scene.toml", text);
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("frame at 30 s is after the end of the scan (25 s)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

}  // namespace
}  // namespace dosemap
