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

// ---- turning the stage: rotate and xrdct steps ----

// A scene with a vertical rotation stage (turning steps need one) and the given scan.
Scene turned_scene_with_scan(const std::string& scan) {
  return scene_with_scan("[sample.stage]\naxis = \"y\"\n" + scan);
}

// Exposures are in time order and never overlap (a moving stage is never also exposing).
void expect_in_order_without_overlap(const Timeline& tl) {
  for (size_t i = 1; i < tl.exposures.size(); ++i)
    EXPECT_LE(tl.exposures[i - 1].t_end_s(), tl.exposures[i].t_start_s + 1e-9) << "exposure " << i;
}

TEST(Timeline, PointStepHeldAtAnAngleCarriesIt) {
  const Timeline tl = expand_scan(turned_scene_with_scan(R"(
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1.0
angle_deg = 30.0
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1.0
)"));
  ASSERT_EQ(tl.exposures.size(), 2u);
  EXPECT_EQ(tl.exposures[0].angle0_deg, 30.0);
  EXPECT_EQ(tl.exposures[0].angle1_deg, 30.0);
  EXPECT_FALSE(tl.exposures[0].turning());
  EXPECT_EQ(tl.exposures[1].angle0_deg, 0.0);  // the default
  EXPECT_EQ(tl.exposures[1].angle1_deg, 0.0);
}

TEST(Timeline, RotateStepAndShootIsOneExposurePerAngleWithMovesBetween) {
  const Scene s = turned_scene_with_scan(R"(
[[scan.steps]]
kind = "rotate"
at_um = [5.0, -3.0]
from_deg = 0.0
to_deg = 90.0
step_deg = 30.0
dwell_s = 2.0
move_s = 0.5
)");
  const Timeline tl = expand_scan(s);
  ASSERT_EQ(tl.exposures.size(), 4u);
  EXPECT_EQ(count_exposures(s.scan), 4);
  for (int i = 0; i < 4; ++i) {
    const Exposure& e = tl.exposures[i];
    SCOPED_TRACE(i);
    EXPECT_DOUBLE_EQ(e.angle0_deg, 30.0 * i);
    EXPECT_EQ(e.angle1_deg, e.angle0_deg);  // held still while the beam is on
    EXPECT_FALSE(e.turning());
    EXPECT_FALSE(e.moving());
    EXPECT_EQ(e.x0_um, 5.0);
    EXPECT_EQ(e.y0_um, -3.0);
    EXPECT_EQ(e.x1_um, 5.0);
    EXPECT_EQ(e.y1_um, -3.0);
    EXPECT_DOUBLE_EQ(e.t_start_s, i * 2.5);  // dwell + move between angles
    EXPECT_EQ(e.duration_s, 2.0);
    EXPECT_EQ(e.photons, 2e10 * 2.0);
    EXPECT_EQ(e.step, 0);
  }
  // n dwells and n - 1 moves: no move after the last angle.
  EXPECT_DOUBLE_EQ(tl.duration_s, 4 * 2.0 + 3 * 0.5);
  EXPECT_DOUBLE_EQ(tl.repetition_s, 9.5);
  EXPECT_DOUBLE_EQ(tl.beam_on_s, 8.0);
  EXPECT_DOUBLE_EQ(tl.photons, 2e10 * 8.0);
}

TEST(Timeline, RotateIncludesToOnlyWhenAWholeNumberOfStepsAway) {
  const std::string rotate = R"(
[[scan.steps]]
kind = "rotate"
at_um = [0.0, 0.0]
from_deg = %s
to_deg = %s
step_deg = %s
dwell_s = 1.0
)";
  char buf[512];
  std::snprintf(buf, sizeof buf, rotate.c_str(), "0.0", "100.0", "30.0");  // 0, 30, 60, 90
  Timeline tl = expand_scan(turned_scene_with_scan(buf));
  ASSERT_EQ(tl.exposures.size(), 4u);
  EXPECT_DOUBLE_EQ(tl.exposures.back().angle0_deg, 90.0);
  EXPECT_DOUBLE_EQ(tl.duration_s, 4.0);  // move_s defaults to 0
  std::snprintf(buf, sizeof buf, rotate.c_str(), "0.0", "180.0", "0.5");  // 361 angles, 180 included
  tl = expand_scan(turned_scene_with_scan(buf));
  ASSERT_EQ(tl.exposures.size(), 361u);
  EXPECT_NEAR(tl.exposures.back().angle0_deg, 180.0, 1e-9);
  std::snprintf(buf, sizeof buf, rotate.c_str(), "90.0", "-45.0", "45.0");  // backwards: 90, 45, 0, -45
  tl = expand_scan(turned_scene_with_scan(buf));
  ASSERT_EQ(tl.exposures.size(), 4u);
  const double backwards[] = {90.0, 45.0, 0.0, -45.0};
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(tl.exposures[i].angle0_deg, backwards[i]) << i;
  std::snprintf(buf, sizeof buf, rotate.c_str(), "30.0", "30.0", "5.0");  // stepped, no range: one angle
  tl = expand_scan(turned_scene_with_scan(buf));
  ASSERT_EQ(tl.exposures.size(), 1u);
  EXPECT_EQ(tl.exposures[0].angle0_deg, 30.0);
}

