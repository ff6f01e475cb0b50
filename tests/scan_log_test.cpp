// Scan-log replay ([[scan.steps]] kind = "log", host/scene/scan_log.h): logs made by
// tools/logs/make_test_logs.py (h5py), laid out as ESRF BLISS writes scans, and CSV files. A
// replayed raster equals the raster written by hand bit for bit; a monitor at half its
// reference halves the dose of its rows; a fly log follows the hand-written fly path; an
// interrupted scan replays the points every counter holds, and says so; a log with a missing
// column, NaNs, time that does not increase or positions off the grid is an error naming the
// file, column and row, with exit code 2 and nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

const std::string kAl = "[materials.al]\nformula = \"Al\"\n";
const std::string kSample = "voxel_um = [2.0, 2.0, 5.0]\nlateral_um = [80.0, 32.0]\n"
                            "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 20.0\n";
const std::string kBeam = "energy_keV = 20.0\nflux_ph_s = 1e10\nprofile = \"gaussian\"\nfwhm_um = [6.0, 6.0]\n";

class ScanLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::ScratchDir();
    const std::string command = "/usr/bin/python3 " + test::source_path("tools/logs/make_test_logs.py").string() + " " +
                                dir_->path().string() + " > " + (dir_->path() / "make.log").string() + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << test::read_file(dir_->path() / "make.log")
                                               << "(needs python3-h5py: tools/setup)";
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path file(const std::string& name) { return dir_->path() / name; }
  static std::string log_step(const std::string& name, const std::string& keys) {
    return "[[scan.steps]]\nkind = \"log\"\nfile = \"" + file(name).string() + "\"\n" + keys;
  }
  static std::string scene(const std::string& scan, const std::string& sample = kSample) {
    return test::make_scene(kAl, sample, kBeam, scan);
  }
  static test::ScratchDir* dir_;
};
test::ScratchDir* ScanLog::dir_ = nullptr;

bool same(const BulkVector<float>& a, const BulkVector<float>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

const std::string kPiezo = "x = { column = \"pz\", unit = \"um\", sign = -1 }\ny = { column = \"py\", unit = \"um\", sign = -1 }\n";

TEST_F(ScanLog, AReplayedRasterEqualsTheRasterWrittenByHandBitForBit) {
  const auto by_hand = test::run_engine(scene(
      "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-8.0, -6.0]\nto_um = [8.0, 6.0]\nstep_um = [8.0, 6.0]\n"
      "dwell_s = 0.5\nmove_s = 0.1\norder = \"lines\"\n"));
  const auto csv = test::run_engine(
      scene(log_step("raster_points.csv", "mode = \"points\"\n" + kPiezo + "exposure_s = 0.5\nmove_s = 0.1\n")));
  const auto h5 = test::run_engine(scene(log_step(
      "raster_bliss.h5", "entry = \"3.1\"\nmode = \"points\"\n" + kPiezo +
                             "time = { column = \"epoch\", unit = \"s\" }\nexposure_s = 0.5\n"
                             "monitor = { column = \"mon\", reference = 1.0e5 }\n")));
  ASSERT_EQ(by_hand->timeline.exposures.size(), 9u);
  for (const auto* r : {csv.get(), h5.get()}) {
    ASSERT_EQ(r->timeline.exposures.size(), 9u);
    for (size_t e = 0; e < 9; ++e) {
      EXPECT_EQ(r->timeline.exposures[e].x0_um, by_hand->timeline.exposures[e].x0_um) << e;
      EXPECT_EQ(r->timeline.exposures[e].y0_um, by_hand->timeline.exposures[e].y0_um) << e;
      EXPECT_EQ(r->timeline.exposures[e].photons, by_hand->timeline.exposures[e].photons) << e;
      EXPECT_NEAR(r->timeline.exposures[e].t_start_s, by_hand->timeline.exposures[e].t_start_s, 1e-6) << e;
    }
    EXPECT_NEAR(r->timeline.duration_s, by_hand->timeline.duration_s, 1e-6);
    EXPECT_TRUE(same(r->results.dose_Gy, by_hand->results.dose_Gy));
    EXPECT_TRUE(same(r->results.rate_peak_Gy_s, by_hand->results.rate_peak_Gy_s));
  }
  // Without a time column the rows follow each other exactly as the hand-written raster's.
  for (size_t e = 0; e < 9; ++e)
    EXPECT_EQ(csv->timeline.exposures[e].t_start_s, by_hand->timeline.exposures[e].t_start_s) << e;
}

TEST_F(ScanLog, AMonitorAtHalfItsReferenceHalvesTheDoseOfItsRows) {
  const std::string keys = "mode = \"points\"\nx = { column = \"x_um\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n"
                           "time = { column = \"t_s\", unit = \"s\" }\nexposure_s = 0.5\n";
  const auto flat = test::run_engine(scene(log_step("monitor_points.csv", keys)));
  const auto monitored =
      test::run_engine(scene(log_step("monitor_points.csv", keys + "monitor = { column = \"mon\", reference = 1e5 }\n")));
  const GridGeometry& g = flat->g();
  int compared = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0] / 2; ++i) {
        const int64_t mirror = g.dims[0] - 1 - i;  // x -> -x: the second point's voxel
        const double first = flat->dose(i, j, k);
        if (first < 1e-3 * flat->results.dose_Gy[g.index(g.dims[0] / 4, g.dims[1] / 2, 0)]) continue;
        EXPECT_NEAR(flat->dose(mirror, j, k), first, 1e-6 * first);          // a symmetric scan
        EXPECT_NEAR(monitored->dose(i, j, k), first, 1e-6 * first);          // at the reference
        EXPECT_NEAR(monitored->dose(mirror, j, k), 0.5 * first, 1e-6 * first);  // at half of it
        ++compared;
      }
  EXPECT_GT(compared, 50);
}

