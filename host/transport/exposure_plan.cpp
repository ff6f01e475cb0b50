#include "host/transport/exposure_plan.h"

#include <algorithm>
#include <cmath>

#include "host/common/saturating.h"
#include "host/common/text.h"

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
      p.image = beam.image.intensity.data();
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

int64_t substeps_of(const Exposure& e, const BeamProfile& beam, const GridGeometry& g) {
  if (!e.moving()) return 1;
  return saturating_count(substeps_along(e.x0_um, e.y0_um, e.x1_um, e.y1_um, beam, g));
}

int64_t count_sub_exposures(const ScanSpec& scan, const BeamProfile& beam, const GridGeometry& g) {
  int64_t per_repetition = 0;
  for (const ScanStep& s : scan.steps) {
    if (s.kind != StepKind::kFly) {
      per_repetition = saturating_add(per_repetition, count_step_exposures(s));  // static: one each
      continue;
    }
    for (size_t p = 1; p < s.path_um.size(); ++p)
      per_repetition = saturating_add(
          per_repetition, saturating_count(substeps_along(s.path_um[p - 1][0], s.path_um[p - 1][1], s.path_um[p][0],
                                                          s.path_um[p][1], beam, g)));
  }
  return saturating_mul(per_repetition, scan.repeat);
}

void check_sub_exposures(const Scene& scene, const BeamProfile& beam, const GridGeometry& g, const WorkLimits& limits) {
  const int64_t n = count_sub_exposures(scene.scan, beam, g);
  if (n <= limits.max_sub_exposures) return;
  // The fly step with the most sub-steps is the one to change.
  SourcePos where = scene.scan.where;
  double most = 0;
  for (const ScanStep& s : scene.scan.steps) {
    if (s.kind != StepKind::kFly) continue;
    double sub = 0;
    for (size_t p = 1; p < s.path_um.size(); ++p)
      sub += substeps_along(s.path_um[p - 1][0], s.path_um[p - 1][1], s.path_um[p][0], s.path_um[p][1], beam, g);
    if (sub > most) most = sub, where = s.where;
  }
  throw UserError(where,
                  "the scan's fly paths are cut into " + (n == kSaturated ? std::string("more than 9.2e18") : group_digits(n)) +
                      " sub-steps (each at most 0.2 beam sigma, 1/8 of the beam or half an image pixel long, so the dose "
                      "rate is resolved), more than dosemap handles (" +
                      group_digits(limits.max_sub_exposures) + ")",
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
  s.photons = e.photons / m;
  s.exposure = static_cast<int32_t>(n);
  return s;
}
}  // namespace

std::vector<SubExposure> plan_sub_exposures(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g) {
  // Sized exactly first: growing by doubling would hold up to three times the list.
  int64_t total = 0;
  for (const Exposure& e : tl.exposures) total += substeps_of(e, beam, g);
  std::vector<SubExposure> out;
  out.reserve(static_cast<size_t>(total));
  for (size_t n = 0; n < tl.exposures.size(); ++n) {
    const int64_t m = substeps_of(tl.exposures[n], beam, g);
    for (int64_t k = 0; k < m; ++k) out.push_back(sub_exposure(tl.exposures[n], n, k, m));
  }
  return out;
}

ColumnRect footprint(const BeamProfile& beam, const GridGeometry& g, const SubExposure& s) {
  const ColumnRange c = footprint_columns(beam, g.origin_um[0], g.origin_um[1], g.voxel_um[0], g.voxel_um[1], g.dims[0],
                                          g.dims[1], s.x0_um, s.y0_um, s.x1_um, s.y1_um);
  return {c.i0, c.i1, c.j0, c.j1};
}

PlanSize plan_size(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g) {
  PlanSize size;
  for (const Exposure& e : tl.exposures) {
    const int64_t m = substeps_of(e, beam, g);
    size.sub_exposures += m;
    for (int64_t k = 0; k < m; ++k) size.fluence_events += footprint(beam, g, sub_exposure(e, 0, k, m)).count();
  }
  return size;
}

}  // namespace dosemap
