#include "host/plan/pattern_search.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "cuda/history_builder.h"
#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/common/worker_threads.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace {

ScanStep wait_step(const ScanStep& like, double duration_s) {
  ScanStep w;
  w.kind = StepKind::kWait;
  w.where = like.where;
  w.angle_where = like.angle_where;
  w.duration_s = duration_s;
  return w;
}

// The largest fluence ray [begin, end) of h takes in any `window_s`: each event spreads its
// fluence evenly over its sub-exposure, events in time order and disjoint, so the best
// window starts where an event starts or ends where one ends.
double max_window_fluence(const HistoryView& h, int64_t begin, int64_t end, double window_s, std::vector<double>& start) {
  const int64_t n = end - begin;
  start.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) start[i] = h.t_start_s[h.sub_exposure[begin + i]];
  auto before = [&](int64_t i) { return i > 0 ? h.cum_fluence_m2[begin + i - 1] : 0.0; };
  // Fluence up to time t.
  auto upto = [&](double t) {
    const int64_t i = static_cast<int64_t>(std::upper_bound(start.begin(), start.end(), t) - start.begin()) - 1;
    if (i < 0) return 0.0;
    const double dt = h.duration_s[h.sub_exposure[begin + i]];
    const double f = h.cum_fluence_m2[begin + i] - before(i);
    return before(i) + f * std::clamp((t - start[i]) / dt, 0.0, 1.0);
  };
  double best = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double t1 = start[i] + h.duration_s[h.sub_exposure[begin + i]];
    best = std::max(best, upto(start[i] + window_s) - before(i));
    best = std::max(best, h.cum_fluence_m2[begin + i] - upto(t1 - window_s));
  }
  return best;
}

}  // namespace

const char* pattern_order_name(PatternOrder o) {
  return o == PatternOrder::kSnake ? "snake" : o == PatternOrder::kLines ? "lines" : "interleaved";
}

std::string RasterPattern::describe(const ScanSpec& scan) const {
  std::string s = "step x" + fmt_g(step_factor, 3) + ", dwell x" + fmt_g(dwell_factor, 3) + ", " + pattern_order_name(order);
  if (shift_x || shift_y)
    s += std::string(", shift ") + (shift_x && shift_y ? "xy" : shift_x ? "x" : "y") + " 1/" + std::to_string(scan.repeat);
  if (keep_period)
    s += ", every " + human_time(scan.period_s);
  else if (scan.repeat > 1)
    s += ", pause x" + fmt_g(pause_factor, 3);
  return s;
}

void check_pattern_searchable(const Scene& scene, const Timeline& timeline) {
  const SourcePos where{"--optimize pattern", 0, 0};
  if (scene.scan.steps.size() != 1 || scene.scan.steps[0].kind != StepKind::kRaster)
    throw UserError(where, "needs a scan of one raster step (repeated or not): it varies that raster over its region",
                    "write the scan as one [[scan.steps]] of kind = \"raster\" with [scan] repeat, or plan without "
                    "--optimize pattern");
  if (!at_one_pose(timeline))
    throw UserError(where, "the scan turns the sample (several stage angles): pattern search of such scans is not built yet",
                    "plan the scan without --optimize");
}

namespace {

// One repetition of the pattern, unshifted: one raster, or two (even lines, then odd ones)
// with a move between them.
std::vector<ScanStep> one_repetition(const Scene& scene, const RasterPattern& p) {
  const ScanStep& base = scene.scan.steps.front();
  ScanStep a = base;
  a.step_um = {base.step_um[0] * p.step_factor, base.step_um[1] * p.step_factor};
  a.dwell_s = base.dwell_s * p.dwell_factor;
  a.order = p.order == PatternOrder::kLines ? RasterOrder::kLines : RasterOrder::kSnake;
  if (p.order != PatternOrder::kInterleaved) return {a};
  const double dir_y = base.to_um[1] >= base.from_um[1] ? 1.0 : -1.0;
  ScanStep even = a, odd = a;
  even.step_um[1] = odd.step_um[1] = 2 * a.step_um[1];
  odd.from_um[1] = a.from_um[1] + dir_y * a.step_um[1];
  if (a.move_s > 0) return {even, wait_step(base, a.move_s), odd};
  return {even, odd};
}

}  // namespace

RepetitionTime pattern_repetition(const Scene& scene, const RasterPattern& p) {
  RepetitionTime t;
  for (const ScanStep& s : one_repetition(scene, p)) {
    if (s.kind == StepKind::kWait) {
      t.moves_s += s.duration_s;
      continue;
    }
    const int64_t n = raster_count(s.from_um[0], s.to_um[0], s.step_um[0]) * raster_count(s.from_um[1], s.to_um[1], s.step_um[1]);
    t.points += n;
    t.moves_s += static_cast<double>(n - 1) * s.move_s;
  }
  return t;
}

