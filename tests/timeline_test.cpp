// Scan expansion: counts, times, raster order, repeat and period, fly segments.
#include <gtest/gtest.h>

#include "host/scene/scene_reader.h"
#include "host/timeline/timeline.h"

namespace dosemap {
namespace {

Scene scene_with_scan(const std::string& scan) {
  return read_scene_text(R"(format = 1
[materials.a]
formula = "Al"
[sample]
voxel_um = [10.0, 10.0, 1.0]
lateral_um = [1000.0, 1000.0]
[[sample.layers]]
material = "a"
thickness_um = 5.0
[beam]
energy_keV = 27
flux_ph_s = 2e10
profile = "tophat"
size_um = [10.0, 10.0]
)" + scan,
                         "t.toml");
}

TEST(Timeline, PointAndWaitStepsFollowEachOther) {
  const Timeline tl = expand_scan(scene_with_scan(R"(
[[scan.steps]]
kind = "point"
at_um = [1.0, 2.0]
exposure_s = 2.5
[[scan.steps]]
kind = "wait"
duration_s = 10.0
[[scan.steps]]
kind = "point"
at_um = [-3.0, 4.0]
exposure_s = 1.0
)"));
  ASSERT_EQ(tl.exposures.size(), 2u);
  EXPECT_EQ(tl.exposures[0].t_start_s, 0.0);
  EXPECT_EQ(tl.exposures[0].x0_um, 1.0);
  EXPECT_EQ(tl.exposures[0].photons, 5e10);
  EXPECT_FALSE(tl.exposures[0].moving());
  EXPECT_EQ(tl.exposures[1].t_start_s, 12.5);
  EXPECT_EQ(tl.exposures[1].step, 2);
  EXPECT_EQ(tl.duration_s, 13.5);
  EXPECT_EQ(tl.beam_on_s, 3.5);
  EXPECT_EQ(tl.photons, 7e10);
}

TEST(Timeline, RasterIncludesTheEndWhenItIsAWholeNumberOfSteps) {
  const std::string raster = R"(
[[scan.steps]]
kind = "raster"
from_um = [-100.0, -20.0]
to_um = [100.0, 20.0]
step_um = [50.0, %s]
dwell_s = 1.0
)";
  char buf[512];
  std::snprintf(buf, sizeof buf, raster.c_str(), "20.0");
  EXPECT_EQ(expand_scan(scene_with_scan(buf)).exposures.size(), 5u * 3u);
  std::snprintf(buf, sizeof buf, raster.c_str(), "15.0");  // 40 / 15: points at -20, -5, 10
  const Timeline tl = expand_scan(scene_with_scan(buf));
  EXPECT_EQ(tl.exposures.size(), 5u * 3u);
  EXPECT_DOUBLE_EQ(tl.exposures.back().y0_um, 10.0);
}

TEST(Timeline, SnakeReversesEveryOtherLineAndLinesDoNot) {
  const std::string raster = R"(
[[scan.steps]]
kind = "raster"
from_um = [0.0, 0.0]
to_um = [20.0, 10.0]
step_um = [10.0, 10.0]
dwell_s = 2.0
move_s = 0.5
order = "%s"
)";
  char buf[512];
  std::snprintf(buf, sizeof buf, raster.c_str(), "snake");
  const Timeline snake = expand_scan(scene_with_scan(buf));
  std::snprintf(buf, sizeof buf, raster.c_str(), "lines");
  const Timeline lines = expand_scan(scene_with_scan(buf));
  ASSERT_EQ(snake.exposures.size(), 6u);
  const double snake_x[] = {0, 10, 20, 20, 10, 0};
  const double lines_x[] = {0, 10, 20, 0, 10, 20};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(snake.exposures[i].x0_um, snake_x[i]) << i;
    EXPECT_EQ(lines.exposures[i].x0_um, lines_x[i]) << i;
    EXPECT_EQ(snake.exposures[i].y0_um, i < 3 ? 0.0 : 10.0);
    EXPECT_DOUBLE_EQ(snake.exposures[i].t_start_s, i * 2.5);  // dwell + move between points
  }
  // n dwells and n - 1 moves: no move after the last point.
  EXPECT_DOUBLE_EQ(snake.duration_s, 6 * 2.0 + 5 * 0.5);
  EXPECT_DOUBLE_EQ(snake.beam_on_s, 12.0);
}

