#include "host/transport/exposure_plan.h"

#include <algorithm>
#include <cmath>

#include "host/common/saturating.h"
#include "host/common/text.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {
constexpr double kFwhmPerSigma = 2.3548200450309493;  // 2 sqrt(2 ln 2)

// RMS width of the image profile along each axis (for its sub-step length), computed once
// per profile: fly planning asks for it per segment.
void image_rms(const BeamProfile& p, double rms[2]) {
  double mx = 0, my = 0, sxx = 0, syy = 0;
  for (int iy = 0; iy < p.image_ny; ++iy)
    for (int ix = 0; ix < p.image_nx; ++ix) {
      const double w = p.image[(int64_t)iy * p.image_nx + ix];
      const double x = (ix + 0.5) * p.pixel_um[0], y = (iy + 0.5) * p.pixel_um[1];
      mx += w * x;
      my += w * y;
      sxx += w * x * x;
      syy += w * y * y;
    }
  // Add the pixel's own width (uniform: pitch^2 / 12) so a one-pixel image is not zero.
  rms[0] = std::sqrt(std::max(0.0, sxx - mx * mx) + p.pixel_um[0] * p.pixel_um[0] / 12);
  rms[1] = std::sqrt(std::max(0.0, syy - my * my) + p.pixel_um[1] * p.pixel_um[1] / 12);
}

double along_path(const double width[2], double ux, double uy) {
  // A width w_a per axis seen along direction u: 1 / sqrt(sum (u_a / w_a)^2).
  const double q = (ux / width[0]) * (ux / width[0]) + (uy / width[1]) * (uy / width[1]);
  return 1.0 / std::sqrt(q);
}
}  // namespace

BeamProfile make_beam_profile(const BeamSpec& beam) {
  BeamProfile p;
  switch (beam.profile) {
    case ProfileKind::kGaussian:
      p.kind = kBeamGaussian;
      for (int a = 0; a < 2; ++a) {
        p.sigma_um[a] = beam.fwhm_um[a] / kFwhmPerSigma;
        p.reach_um[a] = kGaussianReachSigmas * p.sigma_um[a];
      }
      break;
    case ProfileKind::kTopHat:
      p.kind = kBeamTopHat;
      for (int a = 0; a < 2; ++a) p.half_um[a] = p.reach_um[a] = 0.5 * beam.size_um[a];
      break;
    case ProfileKind::kImage:
      p.kind = kBeamImage;
      p.image = beam.image.intensity->data();
      p.image_nx = beam.image.nx;
      p.image_ny = beam.image.ny;
      p.pixel_um[0] = beam.image.pixel_um[0];
      p.pixel_um[1] = beam.image.pixel_um[1];
      p.half_um[0] = p.reach_um[0] = 0.5 * beam.image.nx * beam.image.pixel_um[0];
      p.half_um[1] = p.reach_um[1] = 0.5 * beam.image.ny * beam.image.pixel_um[1];
      image_rms(p, p.image_rms_um);
      break;
  }
  return p;
}

double fly_substep_um(const BeamProfile& p, const GridGeometry& g, double ux, double uy) {
  const double u[2] = {std::fabs(ux), std::fabs(uy)};
  double beam_len[2] = {2 * p.reach_um[0], 2 * p.reach_um[1]};
  if (p.kind == kBeamGaussian) beam_len[0] = kFwhmPerSigma * p.sigma_um[0], beam_len[1] = kFwhmPerSigma * p.sigma_um[1];
  double h = along_path(beam_len, u[0], u[1]) / 8.0;
  if (p.kind == kBeamGaussian) {
    h = std::min(h, 0.2 * along_path(p.sigma_um, u[0], u[1]));
  } else if (p.kind == kBeamTopHat) {
    // The rate a column sees is a trapezoid per axis: ramps of min(W, w), plateau |W - w|.
    for (int a = 0; a < 2; ++a) {
      if (u[a] < 1e-12) continue;
      const double W = 2 * p.half_um[a], w = g.voxel_um[a];
      const double plateau = std::fabs(W - w), ramp = std::min(W, w);
      // A sub-step fits twice in the plateau (one lies wholly in it: exact peak), or is 1 % of
      // the ramp (the mean over the sub-step at the peak loses at most 0.5 %).
      h = std::min(h, std::max(plateau / 2, 0.01 * ramp) / u[a]);
    }
  } else {
    h = std::min(h, 0.2 * along_path(p.image_rms_um, u[0], u[1]));
    for (int a = 0; a < 2; ++a)
      if (u[a] > 1e-12) h = std::min(h, 0.5 * p.pixel_um[a] / u[a]);
  }
  return h;
}

