// Pattern search (`dosemap plan --optimize pattern`, issue 12 part 3): raster families over
// the region the scene's raster covers, each candidate evaluated with the engine's own
// fluence histories (cuda/history_builder.h) and dose per unit fluence (cuda/ray_march.h),
// then the Pareto front of (beam-on time: points measured x dwell) against (the largest dose,
// as a fraction of its limit; the largest dose rate over a time window).
//
// The family, from the scene's raster (step s, dwell d, R repetitions):
// - step s x {0.5, 1, 2}; dwell d x {0.25, 0.5, 1, 2};
// - order: snake, lines, or interleaved (the even lines, then the odd ones: neighbouring lines,
//   whose beams overlap, come half a repetition apart, which spreads the dose rate in time);
// - shift (R > 1): repetition r moved by r/R of a step along x, y or both, so that the
//   repetitions light different places (the paper: move the cell between scans);
// - pause between repetitions: 0, 1 or 3 times a repetition's duration (beam off); a scene
//   with a period keeps it instead (a repetition every period_s, as in an operando charge),
//   and patterns whose repetition is longer than the period are left out.
// The rate over a window: at one pose a voxel's dose is G_v F_r(t), so the largest dose it
// takes in any `window_s` is G_v times the largest fluence its ray takes in any window
// (exposures spread their fluence evenly over their duration). The instantaneous peak rate
// depends on the flux and beam only, the same for every pattern: that is --rate-limit's
// (the attenuator, host/plan/inverse_dose.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/plan/limited_rays.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"

namespace dosemap {

enum class PatternOrder { kSnake, kLines, kInterleaved };
const char* pattern_order_name(PatternOrder o);  // "snake", "lines", "interleaved"

struct RasterPattern {
  double step_factor = 1, dwell_factor = 1;
  PatternOrder order = PatternOrder::kSnake;
  bool shift_x = false, shift_y = false;  // repetition r moved by r/R of a step
  double pause_factor = 0;                // beam off between repetitions, x a repetition's duration
  bool keep_period = false;               // instead: a repetition every scan.period_s
  // "step x1, dwell x0.5, interleaved, shift y 1/2, pause x1"
  std::string describe(const ScanSpec& scan) const;
};

struct PatternScore {
  RasterPattern pattern;
  int64_t positions = 0;   // distinct beam positions
  int64_t exposures = 0;
  double beam_on_s = 0, duration_s = 0;
  double dose_fraction = 0;  // the largest over the limits of max dose / limit
  int binding_limit = -1;
  double max_dose_Gy = 0;       // of the binding limit
  double window_rate_Gy_s = 0;  // the largest dose any limited voxel takes in a window, / window
  bool within_limits = false;   // dose_fraction <= 1
  bool on_front = false;        // no other candidate has more beam on, less dose and less rate
};

struct PatternSearch {
  double window_s = 0;
  std::vector<PatternScore> candidates;
  int64_t left_out = 0;  // candidates with more exposures than a run may have (scene_limits.h)
  int as_written = -1;  // the scene's own raster (step x1, dwell x1, its order, no shift, no pause)
  // The most beam on once each candidate's dwell is scaled to bring it to its binding limit
  // (beam on / dose fraction; ties: the lower rate per dose, then the first); -1: none doses a
  // limited voxel.
  int chosen = -1;
  // The chosen pattern with its dwell so scaled (to `margin` of the limit), evaluated again.
  bool has_planned = false;
  PatternScore planned;
  double seconds = 0;  // evaluating the candidates
};

// Throws UserError (at --optimize pattern) unless the scan is one raster step (repeated or
// not) at one stage pose: checked before the run.
void check_pattern_searchable(const Scene& scene, const Timeline& timeline);

// The candidates of the family above, scored at the flux x flux_factor (a rate limit's
// attenuator); `margin` < 1 for the planned dwell.
PatternSearch search_patterns(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                              const Timeline& timeline, const std::vector<DoseLimit>& limits, double flux_factor,
                              double window_s, double margin, int threads);

// The scene with its scan replaced by the pattern: the repetitions spelt out (repeat = 1),
// each one raster step (two for interleaved, with a move between them), pauses as waits.
Scene pattern_scene(const Scene& scene, const RasterPattern& pattern);

// One repetition of the pattern: its beam-off time (moves) and its number of points, so that
// it lasts moves_s + points * dwell_s.
struct RepetitionTime {
  double moves_s = 0;
  int64_t points = 0;
};
RepetitionTime pattern_repetition(const Scene& scene, const RasterPattern& pattern);

}  // namespace dosemap