TEST(Timeline, RasterRunsBackwardsWhenToIsBelowFrom) {
  const Timeline tl = expand_scan(scene_with_scan(R"(
[[scan.steps]]
kind = "raster"
from_um = [10.0, 0.0]
to_um = [-10.0, 0.0]
step_um = [10.0, 1.0]
dwell_s = 1.0
)"));
  ASSERT_EQ(tl.exposures.size(), 3u);
  EXPECT_EQ(tl.exposures[0].x0_um, 10.0);
  EXPECT_EQ(tl.exposures[2].x0_um, -10.0);
}

TEST(Timeline, RepeatWithPeriodStartsEachRepetitionOnTheClock) {
  const std::string steps = R"(
[scan]
repeat = 3
period_s = %s
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 4.0
[[scan.steps]]
kind = "wait"
duration_s = 1.0
)";
  char buf[512];
  std::snprintf(buf, sizeof buf, steps.c_str(), "100.0");
  const Timeline tl = expand_scan(scene_with_scan(buf));
  ASSERT_EQ(tl.exposures.size(), 3u);
  EXPECT_EQ(tl.exposures[1].t_start_s, 100.0);
  EXPECT_EQ(tl.exposures[2].t_start_s, 200.0);
  EXPECT_EQ(tl.exposures[2].repetition, 2);
  EXPECT_EQ(tl.repetition_s, 5.0);
  EXPECT_EQ(tl.duration_s, 205.0);
  std::snprintf(buf, sizeof buf, steps.c_str(), "0.0");  // back to back
  const Timeline b2b = expand_scan(scene_with_scan(buf));
  EXPECT_EQ(b2b.exposures[2].t_start_s, 10.0);
  EXPECT_EQ(b2b.duration_s, 15.0);
  std::snprintf(buf, sizeof buf, steps.c_str(), "4.5");  // shorter than a repetition
  try {
    expand_scan(scene_with_scan(buf));
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(e.diagnostics()[0].where.line, 18);  // the period_s line
    EXPECT_NE(std::string(e.what()).find("shorter than one repetition"), std::string::npos);
  }
}

TEST(Timeline, FlyPathBecomesOneMovingExposurePerSegment) {
  const Timeline tl = expand_scan(scene_with_scan(R"(
[[scan.steps]]
kind = "fly"
path_um = [[-50.0, 0.0], [50.0, 0.0], [50.0, 20.0], [-50.0, 20.0]]
speed_um_s = 20.0
)"));
  ASSERT_EQ(tl.exposures.size(), 3u);
  EXPECT_TRUE(tl.exposures[0].moving());
  EXPECT_EQ(tl.exposures[0].duration_s, 5.0);
  EXPECT_EQ(tl.exposures[1].t_start_s, 5.0);
  EXPECT_EQ(tl.exposures[1].duration_s, 1.0);
  EXPECT_EQ(tl.exposures[2].x0_um, 50.0);
  EXPECT_EQ(tl.exposures[2].x1_um, -50.0);
  EXPECT_EQ(tl.exposures[2].y1_um, 20.0);
  EXPECT_EQ(tl.duration_s, 11.0);
  EXPECT_EQ(tl.photons, 2e10 * 11.0);
}

TEST(Timeline, CountMatchesExpansion) {
  const Scene s = scene_with_scan(R"(
[scan]
repeat = 7
[[scan.steps]]
kind = "raster"
from_um = [0.0, 0.0]
to_um = [40.0, 30.0]
step_um = [10.0, 10.0]
dwell_s = 1.0
[[scan.steps]]
kind = "fly"
path_um = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]
speed_um_s = 5.0
)");
  EXPECT_EQ(count_exposures(s.scan), 7 * (20 + 2));
  EXPECT_EQ(expand_scan(s).exposures.size(), 7u * 22u);
}

}  // namespace
}  // namespace dosemap