TEST(Timeline, ContinuousRotateIsOneTurningExposure) {
  const std::string rotate = R"(
[[scan.steps]]
kind = "rotate"
at_um = [7.0, 8.0]
from_deg = %s
to_deg = %s
speed_deg_s = %s
)";
  char buf[512];
  std::snprintf(buf, sizeof buf, rotate.c_str(), "10.0", "190.0", "6.0");
  const Scene s = turned_scene_with_scan(buf);
  EXPECT_EQ(count_exposures(s.scan), 1);
  const Timeline tl = expand_scan(s);
  ASSERT_EQ(tl.exposures.size(), 1u);
  const Exposure& e = tl.exposures[0];
  EXPECT_EQ(e.t_start_s, 0.0);
  EXPECT_DOUBLE_EQ(e.duration_s, 30.0);  // 180 degrees at 6 degrees/s
  EXPECT_EQ(e.angle0_deg, 10.0);
  EXPECT_EQ(e.angle1_deg, 190.0);
  EXPECT_TRUE(e.turning());
  EXPECT_FALSE(e.moving());  // the beam stays at at_um
  EXPECT_EQ(e.x0_um, 7.0);
  EXPECT_EQ(e.y1_um, 8.0);
  EXPECT_DOUBLE_EQ(e.photons, 2e10 * 30.0);
  EXPECT_DOUBLE_EQ(tl.duration_s, 30.0);
  EXPECT_DOUBLE_EQ(tl.beam_on_s, 30.0);

  std::snprintf(buf, sizeof buf, rotate.c_str(), "180.0", "0.0", "9.0");  // turning backwards
  const Timeline back = expand_scan(turned_scene_with_scan(buf));
  ASSERT_EQ(back.exposures.size(), 1u);
  EXPECT_EQ(back.exposures[0].angle0_deg, 180.0);
  EXPECT_EQ(back.exposures[0].angle1_deg, 0.0);
  EXPECT_DOUBLE_EQ(back.exposures[0].duration_s, 20.0);
}

// An xrdct step in step mode: 2 angles x 3 heights = 6 lines of 3 points.
const char* kXrdctSteps = R"(
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 90.0
step_deg = 90.0
y_um = [0.0, 10.0, 20.0]
x_from_um = -10.0
x_to_um = 10.0
x_step_um = 10.0
dwell_s = 1.0
move_s = 0.25
line_move_s = 2.0
order = "%s"
)";

TEST(Timeline, XrdctStepsAngleByAngleHeightByHeightPointByPoint) {
  for (const char* order : {"snake", "lines"}) {
    SCOPED_TRACE(order);
    const bool snake = std::string(order) == "snake";
    char buf[512];
    std::snprintf(buf, sizeof buf, kXrdctSteps, order);
    const Scene s = turned_scene_with_scan(buf);
    EXPECT_EQ(count_exposures(s.scan), 18);
    const Timeline tl = expand_scan(s);
    ASSERT_EQ(tl.exposures.size(), 18u);
    const double heights[] = {0.0, 10.0, 20.0};
    const double line_s = 3 * 1.0 + 2 * 0.25;  // 3 dwells, 2 moves
    for (int line = 0; line < 6; ++line) {
      // The snake counts lines across angles: with 3 heights the second angle starts reversed.
      const bool reverse = snake && line % 2 == 1;
      for (int k = 0; k < 3; ++k) {
        const Exposure& e = tl.exposures[line * 3 + k];
        SCOPED_TRACE("line " + std::to_string(line) + " point " + std::to_string(k));
        EXPECT_EQ(e.angle0_deg, line < 3 ? 0.0 : 90.0);
        EXPECT_EQ(e.angle1_deg, e.angle0_deg);
        EXPECT_EQ(e.y0_um, heights[line % 3]);
        EXPECT_EQ(e.x0_um, reverse ? 10.0 - 10.0 * k : -10.0 + 10.0 * k);
        EXPECT_FALSE(e.moving());
        EXPECT_FALSE(e.turning());
        EXPECT_EQ(e.duration_s, 1.0);
        EXPECT_EQ(e.photons, 2e10);
        // line_move_s between consecutive lines, move_s between points in a line.
        EXPECT_DOUBLE_EQ(e.t_start_s, line * (line_s + 2.0) + k * 1.25);
      }
    }
    // No line move after the last line, no point move after its last point.
    EXPECT_DOUBLE_EQ(tl.duration_s, 6 * line_s + 5 * 2.0);
    EXPECT_DOUBLE_EQ(tl.beam_on_s, 18.0);
    expect_in_order_without_overlap(tl);
  }
}

