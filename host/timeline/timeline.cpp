#include "host/timeline/timeline.h"

#include <cmath>

#include "host/common/saturating.h"
#include "host/common/text.h"

namespace dosemap {

int64_t raster_count(double from, double to, double step) {
  return static_cast<int64_t>(std::floor(std::fabs(to - from) / step + 1e-9)) + 1;
}

namespace {

double raster_coord(double from, double to, double step, int64_t n) {
  return from + (to >= from ? 1.0 : -1.0) * step * static_cast<double>(n);
}

}  // namespace

int64_t count_step_exposures(const ScanStep& s) {
  switch (s.kind) {
    case StepKind::kPoint: return 1;
    case StepKind::kRaster:
      return saturating_mul(raster_count(s.from_um[0], s.to_um[0], s.step_um[0]),
                            raster_count(s.from_um[1], s.to_um[1], s.step_um[1]));
    case StepKind::kFly: return static_cast<int64_t>(s.path_um.size()) - 1;
    case StepKind::kWait: return 0;
    case StepKind::kRotate: return s.continuous ? 1 : raster_count(s.from_deg, s.to_deg, s.step_deg);
    case StepKind::kXrdct:
      return saturating_mul(saturating_mul(raster_count(s.from_deg, s.to_deg, s.step_deg),
                                           static_cast<int64_t>(s.y_um.size())),
                            s.continuous ? 1 : raster_count(s.x_from_um, s.x_to_um, s.x_step_um));
    case StepKind::kLog: {
      // Points: one per row with the shutter open; fly: one per open segment between rows.
      const ScanLogRows& log = *s.log;
      int64_t n = 0;
      for (int64_t r = 0; r < log.rows() - (log.fly ? 1 : 0); ++r) n += log.is_open(r) ? 1 : 0;
      return n;
    }
  }
  return 0;
}

namespace {

double segment_length(const std::array<double, 2>& a, const std::array<double, 2>& b) {
  return std::hypot(b[0] - a[0], b[1] - a[1]);
}

}  // namespace

double step_duration_s(const ScanStep& s) {
  switch (s.kind) {
    case StepKind::kPoint: return s.exposure_s;
    case StepKind::kRaster: {
      const double n = static_cast<double>(count_step_exposures(s));
      return n * s.dwell_s + (n - 1) * s.move_s;
    }
    case StepKind::kFly: {
      double len = 0;
      for (size_t i = 1; i < s.path_um.size(); ++i) len += segment_length(s.path_um[i - 1], s.path_um[i]);
      return len / s.speed_um_s;
    }
    case StepKind::kWait: return s.duration_s;
    case StepKind::kRotate: {
      if (s.continuous) return std::fabs(s.to_deg - s.from_deg) / s.speed_deg_s;
      const double n = static_cast<double>(count_step_exposures(s));
      return n * s.dwell_s + (n - 1) * s.move_s;
    }
    case StepKind::kXrdct: {
      const double lines = static_cast<double>(raster_count(s.from_deg, s.to_deg, s.step_deg)) * s.y_um.size();
      double line_s = std::fabs(s.x_to_um - s.x_from_um) / s.speed_um_s;
      if (!s.continuous) {
        const double n = static_cast<double>(raster_count(s.x_from_um, s.x_to_um, s.x_step_um));
        line_s = n * s.dwell_s + (n - 1) * s.move_s;
      }
      return lines * line_s + (lines - 1) * s.line_move_s;
    }
    case StepKind::kLog: {
      const ScanLogRows& log = *s.log;
      const int64_t last = log.rows() - 1;
      if (log.fly) return log.t_s[last];
      if (!log.t_s.empty()) return log.t_s[last] + log.exposure_s[last];
      double sum = 0;
      for (double e : log.exposure_s) sum += e;
      return sum + static_cast<double>(last) * s.move_s;
    }
  }
  return 0;
}

int64_t count_exposures(const ScanSpec& scan) {
  int64_t per_rep = 0;
  for (const auto& s : scan.steps) per_rep = saturating_add(per_rep, count_step_exposures(s));
  return saturating_mul(per_rep, scan.repeat);
}

void check_exposure_count(const ScanSpec& scan, const WorkLimits& limits) {
  const int64_t n = count_exposures(scan);
  if (n > limits.max_exposures) {
    throw UserError(scan.where,
                    "[scan] expands to " + (n == kSaturated ? std::string("more than 9.2e18") : group_digits(n)) +
                        " exposures, more than dosemap handles (" + group_digits(limits.max_exposures) + ")",
                    "use coarser raster steps or fewer repetitions; check that positions are in micrometres");
  }
}

Timeline expand_scan(const Scene& scene, const WorkLimits& limits) {
  const ScanSpec& scan = scene.scan;
  const double flux = scene.beam.flux_ph_s;
  Timeline tl;
  for (const auto& s : scan.steps) tl.repetition_s += step_duration_s(s);

  if (scan.period_s > 0 && tl.repetition_s > scan.period_s * (1 + 1e-12)) {
    throw UserError(scan.period_where,
                    "[scan] period_s = " + fmt_g(scan.period_s, 8) + " is shorter than one repetition of the steps (" +
                        fmt_g(tl.repetition_s, 8) + " s)",
                    "use period_s >= " + fmt_g(tl.repetition_s, 8) + ", or period_s = 0 to run repetitions back to back");
  }
  check_exposure_count(scan, limits);
  const int64_t n = count_exposures(scan);
  tl.exposures.reserve(static_cast<size_t>(n));

  for (int64_t r = 0; r < scan.repeat; ++r) {
    double t = r * (scan.period_s > 0 ? scan.period_s : tl.repetition_s);
    for (size_t si = 0; si < scan.steps.size(); ++si) {
      const ScanStep& s = scan.steps[si];
      auto emit = [&](double dur, double x0, double y0, double x1, double y1, double a0, double a1,
                      double flux_factor = 1.0) {
        Exposure e;
        e.t_start_s = t;
        e.duration_s = dur;
        e.x0_um = x0;
        e.y0_um = y0;
        e.x1_um = x1;
        e.y1_um = y1;
        e.angle0_deg = a0;
        e.angle1_deg = a1;
        e.photons = flux * dur * flux_factor;
        e.step = static_cast<int32_t>(si);
        e.repetition = static_cast<int32_t>(r);
        tl.exposures.push_back(e);
        tl.beam_on_s += dur;
        tl.photons += e.photons;
      };
      switch (s.kind) {
        case StepKind::kPoint:
          emit(s.exposure_s, s.at_um[0], s.at_um[1], s.at_um[0], s.at_um[1], s.angle_deg, s.angle_deg);
          t += s.exposure_s;
          break;
        case StepKind::kRaster: {
          const int64_t nx = raster_count(s.from_um[0], s.to_um[0], s.step_um[0]);
          const int64_t ny = raster_count(s.from_um[1], s.to_um[1], s.step_um[1]);
          for (int64_t iy = 0; iy < ny; ++iy) {
            const double y = raster_coord(s.from_um[1], s.to_um[1], s.step_um[1], iy);
            const bool reverse = s.order == RasterOrder::kSnake && (iy % 2 == 1);  // fast axis x
            for (int64_t k = 0; k < nx; ++k) {
              const int64_t ix = reverse ? nx - 1 - k : k;
              const double x = raster_coord(s.from_um[0], s.to_um[0], s.step_um[0], ix);
              emit(s.dwell_s, x, y, x, y, s.angle_deg, s.angle_deg);
              t += s.dwell_s;
              if (iy != ny - 1 || k != nx - 1) t += s.move_s;
            }
          }
          break;
        }
        case StepKind::kFly:
          for (size_t p = 1; p < s.path_um.size(); ++p) {
            const auto& a = s.path_um[p - 1];
            const auto& b = s.path_um[p];
            const double dur = segment_length(a, b) / s.speed_um_s;
            emit(dur, a[0], a[1], b[0], b[1], s.angle_deg, s.angle_deg);
            t += dur;
          }
          break;
        case StepKind::kWait:
          t += s.duration_s;
          break;
        case StepKind::kRotate: {
          if (s.continuous) {
            const double dur = std::fabs(s.to_deg - s.from_deg) / s.speed_deg_s;
            emit(dur, s.at_um[0], s.at_um[1], s.at_um[0], s.at_um[1], s.from_deg, s.to_deg);
            t += dur;
            break;
          }
          const int64_t n = raster_count(s.from_deg, s.to_deg, s.step_deg);
          for (int64_t k = 0; k < n; ++k) {
            const double a = raster_coord(s.from_deg, s.to_deg, s.step_deg, k);
            emit(s.dwell_s, s.at_um[0], s.at_um[1], s.at_um[0], s.at_um[1], a, a);
            t += s.dwell_s;
            if (k + 1 != n) t += s.move_s;
          }
          break;
        }
        case StepKind::kXrdct: {
          // Angle by angle, height by height within an angle, point by point along a line.
          const int64_t angles = raster_count(s.from_deg, s.to_deg, s.step_deg);
          const int64_t points = s.continuous ? 0 : raster_count(s.x_from_um, s.x_to_um, s.x_step_um);
          int64_t line = 0;
          const int64_t lines = angles * static_cast<int64_t>(s.y_um.size());
          for (int64_t ia = 0; ia < angles; ++ia) {
            const double a = raster_coord(s.from_deg, s.to_deg, s.step_deg, ia);
            for (double y : s.y_um) {
              const bool reverse = s.order == RasterOrder::kSnake && (line % 2 == 1);
              if (s.continuous) {
                const double x0 = reverse ? s.x_to_um : s.x_from_um, x1 = reverse ? s.x_from_um : s.x_to_um;
                const double dur = std::fabs(s.x_to_um - s.x_from_um) / s.speed_um_s;
                emit(dur, x0, y, x1, y, a, a);
                t += dur;
              } else {
                for (int64_t k = 0; k < points; ++k) {
                  const double x = raster_coord(s.x_from_um, s.x_to_um, s.x_step_um, reverse ? points - 1 - k : k);
                  emit(s.dwell_s, x, y, x, y, a, a);
                  t += s.dwell_s;
                  if (k + 1 != points) t += s.move_s;
                }
              }
              if (++line != lines) t += s.line_move_s;
            }
          }
          break;
        }
        case StepKind::kLog: {
          // As the control system recorded it: points at their times (or one after another),
          // fly segments from row to row; closed-shutter rows pass time without beam.
          const ScanLogRows& log = *s.log;
          const double t0 = t;
          const int64_t n = log.rows();
          if (log.fly) {
            for (int64_t r = 0; r + 1 < n; ++r) {
              if (!log.is_open(r)) continue;
              t = t0 + log.t_s[r];
              emit(log.t_s[r + 1] - log.t_s[r], log.x_um[r], log.y_um[r], log.x_um[r + 1], log.y_um[r + 1],
                   log.angle(r, s.angle_deg), log.angle(r + 1, s.angle_deg), log.factor(r));
            }
            t = t0 + log.t_s[n - 1];
            break;
          }
          for (int64_t r = 0; r < n; ++r) {
            if (!log.t_s.empty()) t = t0 + log.t_s[r];
            const double a = log.angle(r, s.angle_deg);
            if (log.is_open(r))
              emit(log.exposure_s[r], log.x_um[r], log.y_um[r], log.x_um[r], log.y_um[r], a, a, log.factor(r));
            t += log.exposure_s[r];
            if (log.t_s.empty() && r + 1 != n) t += s.move_s;
          }
          break;
        }
      }
    }
  }
  tl.duration_s = (scan.repeat - 1) * (scan.period_s > 0 ? scan.period_s : tl.repetition_s) + tl.repetition_s;
  return tl;
}

std::vector<double> frame_times(const Scene& scene, const Timeline& tl) {
  const OutputSpec& o = scene.output;
  std::vector<double> times = o.frames_s;
  if (o.frame_every_s > 0) {
    const double n = std::floor(tl.duration_s / o.frame_every_s * (1 + 1e-12));
    if (n > static_cast<double>(kMaxFrames))
      throw UserError(o.frames_where,
                      "[output] frame_every_s = " + fmt_g(o.frame_every_s, 6) + " gives " + fmt_g(n, 6) +
                          " frames over the " + fmt_g(tl.duration_s, 8) + " s scan; at most " + std::to_string(kMaxFrames),
                      "use a larger frame_every_s");
    for (double k = 1; k <= n; ++k) times.push_back(k * o.frame_every_s);
    if (times.empty() || times.back() < tl.duration_s * (1 - 1e-12)) times.push_back(tl.duration_s);
  }
  if (times.size() > kMaxFrames)
    throw UserError(o.frames_where, "[output] asks for " + std::to_string(times.size()) + " frames; at most " +
                                        std::to_string(kMaxFrames),
                    "use fewer frames");
  for (double t : times)
    if (t > tl.duration_s * (1 + 1e-12))
      throw UserError(o.frames_where,
                      "[output] frame at " + fmt_g(t, 8) + " s is after the end of the scan (" + fmt_g(tl.duration_s, 8) + " s)",
                      "use frame times up to " + fmt_g(tl.duration_s, 8) + " s");
  return times;
}

bool at_one_pose(const Timeline& tl) {
  for (const Exposure& e : tl.exposures)
    if (e.turning() || e.angle0_deg != tl.exposures.front().angle0_deg) return false;
  return true;
}

std::vector<int32_t> point_in_step(const Timeline& tl) {
  std::vector<int32_t> point(tl.exposures.size(), 0);
  for (size_t r = 1; r < tl.exposures.size(); ++r) {
    const Exposure &e = tl.exposures[r], &prev = tl.exposures[r - 1];
    if (e.step == prev.step && e.repetition == prev.repetition) point[r] = point[r - 1] + 1;
  }
  return point;
}

}  // namespace dosemap