Scene pattern_scene(const Scene& scene, const RasterPattern& p) {
  const ScanStep& base = scene.scan.steps.front();
  const long long R = scene.scan.repeat;
  Scene out = scene;
  out.scan.repeat = 1;
  out.scan.period_s = 0;
  out.scan.steps.clear();
  const std::vector<ScanStep> one = one_repetition(scene, p);
  const RepetitionTime rt = pattern_repetition(scene, p);
  const double repetition_s = rt.moves_s + static_cast<double>(rt.points) * base.dwell_s * p.dwell_factor;
  const double pause_s = p.keep_period ? scene.scan.period_s - repetition_s : p.pause_factor * repetition_s;
  DOSEMAP_BUG_CHECK(pause_s >= 0, "a pattern longer than the period it keeps");
  const double step_x = base.step_um[0] * p.step_factor, step_y = base.step_um[1] * p.step_factor;
  const double dir_x = base.to_um[0] >= base.from_um[0] ? 1.0 : -1.0;
  const double dir_y = base.to_um[1] >= base.from_um[1] ? 1.0 : -1.0;
  for (long long r = 0; r < R; ++r) {
    const double f = static_cast<double>(r) / static_cast<double>(R);
    const double ox = p.shift_x ? f * step_x * dir_x : 0.0;
    const double oy = p.shift_y ? f * step_y * dir_y : 0.0;
    for (ScanStep s : one) {
      if (s.kind == StepKind::kRaster) {
        s.from_um = {s.from_um[0] + ox, s.from_um[1] + oy};
        s.to_um = {s.to_um[0] + ox, s.to_um[1] + oy};
      }
      out.scan.steps.push_back(s);
    }
    if (r + 1 < R && pause_s > 0) out.scan.steps.push_back(wait_step(base, pause_s));
  }
  return out;
}