namespace {
// Sub-steps of a move from (x0, y0) to (x1, y1), as a real number (no overflow).
double substeps_along(double x0, double y0, double x1, double y1, const BeamProfile& beam, const GridGeometry& g) {
  const double dx = x1 - x0, dy = y1 - y0;
  const double len = std::hypot(dx, dy);
  if (len == 0) return 1;
  const double h = fly_substep_um(beam, g, dx / len, dy / len);
  return std::max(1.0, std::ceil(len / h - 1e-9));
}
}  // namespace

namespace {
double turn_substeps(double a0, double a1, double turn_substep_deg) {
  if (a0 == a1) return 1;
  return std::max(1.0, std::ceil(std::fabs(a1 - a0) / turn_substep_deg - 1e-9));
}
}  // namespace

namespace {
// A segment that may both move the beam and turn the stage (a replayed log): fine enough for
// each.
double segment_substeps(double x0, double y0, double x1, double y1, double a0, double a1, const BeamProfile& beam,
                        const GridGeometry& g, double turn_substep_deg) {
  return std::max(turn_substeps(a0, a1, turn_substep_deg), substeps_along(x0, y0, x1, y1, beam, g));
}
}  // namespace

int64_t substeps_of(const Exposure& e, const BeamProfile& beam, const GridGeometry& g, double turn_substep_deg) {
  return saturating_count(
      segment_substeps(e.x0_um, e.y0_um, e.x1_um, e.y1_um, e.angle0_deg, e.angle1_deg, beam, g, turn_substep_deg));
}

namespace {
// Sub-steps of one repetition of a step, as a real number (no overflow).
double step_substeps(const ScanStep& s, const BeamProfile& beam, const GridGeometry& g, double turn_substep_deg) {
  if (s.kind == StepKind::kRotate && s.continuous) return turn_substeps(s.from_deg, s.to_deg, turn_substep_deg);
  if (s.kind == StepKind::kXrdct && s.continuous) {
    const double per_line = substeps_along(s.x_from_um, 0, s.x_to_um, 0, beam, g);
    return per_line * static_cast<double>(count_step_exposures(s));  // one fly line per exposure
  }
  if (s.kind == StepKind::kLog && s.log->fly) {
    const ScanLogRows& log = *s.log;
    double sub = 0;
    for (int64_t r = 0; r + 1 < log.rows(); ++r)
      if (log.is_open(r))
        sub += segment_substeps(log.x_um[r], log.y_um[r], log.x_um[r + 1], log.y_um[r + 1], log.angle(r, s.angle_deg),
                                log.angle(r + 1, s.angle_deg), beam, g, turn_substep_deg);
    return sub;
  }
  if (s.kind != StepKind::kFly) return static_cast<double>(count_step_exposures(s));  // static: one each
  double sub = 0;
  for (size_t p = 1; p < s.path_um.size(); ++p)
    sub += substeps_along(s.path_um[p - 1][0], s.path_um[p - 1][1], s.path_um[p][0], s.path_um[p][1], beam, g);
  return sub;
}
}  // namespace

int64_t count_sub_exposures(const ScanSpec& scan, const BeamProfile& beam, const GridGeometry& g,
                            double turn_substep_deg) {
  int64_t per_repetition = 0;
  for (const ScanStep& s : scan.steps)
    per_repetition = saturating_add(per_repetition, saturating_count(step_substeps(s, beam, g, turn_substep_deg)));
  return saturating_mul(per_repetition, scan.repeat);
}

void check_sub_exposures(const Scene& scene, const BeamProfile& beam, const GridGeometry& g, double turn_substep_deg,
                         const WorkLimits& limits) {
  const int64_t n = count_sub_exposures(scene.scan, beam, g, turn_substep_deg);
  if (n <= limits.max_sub_exposures) return;
  // The step with the most sub-steps is the one to change.
  const ScanStep* worst = nullptr;
  double most = 0;
  for (const ScanStep& s : scene.scan.steps) {
    const bool cut = s.kind == StepKind::kFly || s.continuous || (s.kind == StepKind::kLog && s.log->fly);
    if (!cut) continue;  // one sub-exposure per exposure
    const double sub = step_substeps(s, beam, g, turn_substep_deg);
    if (sub > most) most = sub, worst = &s;
  }
  const std::string count = n == kSaturated ? std::string("more than 9.2e18") : group_digits(n);
  const std::string limit = "more than dosemap handles (" + group_digits(limits.max_sub_exposures) + ")";
  if (worst && worst->kind == StepKind::kRotate)
    throw UserError(worst->where,
                    "the scan is cut into " + count + " sub-steps (continuous rotations in steps of at most " +
                        fmt_g(turn_substep_deg, 3) +
                        " degrees, so that no voxel moves more than half a voxel or a fly sub-step per step), " + limit,
                    "turn through fewer degrees, use fewer repetitions or larger voxels");
  throw UserError(worst ? worst->where : scene.scan.where,
                  "the scan's fly paths are cut into " + count +
                      " sub-steps (each at most 0.2 beam sigma, 1/8 of the beam or half an image pixel long, so the dose "
                      "rate is resolved), " + limit,
                  "shorten the fly paths, use fewer repetitions or a wider beam; check that lengths are in micrometres");
}