TEST_F(ScanLog, AFlyLogFollowsTheHandWrittenFlyPath) {
  const auto by_hand = test::run_engine(
      scene("[[scan.steps]]\nkind = \"fly\"\npath_um = [[-10.0, 0.0], [10.0, 0.0]]\nspeed_um_s = 10.0\n"));
  const auto replay = test::run_engine(scene(log_step(
      "fly_bliss.h5", "entry = \"7.1\"\nmode = \"fly\"\nx = { column = \"samx\", unit = \"mm\", sign = -1 }\n"
                      "y = { column = \"samy\", unit = \"mm\", sign = -1 }\n"  // samy from positioners_start
                      "time = { column = \"elapsed_time\", unit = \"s\" }\n"
                      "monitor = { column = \"mon\", reference = 2.0e5 }\n")));  // at its reference throughout
  ASSERT_EQ(replay->timeline.exposures.size(), 8u);  // one fly segment between each two rows
  EXPECT_NEAR(replay->timeline.duration_s, 2.0, 1e-12);
  EXPECT_NEAR(replay->timeline.photons, by_hand->timeline.photons, 1e-6 * by_hand->timeline.photons);
  float max = 0;
  for (float d : by_hand->results.dose_Gy) max = std::max(max, d);
  ASSERT_GT(max, 0);
  for (int64_t v = 0; v < by_hand->g().voxels(); ++v) {
    const double d = by_hand->results.dose_Gy[v];
    if (d > 1e-3 * max) {
      EXPECT_NEAR(replay->results.dose_Gy[v], d, 2e-3 * d) << v;
    }
  }
}