TEST(Timeline, XrdctDefaultsToOneHeightAtZeroAndNoLineMoves) {
  const Timeline tl = expand_scan(turned_scene_with_scan(R"(
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 20.0
step_deg = 10.0
x_from_um = 0.0
x_to_um = 5.0
x_step_um = 5.0
dwell_s = 0.5
)"));
  ASSERT_EQ(tl.exposures.size(), 6u);  // 3 angles x 1 height x 2 points
  const double snake_x[] = {0, 5, 5, 0, 0, 5};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(tl.exposures[i].y0_um, 0.0) << i;
    EXPECT_EQ(tl.exposures[i].x0_um, snake_x[i]) << i;  // snake by default
    EXPECT_EQ(tl.exposures[i].angle0_deg, 10.0 * (i / 2)) << i;
    EXPECT_DOUBLE_EQ(tl.exposures[i].t_start_s, 0.5 * i) << i;  // back to back
  }
  EXPECT_DOUBLE_EQ(tl.duration_s, 3.0);
}

TEST(Timeline, XrdctFlyIsOneMovingExposurePerLine) {
  const std::string xrdct = R"(
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 180.0
step_deg = 90.0
y_um = [-5.0, 5.0]
x_from_um = -20.0
x_to_um = 20.0
speed_um_s = 20.0
line_move_s = 0.5
order = "%s"
)";
  for (const char* order : {"snake", "lines"}) {
    SCOPED_TRACE(order);
    const bool snake = std::string(order) == "snake";
    char buf[512];
    std::snprintf(buf, sizeof buf, xrdct.c_str(), order);
    const Scene s = turned_scene_with_scan(buf);
    EXPECT_EQ(count_exposures(s.scan), 6);
    const Timeline tl = expand_scan(s);
    ASSERT_EQ(tl.exposures.size(), 6u);  // 3 angles x 2 heights, one line each
    for (int line = 0; line < 6; ++line) {
      const Exposure& e = tl.exposures[line];
      SCOPED_TRACE(line);
      const bool reverse = snake && line % 2 == 1;
      EXPECT_TRUE(e.moving());
      EXPECT_FALSE(e.turning());
      EXPECT_EQ(e.angle0_deg, 90.0 * (line / 2));
      EXPECT_EQ(e.angle1_deg, e.angle0_deg);
      EXPECT_EQ(e.y0_um, line % 2 ? 5.0 : -5.0);
      EXPECT_EQ(e.y1_um, e.y0_um);
      EXPECT_EQ(e.x0_um, reverse ? 20.0 : -20.0);
      EXPECT_EQ(e.x1_um, reverse ? -20.0 : 20.0);
      EXPECT_DOUBLE_EQ(e.duration_s, 2.0);  // 40 um at 20 um/s
      EXPECT_DOUBLE_EQ(e.photons, 2e10 * 2.0);
      EXPECT_DOUBLE_EQ(e.t_start_s, line * 2.5);  // a line move between lines
    }
    EXPECT_DOUBLE_EQ(tl.duration_s, 6 * 2.0 + 5 * 0.5);
    EXPECT_DOUBLE_EQ(tl.beam_on_s, 12.0);
    expect_in_order_without_overlap(tl);
  }
}