namespace {
// Sub-step k of m of exposure number n.
SubExposure sub_exposure(const Exposure& e, size_t n, int64_t k, int64_t m) {
  const double a = static_cast<double>(k) / m, b = static_cast<double>(k + 1) / m;
  SubExposure s;
  s.t_start_s = e.t_start_s + a * e.duration_s;
  s.duration_s = (b - a) * e.duration_s;
  s.x0_um = e.x0_um + a * (e.x1_um - e.x0_um);
  s.y0_um = e.y0_um + a * (e.y1_um - e.y0_um);
  s.x1_um = e.x0_um + b * (e.x1_um - e.x0_um);
  s.y1_um = e.y0_um + b * (e.y1_um - e.y0_um);
  // A turning exposure holds each sub-step at its middle angle (the midpoint rule in angle).
  s.angle_deg = e.turning() ? e.angle0_deg + 0.5 * (a + b) * (e.angle1_deg - e.angle0_deg) : e.angle0_deg;
  s.photons = e.photons / m;
  s.exposure = static_cast<int32_t>(n);
  return s;
}
}  // namespace

std::vector<SubExposure> plan_sub_exposures(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g,
                                            double turn_substep_deg) {
  // Sized exactly first: growing by doubling would hold up to three times the list.
  int64_t total = 0;
  for (const Exposure& e : tl.exposures) total += substeps_of(e, beam, g, turn_substep_deg);
  std::vector<SubExposure> out;
  out.reserve(static_cast<size_t>(total));
  for (size_t n = 0; n < tl.exposures.size(); ++n) {
    const int64_t m = substeps_of(tl.exposures[n], beam, g, turn_substep_deg);
    for (int64_t k = 0; k < m; ++k) out.push_back(sub_exposure(tl.exposures[n], n, k, m));
  }
  return out;
}

std::vector<PoseBlock> pose_blocks(const std::vector<SubExposure>& subs) {
  std::vector<PoseBlock> blocks;
  for (size_t s = 0; s < subs.size(); ++s) {
    if (blocks.empty() || subs[s].angle_deg != blocks.back().angle_deg) blocks.push_back({s, s, subs[s].angle_deg});
    blocks.back().end = s + 1;
  }
  return blocks;
}

ColumnRect footprint(const BeamProfile& beam, const RayLattice& L, const SubExposure& s) {
  const ColumnRange c = ray_footprint(beam, L, s.x0_um, s.y0_um, s.x1_um, s.y1_um);
  return {c.i0, c.i1, c.j0, c.j1};
}

ColumnRect footprint(const BeamProfile& beam, const GridGeometry& g, const SubExposure& s) {
  const ColumnRange c = footprint_columns(beam, g.origin_um[0], g.origin_um[1], g.voxel_um[0], g.voxel_um[1], g.dims[0],
                                          g.dims[1], s.x0_um, s.y0_um, s.x1_um, s.y1_um);
  return {c.i0, c.i1, c.j0, c.j1};
}

PlanSize plan_size(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g, const StageSpec& stage,
                   double turn_substep_deg) {
  PlanSize size;
  double lattice_angle = 0;
  RayLattice L = pose_lattice(stage_pose(stage, g, 0.0), g);
  size.max_rays = ray_count(L);
  int64_t pose_events = 0;
  for (const Exposure& e : tl.exposures) {
    const int64_t m = substeps_of(e, beam, g, turn_substep_deg);
    size.sub_exposures += m;
    for (int64_t k = 0; k < m; ++k) {
      const SubExposure s = sub_exposure(e, 0, k, m);
      if (size.poses == 0 || s.angle_deg != lattice_angle) {
        ++size.poses;
        pose_events = 0;
      }
      if (s.angle_deg != lattice_angle) {
        lattice_angle = s.angle_deg;
        L = pose_lattice(stage_pose(stage, g, lattice_angle), g);
        size.max_rays = std::max<int64_t>(size.max_rays, ray_count(L));
      }
      const int64_t events = footprint(beam, L, s).count();
      size.fluence_events += events;
      size.max_pose_events = std::max(size.max_pose_events, pose_events += events);
    }
  }
  return size;
}

}  // namespace dosemap