TEST_F(ScanLog, AnInterruptedScanReplaysThePointsEveryCounterHoldsAndSaysSo) {
  test::ScratchDir dir;
  test::write_file(dir / "s.toml", scene(log_step("interrupted_bliss.h5",
                                                  "entry = \"12.1\"\nmode = \"points\"\n" + kPiezo +
                                                      "time = { column = \"epoch\", unit = \"s\" }\nexposure_s = 0.5\n")));
  const auto r = test::run_dosemap({"check", (dir / "s.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hold different numbers of points (epoch 7, py 8, pz 8)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the scan was interrupted; the 7 points every counter holds are replayed"), std::string::npos);
  EXPECT_NE(r.out.find("'" + file("interrupted_bliss.h5").string() +
                       "' scan 12.1 \"amesh pz -8 8 2 py -6 6 2 0.5\": 7 points over 4.1 s"),
            std::string::npos)
      << r.out;
}

TEST_F(ScanLog, AnAngleColumnTurnsTheStageAsAngleDegDoes) {
  test::ScratchDir dir;
  test::write_file(dir / "turns.csv", "x,angle\n0,0\n4,90\n");
  const std::string stage = kSample + "[sample.stage]\naxis = \"y\"\n";
  const auto by_hand = test::run_engine(scene(
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 0.5\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [4.0, 0.0]\nexposure_s = 0.5\nangle_deg = 90.0\n",
      stage));
  const auto replay = test::run_engine(scene(
      "[[scan.steps]]\nkind = \"log\"\nfile = \"" + (dir / "turns.csv").string() +
          "\"\nmode = \"points\"\nx = { column = \"x\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n"
          "angle = { column = \"angle\", unit = \"deg\", sign = 1 }\nexposure_s = 0.5\n",
      stage));
  EXPECT_TRUE(same(replay->results.dose_Gy, by_hand->results.dose_Gy));
}

TEST_F(ScanLog, RowsThatLeaveTheGridAreSkippedOnlyWhenTheSceneSaysSo) {
  test::ScratchDir dir;
  test::write_file(dir / "edge.csv", "x\n0\n30\n500\n");  // the last row 460 um past the edge
  const std::string keys = "mode = \"points\"\nx = { column = \"x\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n"
                           "exposure_s = 0.5\n";
  const std::string step = "[[scan.steps]]\nkind = \"log\"\nfile = \"edge.csv\"\n" + keys;
  test::write_file(dir / "s.toml", scene(step + "off_grid = \"skip\"\n"));
  const auto skip = test::run_dosemap({"check", (dir / "s.toml").string()});
  EXPECT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_NE(skip.out.find("1 exposure(s) put the beam entirely outside the sample grid"), std::string::npos) << skip.out;
  test::write_file(dir / "s.toml", scene(step));
  const auto refused = test::run_dosemap({"run", (dir / "s.toml").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("edge.csv:4:1: error: [[scan.steps]] #1 log 'edge.csv' row 3 puts the beam at (500, 0) um, "
                             "where it misses the sample grid"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

// The example a user starts from: the demo cell's map replayed from a BLISS session file
// (tools/logs/make_example_log.py, made by the build). The three points counted with a 50 %
// attenuator (i0 at half its reference) take half the dose of the others, the point whose
// shutter stayed closed none.
TEST(ScanLogExample, TheReplayedPouchMapDosesWhatTheLogRecorded) {
  test::ScratchDir dir;
  const auto r = test::run_dosemap(
      {"run", test::source_path("scenes/operando_pouch_replay.toml").string(), "-o", (dir / "out").string(), "--format", "vdb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(test::read_file(dir / "out" / "summary.json"));
  const auto& points = summary.at("point_positions");
  ASSERT_EQ(points.size(), 19u);  // 20 rows, one with the shutter closed
  std::vector<double> full, attenuated;
  for (const auto& p : points) {
    const double d = p.at("materials").at("cathode").at("components").at("NMC811").at("dose_max_Gy");
    const double x = p.at("at_um")[0], y = p.at("at_um")[1];
    const bool in = (std::fabs(y + 220) < 1e-6 && x > 0) || (std::fabs(y) < 1e-6 && x < -900);
    (in ? attenuated : full).push_back(d);
    EXPECT_FALSE(std::fabs(y - 220) < 1e-6 && std::fabs(x + 945) < 1e-6) << "the shutter was closed there";
  }
  ASSERT_EQ(attenuated.size(), 3u);
  const double mean_full = std::accumulate(full.begin(), full.end(), 0.0) / full.size();
  for (double d : full) EXPECT_NEAR(d, mean_full, 0.01 * mean_full);  // i0 within 0.2 %, edges within 1 %
  for (double d : attenuated) EXPECT_NEAR(d, 0.5 * mean_full, 0.01 * mean_full);
}

TEST_F(ScanLog, BrokenLogsAreErrorsNamingFileColumnAndRowWithExitCodeTwoAndNothingWritten) {
  test::ScratchDir dir;
  test::write_file(dir / "nan.csv", "x,t\n0,0\nnan,1\n");
  test::write_file(dir / "back.csv", "x,t\n0,0\n1,1\n2,0.5\n");
  test::write_file(dir / "short.csv", "x,t\n0,0\n1\n");
  test::write_file(dir / "text.csv", "x,t\n0,0\nhere,1\n");
  test::write_file(dir / "overlap.csv", "x,t\n0,0\n1,0.2\n");
  const std::string x = "mode = \"points\"\nx = { column = \"x\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n";
  const std::string xt = x + "time = { column = \"t\", unit = \"s\" }\nexposure_s = 0.5\n";
  auto csv = [&](const std::string& name, const std::string& keys) {
    return "[[scan.steps]]\nkind = \"log\"\nfile = \"" + name + "\"\n" + keys;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {csv("nan.csv", xt), "nan.csv:3:1: error: scan log column 'x' row 2 is nan, not a number"},
      {csv("back.csv", xt), "back.csv:4:3: error: scan log column 't' row 3 is -0.5 s after the row before: time must increase"},
      {csv("short.csv", xt), "short.csv:3:1: error: scan log row has 1 fields, the header 2"},
      {csv("text.csv", xt), "text.csv:3:1: error: scan log column 'x' holds 'here', not a number"},
      {csv("overlap.csv", xt), "overlap.csv:3:3: error: scan log column 't' row 2 starts 0.2 s after the row before, whose "
                               "exposure lasts 0.5 s"},
      {csv("nan.csv", "mode = \"points\"\nx = { column = \"samx\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n"
                      "exposure_s = 0.5\n"),
       "log 'nan.csv' has no column 'samx'; name one of its columns: x or t"},
      {csv("nan.csv", "mode = \"points\"\nx = { column = \"x\", unit = \"um\" }\nat_um = [0.0, 0.0]\nexposure_s = 0.5\n"),
       "sign"},
      {csv("nan.csv", "mode = \"points\"\nx = { column = \"x\", unit = \"inch\", sign = 1 }\nat_um = [0.0, 0.0]\n"
                      "exposure_s = 0.5\n"),
       "unit"},
      {csv("nan.csv", x), "needs each row's exposure time"},
      {csv("nan.csv", "mode = \"points\"\nx = { column = \"x\", unit = \"um\", sign = 1 }\nexposure_s = 0.5\n"),
       "has no y column: say where the beam stays along that axis"},
      {csv("nan.csv", "mode = \"fly\"\nx = { column = \"x\", unit = \"um\", sign = 1 }\nat_um = [0.0, 0.0]\n"), "time"},
      {csv("scan.txt", xt), "'scan.txt' is not a scan log dosemap reads"},
      {csv("missing.csv", xt), "missing.csv"},
      {log_step("raster_bliss.h5", "mode = \"points\"\n" + kPiezo + "exposure_s = 0.5\n"), "entry"},
      {log_step("raster_bliss.h5", "entry = \"9.1\"\nmode = \"points\"\n" + kPiezo + "exposure_s = 0.5\n"),
       "has no scan '9.1'; give one of its scans as entry: 3.1, 3.2 or 4.1"},
      {log_step("raster_bliss.h5", "entry = \"3.1\"\nmode = \"points\"\n" + kPiezo +
                                       "time = { column = \"epock\", unit = \"s\" }\nexposure_s = 0.5\n"),
       "has no counter 'epock' in /3.1/measurement nor /3.1/instrument/positioners_start"},
      {log_step("raster_bliss.h5", "entry = \"3.1\"\nmode = \"points\"\nx = { column = \"pz\", unit = \"mm\", sign = -1 }\n"
                                   "y = { column = \"py\", unit = \"mm\", sign = -1 }\nexposure_s = 0.5\n"),
       "row 1 puts the beam at (-8000, -6000) um, where it misses the sample grid"},
  };
  for (const auto& [scan, message] : cases) {
    SCOPED_TRACE(message);
    test::write_file(dir / "s.toml", scene(scan));
    for (const char* command : {"check", "run"}) {
      const auto r = std::string(command) == "run"
                         ? test::run_dosemap({command, (dir / "s.toml").string(), "-o", (dir / "out").string()}, dir.path())
                         : test::run_dosemap({command, (dir / "s.toml").string()}, dir.path());
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
      EXPECT_NE(r.err.find(message), std::string::npos) << command << ": " << r.err;
      EXPECT_FALSE(std::filesystem::exists(dir / "out"));
    }
  }
}

}  // namespace
}  // namespace dosemap