TEST(Timeline, XrdctFlySnakeCountsLinesAcrossAngles) {
  // One height: the snake reverses at every angle, so each angle's line runs the other way.
  const Timeline tl = expand_scan(turned_scene_with_scan(R"(
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 30.0
step_deg = 10.0
x_from_um = 0.0
x_to_um = 30.0
speed_um_s = 10.0
)"));
  ASSERT_EQ(tl.exposures.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(tl.exposures[i].x0_um, i % 2 ? 30.0 : 0.0) << i;
    EXPECT_EQ(tl.exposures[i].x1_um, i % 2 ? 0.0 : 30.0) << i;
    EXPECT_EQ(tl.exposures[i].y0_um, 0.0) << i;
    EXPECT_DOUBLE_EQ(tl.exposures[i].t_start_s, 3.0 * i) << i;  // no line moves by default
  }
  EXPECT_DOUBLE_EQ(tl.duration_s, 12.0);
}

TEST(Timeline, RepetitionsRepeatRotationsAndXrdct) {
  const std::string scan = R"(
[scan]
repeat = 3
period_s = %s
[[scan.steps]]
kind = "rotate"
at_um = [1.0, 2.0]
from_deg = 0.0
to_deg = 60.0
step_deg = 30.0
dwell_s = 1.0
move_s = 0.5
[[scan.steps]]
kind = "rotate"
at_um = [0.0, 0.0]
from_deg = 60.0
to_deg = 0.0
speed_deg_s = 30.0
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 45.0
step_deg = 45.0
y_um = [0.0, 4.0]
x_from_um = 0.0
x_to_um = 8.0
x_step_um = 4.0
dwell_s = 0.5
move_s = 0.1
line_move_s = 1.0
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 90.0
step_deg = 90.0
x_from_um = -8.0
x_to_um = 8.0
speed_um_s = 16.0
line_move_s = 0.5
)";
  // One repetition: 3 rotate angles (3 + 1 = 4 s), one turn (2 s), 2 x 2 lines of 3
  // points (4 x 1.7 + 3 x 1 = 9.8 s), 2 fly lines (2 x 1 + 0.5 = 2.5 s).
  const int per_rep = 3 + 1 + 12 + 2;
  const double rep_s = 4.0 + 2.0 + 9.8 + 2.5;
  for (const char* period : {"0.0", "30.0"}) {
    SCOPED_TRACE(std::string("period_s = ") + period);
    char buf[1536];
    std::snprintf(buf, sizeof buf, scan.c_str(), period);
    const Scene s = turned_scene_with_scan(buf);
    EXPECT_EQ(count_exposures(s.scan), 3 * per_rep);
    const Timeline tl = expand_scan(s);
    ASSERT_EQ(tl.exposures.size(), static_cast<size_t>(3 * per_rep));
    EXPECT_NEAR(tl.repetition_s, rep_s, 1e-9);
    const double every = std::string(period) == "0.0" ? rep_s : 30.0;
    EXPECT_NEAR(tl.duration_s, 2 * every + rep_s, 1e-9);
    EXPECT_NEAR(tl.beam_on_s, 3 * (3.0 + 2.0 + 6.0 + 2.0), 1e-9);
    // Spot checks within the first repetition.
    EXPECT_EQ(tl.exposures[3].angle0_deg, 60.0);  // the continuous turn
    EXPECT_EQ(tl.exposures[3].angle1_deg, 0.0);
    EXPECT_NEAR(tl.exposures[3].t_start_s, 4.0, 1e-9);
    EXPECT_NEAR(tl.exposures[4].t_start_s, 6.0, 1e-9);  // the first xrdct point
    EXPECT_EQ(tl.exposures[per_rep - 1].x0_um, 8.0);   // the second fly line runs back
    EXPECT_NEAR(tl.exposures[per_rep - 1].t_start_s, rep_s - 1.0, 1e-9);
    for (int r = 1; r < 3; ++r) {
      for (int i = 0; i < per_rep; ++i) {
        const Exposure& a = tl.exposures[i];
        const Exposure& b = tl.exposures[r * per_rep + i];
        SCOPED_TRACE("repetition " + std::to_string(r) + " exposure " + std::to_string(i));
        EXPECT_EQ(a.repetition, 0);
        EXPECT_EQ(b.repetition, r);
        EXPECT_EQ(b.step, a.step);
        EXPECT_NEAR(b.t_start_s, a.t_start_s + r * every, 1e-9);
        EXPECT_EQ(b.duration_s, a.duration_s);
        EXPECT_EQ(b.angle0_deg, a.angle0_deg);
        EXPECT_EQ(b.angle1_deg, a.angle1_deg);
        EXPECT_EQ(b.x0_um, a.x0_um);
        EXPECT_EQ(b.y0_um, a.y0_um);
        EXPECT_EQ(b.x1_um, a.x1_um);
        EXPECT_EQ(b.y1_um, a.y1_um);
        EXPECT_EQ(b.photons, a.photons);
      }
    }
    expect_in_order_without_overlap(tl);
  }
}

}  // namespace
}  // namespace dosemap
