// The beam's lateral profile, integrated over voxel columns: the fraction of the beam's
// photons that cross the column's footprint [x0, x1) x [y0, y1). Never point-sampled:
// a Gaussian integrates with erf, a top-hat and an image by rectangle overlap (half-open,
// so that adjacent columns partition the beam exactly). A moving beam's fraction is the
// mean over its straight path, integrated exactly between the kinks of the overlap
// functions (top-hat, image) or by 4-point Gauss-Legendre on short sub-steps (Gaussian).
// Plain struct and functions: compiled by g++ for the CPU and by nvcc for the GPU.
#pragma once

#include <math.h>

#include "cuda/device.h"

namespace dosemap {

enum BeamProfileKind : int { kBeamGaussian = 0, kBeamTopHat = 1, kBeamImage = 2 };

struct BeamProfile {
  int kind = kBeamGaussian;
  double sigma_um[2] = {0, 0};  // Gaussian standard deviations (FWHM / 2.3548)
  double half_um[2] = {0, 0};   // half-size of the top-hat, or of the image
  const double* image = nullptr;  // normalised intensities, image_ny rows of image_nx, row 0 = lowest y
  int image_nx = 0, image_ny = 0;
  double pixel_um[2] = {0, 0};
  double image_rms_um[2] = {0, 0};  // RMS width of the image (pixel width included), for fly sub-steps
  double reach_um[2] = {0, 0};  // beyond this distance from the centre the profile is zero (or < 1e-13)
};

// Gaussian tails beyond 7.5 sigma hold 6e-14 of the beam: the footprint stops there.
constexpr double kGaussianReachSigmas = 7.5;

// Fraction of a 1-D Gaussian centred at c within [a, b). Uses erfc on the far side of the
// centre so that tail columns keep their relative precision.
DM_HD DM_INLINE double gaussian_interval_fraction(double c, double sigma, double a, double b) {
  const double s = 1.0 / (1.4142135623730951 * sigma);
  const double ua = (a - c) * s, ub = (b - c) * s;
  if (ua >= 0) return 0.5 * (erfc(ua) - erfc(ub));
  if (ub <= 0) return 0.5 * (erfc(-ub) - erfc(-ua));
  return 0.5 * (erf(ub) - erf(ua));
}

// Length of the overlap of [a0, a1) and [b0, b1).
DM_HD DM_INLINE double overlap_length(double a0, double a1, double b0, double b1) {
  const double lo = a0 > b0 ? a0 : b0;
  const double hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0.0;
}

// Fraction of a 1-D top-hat of half-width h centred at c within [a, b).
DM_HD DM_INLINE double tophat_interval_fraction(double c, double h, double a, double b) {
  return overlap_length(c - h, c + h, a, b) / (2.0 * h);
}

// Fraction of an image-profile beam centred at (bx, by) inside [x0,x1) x [y0,y1):
// each pixel's intensity times the area of its overlap with the column over its area.
DM_HD DM_INLINE double image_fraction(const BeamProfile& p, double bx, double by, double x0, double x1, double y0,
                                      double y1) {
  const double px = p.pixel_um[0], py = p.pixel_um[1];
  const double left = bx - p.half_um[0], bottom = by - p.half_um[1];
  int ix0 = (int)floor((x0 - left) / px), ix1 = (int)ceil((x1 - left) / px);
  int iy0 = (int)floor((y0 - bottom) / py), iy1 = (int)ceil((y1 - bottom) / py);
  if (ix0 < 0) ix0 = 0;
  if (iy0 < 0) iy0 = 0;
  if (ix1 > p.image_nx) ix1 = p.image_nx;
  if (iy1 > p.image_ny) iy1 = p.image_ny;
  double sum = 0;
  for (int iy = iy0; iy < iy1; ++iy) {
    const double oy = overlap_length(bottom + iy * py, bottom + (iy + 1) * py, y0, y1);
    if (oy <= 0) continue;
    double row = 0;
    const double* r = p.image + (long long)iy * p.image_nx;
    for (int ix = ix0; ix < ix1; ++ix) row += r[ix] * overlap_length(left + ix * px, left + (ix + 1) * px, x0, x1);
    sum += row * oy;
  }
  return sum / (px * py);
}

// Fraction of the beam centred at (bx, by) that falls in [x0,x1) x [y0,y1).
DM_HD DM_INLINE double profile_fraction(const BeamProfile& p, double bx, double by, double x0, double x1, double y0,
                                        double y1) {
  switch (p.kind) {
    case kBeamGaussian:
      return gaussian_interval_fraction(bx, p.sigma_um[0], x0, x1) * gaussian_interval_fraction(by, p.sigma_um[1], y0, y1);
    case kBeamTopHat:
      return tophat_interval_fraction(bx, p.half_um[0], x0, x1) * tophat_interval_fraction(by, p.half_um[1], y0, y1);
    default:
      return image_fraction(p, bx, by, x0, x1, y0, y1);
  }
}

namespace detail {

// Adds the path parameters s in (0, 1) at which an edge of the profile's rectangles (the
// top-hat's two edges, or the image's pixel lattice) crosses column edge `edge` along one
// axis, the beam centre moving from b0 by delta. Returns the new count.
DM_HD DM_INLINE int add_crossings(const BeamProfile& p, int axis, double edge, double b0, double delta, double* s,
                                  int count, int capacity) {
  if (delta == 0) return count;
  const double half = p.half_um[axis];
  const double pitch = p.kind == kBeamTopHat ? 2.0 * half : p.pixel_um[axis];
  const int n_edges = p.kind == kBeamTopHat ? 2 : (axis == 0 ? p.image_nx : p.image_ny) + 1;
  // Profile edge n sits at b + (-half + n * pitch); it meets `edge` when
  // b0 + s * delta = edge + half - n * pitch.
  const double base = edge + half - b0;
  // s in (0, 1)  <=>  n * pitch in the open interval between base - delta and base.
  const double lo = (delta > 0 ? base - delta : base) / pitch;
  const double hi = (delta > 0 ? base : base - delta) / pitch;
  int n0 = (int)floor(lo) + 1, n1 = (int)ceil(hi) - 1;
  if (n0 < 0) n0 = 0;
  if (n1 > n_edges - 1) n1 = n_edges - 1;
  for (int n = n0; n <= n1 && count < capacity; ++n) {
    const double t = (base - n * pitch) / delta;
    if (t > 0 && t < 1) s[count++] = t;
  }
  return count;
}

}  // namespace detail

namespace detail {

// Mean fraction over one short piece of a move (see profile_fraction_moving).
DM_HD DM_INLINE double moving_piece(const BeamProfile& p, double bx0, double by0, double dx, double dy, double x0,
                                    double x1, double y0, double y1) {
  if (p.kind == kBeamGaussian) {
    const double node[4] = {0.0694318442029737, 0.3300094782075719, 0.6699905217924281, 0.9305681557970263};
    const double weight[4] = {0.1739274225687269, 0.3260725774312731, 0.3260725774312731, 0.1739274225687269};
    double sum = 0;
    for (int g = 0; g < 4; ++g)
      sum += weight[g] * profile_fraction(p, bx0 + node[g] * dx, by0 + node[g] * dy, x0, x1, y0, y1);
    return sum;
  }
  // Pieces are at most half a pitch long: at most one crossing per column edge.
  double s[8];
  int n = 0;
  s[n++] = 0.0;
  s[n++] = 1.0;
  n = add_crossings(p, 0, x0, bx0, dx, s, n, 8);
  n = add_crossings(p, 0, x1, bx0, dx, s, n, 8);
  n = add_crossings(p, 1, y0, by0, dy, s, n, 8);
  n = add_crossings(p, 1, y1, by0, dy, s, n, 8);
  for (int i = 1; i < n; ++i) {  // insertion sort of a handful of values
    const double v = s[i];
    int j = i - 1;
    while (j >= 0 && s[j] > v) {
      s[j + 1] = s[j];
      --j;
    }
    s[j + 1] = v;
  }
  double sum = 0;
  double f_prev = profile_fraction(p, bx0, by0, x0, x1, y0, y1);
  for (int i = 1; i < n; ++i) {
    const double a = s[i - 1], b = s[i];
    if (b <= a) continue;
    const double m = 0.5 * (a + b);
    const double f_mid = profile_fraction(p, bx0 + m * dx, by0 + m * dy, x0, x1, y0, y1);
    const double f_end = profile_fraction(p, bx0 + b * dx, by0 + b * dy, x0, x1, y0, y1);
    sum += (b - a) * (f_prev + 4.0 * f_mid + f_end) / 6.0;
    f_prev = f_end;
  }
  return sum;
}

}  // namespace detail

// Longest piece of a move integrated in one go: 0.2 sigma for the Gaussian (4-point
// Gauss-Legendre is then exact to ~1e-12), half a pitch for rectangles (one kink per edge).
DM_HD DM_INLINE int moving_pieces(const BeamProfile& p, double dx, double dy) {
  double n = 0;
  for (int a = 0; a < 2; ++a) {
    const double d = fabs(a == 0 ? dx : dy);
    const double piece = p.kind == kBeamGaussian ? 0.2 * p.sigma_um[a]
                         : p.kind == kBeamTopHat ? p.half_um[a]
                                                 : 0.5 * p.pixel_um[a];
    const double need = ceil(d / piece);
    if (need > n) n = need;
  }
  return n < 1 ? 1 : (int)n;
}

// Mean over a straight move of the beam centre from (bx0, by0) to (bx1, by1) of the
// fraction in [x0,x1) x [y0,y1): the fraction of a moving exposure's photons that cross
// the column. For the top-hat and image the fraction is quadratic in the path parameter
// between kinks, so Simpson's rule on each piece is exact; the Gaussian is smooth.
DM_HD DM_INLINE double profile_fraction_moving(const BeamProfile& p, double bx0, double by0, double bx1, double by1,
                                               double x0, double x1, double y0, double y1) {
  const double dx = bx1 - bx0, dy = by1 - by0;
  const int n = moving_pieces(p, dx, dy);
  const double sx = dx / n, sy = dy / n;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += detail::moving_piece(p, bx0 + i * sx, by0 + i * sy, sx, sy, x0, x1, y0, y1);
  return sum / n;
}

// Columns [i0, i1) x [j0, j1) of an nx x ny grid (lower corner (ox, oy), voxel (vx, vy))
// that a beam moving from (bx0, by0) to (bx1, by1) can reach, clipped to the grid.
struct ColumnRange {
  long long i0, i1, j0, j1;
};

DM_HD DM_INLINE ColumnRange footprint_columns(const BeamProfile& p, double ox, double oy, double vx, double vy,
                                              long long nx, long long ny, double bx0, double by0, double bx1,
                                              double by1) {
  ColumnRange r;
  const double xa = (bx0 < bx1 ? bx0 : bx1) - p.reach_um[0], xb = (bx0 < bx1 ? bx1 : bx0) + p.reach_um[0];
  const double ya = (by0 < by1 ? by0 : by1) - p.reach_um[1], yb = (by0 < by1 ? by1 : by0) + p.reach_um[1];
  r.i0 = (long long)floor((xa - ox) / vx);
  r.i1 = (long long)ceil((xb - ox) / vx);
  r.j0 = (long long)floor((ya - oy) / vy);
  r.j1 = (long long)ceil((yb - oy) / vy);
  r.i0 = r.i0 < 0 ? 0 : r.i0 > nx ? nx : r.i0;
  r.i1 = r.i1 < 0 ? 0 : r.i1 > nx ? nx : r.i1;
  r.j0 = r.j0 < 0 ? 0 : r.j0 > ny ? ny : r.j0;
  r.j1 = r.j1 < 0 ? 0 : r.j1 > ny ? ny : r.j1;
  return r;
}

// Fraction of an exposure's photons that cross column [x0,x1) x [y0,y1): the beam centre
// is at (bx0, by0) throughout a static exposure, or moves to (bx1, by1) in a moving one.
DM_HD DM_INLINE double exposure_fraction(const BeamProfile& p, double bx0, double by0, double bx1, double by1,
                                         double x0, double x1, double y0, double y1) {
  if (bx0 == bx1 && by0 == by1) return profile_fraction(p, bx0, by0, x0, x1, y0, y1);
  return profile_fraction_moving(p, bx0, by0, bx1, by1, x0, x1, y0, y1);
}

}  // namespace dosemap