PatternSearch search_patterns(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                              const Timeline& timeline, const std::vector<DoseLimit>& limits, double flux_factor,
                              double window_s, double margin, int threads) {
  check_pattern_searchable(scene, timeline);
  DOSEMAP_BUG_CHECK(!limits.empty() && flux_factor > 0 && window_s > 0 && margin > 0 && margin <= 1,
                    "search_patterns arguments");
  const auto t0 = std::chrono::steady_clock::now();
  PatternSearch out;
  out.window_s = window_s;
  const int nthreads = worker_threads(threads);
  const size_t K = limits.size();

  // What every candidate shares: the pose's rays (every pattern keeps the scan's one stage
  // angle) and each limit's largest G on each ray.
  const GridGeometry& geometry = grid->geometry;
  const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, geometry, timeline.exposures.front().angle0_deg), geometry);
  TransportTables tables = build_transport_tables(materials, geometry, threshold_scale(scene));
  tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
  std::vector<double> g = ray_limit_dose_per_fluence(L, tables.params(), *grid, limits, nthreads);
  for (double& x : g) x *= flux_factor;
  const BeamProfile beam = make_beam_profile(scene.beam);
  const double substep = rotation_substep_deg(scene.sample.stage, beam, geometry);
  FluenceHistoryBuilder builder(nthreads);

  // Scores the pattern, whose scan is `cs` (pattern_scene).
  auto evaluate = [&](const RasterPattern& pattern, const Scene& cs, PatternScore& score) {
    const Timeline tl = expand_scan(cs);
    const std::vector<SubExposure> subs = plan_sub_exposures(tl, beam, geometry, substep);
    score.pattern = pattern;
    score.exposures = static_cast<int64_t>(tl.exposures.size());
    score.beam_on_s = tl.beam_on_s;
    score.duration_s = tl.duration_s;
    const int64_t per_repetition = static_cast<int64_t>(tl.exposures.size()) / scene.scan.repeat;
    score.positions = pattern.shift_x || pattern.shift_y ? static_cast<int64_t>(tl.exposures.size()) : per_repetition;
    const FluenceHistory& history =
        builder.build(HistoryJob{subs.data(), static_cast<long long>(subs.size()), beam, L, 0, L.n2}, nullptr);
    const HistoryView h = history.view();
    const long long rays = ray_count(L);
    std::vector<std::vector<double>> best_dose(nthreads, std::vector<double>(K, 0.0));
    std::vector<double> best_rate(nthreads, 0.0);
#pragma omp parallel num_threads(nthreads)
    {
      std::vector<double>& dose = best_dose[omp_get_thread_num()];
      double& rate = best_rate[omp_get_thread_num()];
      std::vector<double> scratch;
#pragma omp for schedule(dynamic, 1024)
      for (long long r = 0; r < rays; ++r) {
        const int64_t begin = h.offset[r], end = h.offset[r + 1];
        if (begin == end) continue;
        const double* gr = g.data() + static_cast<size_t>(r) * K;
        double g_max = 0;
        for (size_t k = 0; k < K; ++k) g_max = std::max(g_max, gr[k]);
        if (g_max == 0) continue;
        const double total = h.cum_fluence_m2[end - 1];
        for (size_t k = 0; k < K; ++k) dose[k] = std::max(dose[k], gr[k] * total);
        rate = std::max(rate, g_max * max_window_fluence(h, begin, end, window_s, scratch) / window_s);
      }
    }
    score.dose_fraction = 0;
    score.window_rate_Gy_s = 0;
    for (int t = 0; t < nthreads; ++t) {
      score.window_rate_Gy_s = std::max(score.window_rate_Gy_s, best_rate[t]);
      for (size_t k = 0; k < K; ++k) {
        const double fraction = best_dose[t][k] / limits[k].limit;
        if (fraction > score.dose_fraction) {
          score.dose_fraction = fraction;
          score.binding_limit = static_cast<int>(k);
          score.max_dose_Gy = best_dose[t][k];
        }
      }
    }
    score.within_limits = score.dose_fraction <= 1;
  };

  // The family.
  const ScanStep& base = scene.scan.steps.front();
  const long long R = scene.scan.repeat;
  const bool period = R > 1 && scene.scan.period_s > 0;
  for (double step : {0.5, 1.0, 2.0})
    for (double dwell : {0.25, 0.5, 1.0, 2.0})
      for (PatternOrder order : {PatternOrder::kSnake, PatternOrder::kLines, PatternOrder::kInterleaved})
        for (int shift = 0; shift < (R > 1 ? 4 : 1); ++shift)
          for (double pause : R > 1 && !period ? std::vector<double>{0.0, 1.0, 3.0} : std::vector<double>{0.0}) {
            const RasterPattern p{step, dwell, order, (shift & 1) != 0, (shift & 2) != 0, pause, period};
            // Every raster of the pattern must keep at least 2 points (a scene's rule), and
            // interleaving needs 2 lines.
            const int64_t nx = raster_count(base.from_um[0], base.to_um[0], base.step_um[0] * step);
            const int64_t ny = raster_count(base.from_um[1], base.to_um[1], base.step_um[1] * step);
            if (order == PatternOrder::kInterleaved && (ny < 2 || nx * (ny / 2) < 2)) continue;
            if (nx * ny < 2) continue;
            const RepetitionTime rt = pattern_repetition(scene, p);
            if (period && rt.moves_s + static_cast<double>(rt.points) * base.dwell_s * dwell > scene.scan.period_s) continue;
            const Scene cs = pattern_scene(scene, p);
            try {
              check_exposure_count(cs.scan, WorkLimits{});
            } catch (const UserError&) {
              ++out.left_out;  // more exposures than a run may have (a fine step on a large map)
              continue;
            }
            PatternScore s;
            evaluate(p, cs, s);
            const PatternOrder own = base.order == RasterOrder::kSnake ? PatternOrder::kSnake : PatternOrder::kLines;
            if (step == 1 && dwell == 1 && order == own && shift == 0 && pause == 0)
              out.as_written = static_cast<int>(out.candidates.size());
            out.candidates.push_back(s);
          }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The front: no other candidate at least as good in all three and better in one; of
  // candidates with the same three values only the first (the simplest) stands on it.
  for (size_t i = 0; i < out.candidates.size(); ++i) {
    PatternScore& a = out.candidates[i];
    a.on_front = true;
    for (size_t j = 0; j < out.candidates.size() && a.on_front; ++j) {
      const PatternScore& b = out.candidates[j];
      const bool no_worse = b.beam_on_s >= a.beam_on_s && b.dose_fraction <= a.dose_fraction &&
                            b.window_rate_Gy_s <= a.window_rate_Gy_s;
      const bool better = b.beam_on_s > a.beam_on_s || b.dose_fraction < a.dose_fraction ||
                          b.window_rate_Gy_s < a.window_rate_Gy_s;
      if (no_worse && (better || j < i)) a.on_front = false;
    }
  }
  // The choice: once each candidate's dwell is scaled to reach the limit, the most beam on
  // (beam on / dose fraction); ties: the lower rate per dose, then the first.
  auto per_dose = [](const PatternScore& s) { return s.dose_fraction > 0 ? s.beam_on_s / s.dose_fraction : 0.0; };
  for (size_t i = 0; i < out.candidates.size(); ++i) {
    const PatternScore& c = out.candidates[i];
    if (!(c.dose_fraction > 0)) continue;
    if (out.chosen < 0) {
      out.chosen = static_cast<int>(i);
      continue;
    }
    const PatternScore& b = out.candidates[out.chosen];
    const double pc = per_dose(c), pb = per_dose(b);
    if (pc > pb * (1 + 1e-9) ||
        (pc >= pb * (1 - 1e-9) && c.window_rate_Gy_s / c.dose_fraction < b.window_rate_Gy_s / b.dose_fraction * (1 - 1e-9)))
      out.chosen = static_cast<int>(i);
  }
  if (out.chosen >= 0) {
    RasterPattern p = out.candidates[out.chosen].pattern;
    p.dwell_factor *= margin / out.candidates[out.chosen].dose_fraction;
    if (period) {  // no longer than the period allows
      const RepetitionTime rt = pattern_repetition(scene, p);
      p.dwell_factor = std::min(p.dwell_factor, (scene.scan.period_s - rt.moves_s) / (static_cast<double>(rt.points) * base.dwell_s));
    }
    evaluate(p, pattern_scene(scene, p), out.planned);
    out.has_planned = true;
  }
  return out;
}

}  // namespace dosemap
