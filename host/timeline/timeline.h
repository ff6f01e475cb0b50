// The scan expanded into the ordered list of exposures: when the beam is on, for how long,
// where its centre is (a fly segment moves it from start to end at constant speed), at
// which stage angle (a continuous rotation turns it from start to end at constant speed),
// and how many photons it delivers. Beam-off time (raster moves, waits, gaps between
// repetitions) is what lies between exposures.
#pragma once

#include <cstdint>
#include <vector>

#include "host/scene/scene.h"
#include "host/scene/scene_limits.h"

namespace dosemap {

struct Exposure {
  double t_start_s = 0;
  double duration_s = 0;
  double x0_um = 0, y0_um = 0;  // beam centre at the start
  double x1_um = 0, y1_um = 0;  // and at the end (the same for a static exposure)
  double angle0_deg = 0, angle1_deg = 0;  // stage angle at the start and at the end
  double photons = 0;
  int32_t step = 0;        // index into scan.steps
  int32_t repetition = 0;  // 0-based
  bool moving() const { return x0_um != x1_um || y0_um != y1_um; }
  bool turning() const { return angle0_deg != angle1_deg; }
  double t_end_s() const { return t_start_s + duration_s; }
};

struct Timeline {
  std::vector<Exposure> exposures;  // in time order, never overlapping
  double repetition_s = 0;          // duration of one pass through the steps
  double duration_s = 0;            // scan start to end of the last repetition
  double beam_on_s = 0;
  double photons = 0;
};

// Every exposure at one fixed stage angle (no rotation, no second angle): the beam then
// crosses the sample along one ray lattice, and a voxel's dose is its ray's fluence times a
// constant (the per-visit table, the dose operator and the inverse dose rely on it).
bool at_one_pose(const Timeline& tl);

// Per exposure, its point within its step in that repetition (0-based: raster point n, fly
// segment n, 0 for a point step), the same in every repetition.
std::vector<int32_t> point_in_step(const Timeline& tl);

// Raster points along one axis: from, from +/- step, ... towards `to`, inclusive when
// (to - from) is a whole number of steps (to 1e-9 of a step).
int64_t raster_count(double from, double to, double step);

// Exposures one step makes per repetition (a wait none, a fly step one per segment, a
// continuous rotation one, an xrdct step one per point or fly line); saturates.
int64_t count_step_exposures(const ScanStep& step);

// How long one repetition of a step lasts, beam on and off (s).
double step_duration_s(const ScanStep& step);

// Counts the exposures without expanding (for messages and memory estimates); saturates
// at INT64_MAX rather than wrapping.
int64_t count_exposures(const ScanSpec& scan);

// Throws UserError (at [scan]) when the scan would expand to more than
// limits.max_exposures exposures.
void check_exposure_count(const ScanSpec& scan, const WorkLimits& limits);

// Throws UserError when a repetition is longer than period_s or the scan expands to more
// than limits.max_exposures (checked before anything is expanded).
Timeline expand_scan(const Scene& scene, const WorkLimits& limits = {});

// Most frames a scene may ask for.
inline constexpr size_t kMaxFrames = 9999;  // four-digit frame numbers

// The times of the cumulative-dose frames the scene asks for ([output] frames_s, or
// frame_every_s with a last frame at the scan's end); empty when none. Throws UserError for
// a frame after the end of the scan or too many frames.
std::vector<double> frame_times(const Scene& scene, const Timeline& tl);

}  // namespace dosemap
