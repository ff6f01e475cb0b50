// The rays of one pose (docs/physics.md, "Poses and passes"). The beam is parallel, so at a
// fixed pose every voxel is crossed by the same family of parallel lines. dosemap marches
// them slice by slice along the dominant axis D of the beam direction in the sample frame
// (as tomography projectors do): ray (m1, m2) crosses the centre plane of its q-th slice (in
// beam order) at (m1 + 1/2 + q s1, m2 + 1/2 + q s2) voxels along the two other axes A1, A2,
// and the whole slice's segment (length h_D / |d_D|) is given to the voxel holding that
// point. The lattice of rays is the voxel lattice shifted by the same amount in every
// slice, so each voxel of a slice holds exactly one ray: every voxel is visited exactly once
// per pose, by one owner (no atomics, no moire from uneven ray counts), and a homogeneous
// region under a uniform beam gets exactly the analytic dose at any angle. A beam along a
// grid axis has s1 = s2 = 0: the rays are the voxel columns, and the march is the column
// march of an axis-aligned scene.
//
// On the lab side the rays are cells of the plane across the beam: ray (m1, m2) is centred
// at lab(0, 0) + m1 A + m2 B, A and B the lab images of one voxel edge along A1 and A2. For
// the footprint arithmetic the rays are renumbered (r1, r2) so that r1 runs along lab x and
// r2 along lab y. Each ray's photons are the beam integrated over a lab-aligned rectangle:
// the cell itself when A and B are along the lab axes (every untilted turn about x or y),
// otherwise the rectangle with the cell's area and second moments (exact for a beam wide
// compared to a voxel). Poses whose cell has no such rectangle are refused when the scene
// is read (pose_is_supported).
//
// Plain struct and functions: compiled by g++ and by nvcc.
#pragma once

#include <math.h>

#include "cuda/beam_profile.h"
#include "cuda/contracts.h"
#include "cuda/device.h"
#include "cuda/pose.h"

namespace dosemap {

struct RayLattice {
  // ---- sample side ----
  long long n[3];              // grid dims
  double voxel_um[3];
  double origin_um[3];         // lower corner of voxel (0, 0, 0)
  int dom, a1, a2;             // dominant axis of the beam direction; the other two, ascending
  int forward;                 // 1: the beam enters at slice 0 of dom; 0: at slice n[dom] - 1
  double shift1, shift2;       // voxels along a1, a2 per slice along the beam
  int sheared;                 // shift1 or shift2 not 0
  long long m1_lo, m2_lo;      // the first ray's lattice indices
  long long nm1, nm2;          // rays along a1, a2
  double segment_um;           // path length in one slice: h_D / |d_D|
  // ---- lab side: rays r = r2 * n1 + r1 ----
  long long n1, n2;
  int swap;                    // r1 counts m2 (and r2 m1)
  int flip1, flip2;            // m1 (m2) decreases as its r index increases
  int aligned;                 // the cell is lab-aligned: its edges are ox + r1 ux, oy + r2 vy
  double ox, oy;               // aligned: lower corner of ray (0, 0)'s cell; otherwise its centre
  double ux, uy, vx, vy;       // lab step (um) per r1 and per r2
  double w, h;                 // the beam is integrated over a w x h rectangle (um)
  double cell_area_m2;
  double moment_mismatch;      // |cross moment| / (w h) of the cell; 0 when a rectangle fits exactly
};

// ---- index arithmetic shared by the history builder and the march ----

DM_HD DM_INLINE long long ray_count(const RayLattice& L) { return L.n1 * L.n2; }

// Lattice indices (m1, m2) of ray r.
DM_HD DM_INLINE void ray_lattice_indices(const RayLattice& L, long long r, long long* m1, long long* m2) {
  DM_EXPECT(r >= 0 && r < L.n1 * L.n2);
  const long long r1 = r % L.n1, r2 = r / L.n1;
  long long k1 = L.swap ? r2 : r1, k2 = L.swap ? r1 : r2;
  if (L.flip1) k1 = L.nm1 - 1 - k1;
  if (L.flip2) k2 = L.nm2 - 1 - k2;
  *m1 = L.m1_lo + k1;
  *m2 = L.m2_lo + k2;
}

// Voxel shift of every ray at slice q (beam order) along a1 or a2: the same for all rays, so
// that rays and voxels of a slice pair one to one.
DM_HD DM_INLINE long long slice_shift(double shift, long long q) { return (long long)floor(0.5 + (double)q * shift); }

// The ray that crosses voxel (i, j, k) (ray_lattice_indices and the march's slice walk
// inverted), or -1 when none does.
DM_HD DM_INLINE long long ray_of_voxel(const RayLattice& L, const long long ijk[3]) {
  const long long q = L.forward ? ijk[L.dom] : L.n[L.dom] - 1 - ijk[L.dom];
  const long long m1 = ijk[L.a1] - (L.sheared ? slice_shift(L.shift1, q) : 0);
  const long long m2 = ijk[L.a2] - (L.sheared ? slice_shift(L.shift2, q) : 0);
  long long k1 = m1 - L.m1_lo, k2 = m2 - L.m2_lo;
  if (k1 < 0 || k1 >= L.nm1 || k2 < 0 || k2 >= L.nm2) return -1;
  if (L.flip1) k1 = L.nm1 - 1 - k1;
  if (L.flip2) k2 = L.nm2 - 1 - k2;
  const long long r1 = L.swap ? k2 : k1, r2 = L.swap ? k1 : k2;
  return r2 * L.n1 + r1;
}

// The lab rectangle [x0, x1) x [y0, y1) over which ray (r1, r2) takes its photons.
DM_HD DM_INLINE void ray_cell(const RayLattice& L, long long r1, long long r2, double* x0, double* x1, double* y0,
                              double* y1) {
  if (L.aligned) {
    *x0 = L.ox + r1 * L.ux;
    *x1 = L.ox + (r1 + 1) * L.ux;
    *y0 = L.oy + r2 * L.vy;
    *y1 = L.oy + (r2 + 1) * L.vy;
    return;
  }
  const double cx = L.ox + r1 * L.ux + r2 * L.vx, cy = L.oy + r1 * L.uy + r2 * L.vy;
  *x0 = cx - 0.5 * L.w;
  *x1 = cx + 0.5 * L.w;
  *y0 = cy - 0.5 * L.h;
  *y1 = cy + 0.5 * L.h;
}

// Fraction of an exposure's photons (beam centre from (bx0, by0) to (bx1, by1)) that ray
// (r1, r2) carries.
DM_HD DM_INLINE double ray_exposure_fraction(const BeamProfile& p, const RayLattice& L, double bx0, double by0,
                                             double bx1, double by1, long long r1, long long r2) {
  double x0, x1, y0, y1;
  ray_cell(L, r1, r2, &x0, &x1, &y0, &y1);
  return exposure_fraction(p, bx0, by0, bx1, by1, x0, x1, y0, y1);
}

// The ray whose cell holds lab point (x, y), or -1 when none does (the point misses the
// grid). For cells that are not the lattice's own (moment-matched rectangles), the ray of
// the nearest lattice point.
DM_HD DM_INLINE long long ray_at_lab_point(const RayLattice& L, double x, double y) {
  double f1, f2;
  if (L.aligned) {
    f1 = floor((x - L.ox) / L.ux);
    f2 = floor((y - L.oy) / L.vy);
  } else {
    const double det = L.ux * L.vy - L.vx * L.uy, dx = x - L.ox, dy = y - L.oy;
    f1 = floor((L.vy * dx - L.vx * dy) / det + 0.5);
    f2 = floor((-L.uy * dx + L.ux * dy) / det + 0.5);
  }
  if (!(f1 >= 0 && f2 >= 0 && f1 < (double)L.n1 && f2 < (double)L.n2)) return -1;
  return (long long)f2 * L.n1 + (long long)f1;
}

// Rays [i0, i1) x [j0, j1) (r1, r2) whose cells a beam moving from (bx0, by0) to (bx1, by1)
// can reach, clipped to the lattice. Aligned cells give exactly the footprint of an
// axis-aligned grid; otherwise the rectangle of ray indices around the reachable cells.
DM_HD DM_INLINE ColumnRange ray_footprint(const BeamProfile& p, const RayLattice& L, double bx0, double by0,
                                          double bx1, double by1) {
  if (L.aligned) return footprint_columns(p, L.ox, L.oy, L.ux, L.vy, L.n1, L.n2, bx0, by0, bx1, by1);
  const double xa = (bx0 < bx1 ? bx0 : bx1) - p.reach_um[0] - 0.5 * L.w;
  const double xb = (bx0 < bx1 ? bx1 : bx0) + p.reach_um[0] + 0.5 * L.w;
  const double ya = (by0 < by1 ? by0 : by1) - p.reach_um[1] - 0.5 * L.h;
  const double yb = (by0 < by1 ? by1 : by0) + p.reach_um[1] + 0.5 * L.h;
  // Ray indices of the corners of the reachable rectangle: (r1, r2) = M^-1 (x - ox, y - oy).
  const double det = L.ux * L.vy - L.vx * L.uy;
  double lo1 = 1e300, hi1 = -1e300, lo2 = 1e300, hi2 = -1e300;
  for (int c = 0; c < 4; ++c) {
    const double x = (c & 1 ? xb : xa) - L.ox, y = (c & 2 ? yb : ya) - L.oy;
    const double r1 = (L.vy * x - L.vx * y) / det, r2 = (-L.uy * x + L.ux * y) / det;
    lo1 = r1 < lo1 ? r1 : lo1;
    hi1 = r1 > hi1 ? r1 : hi1;
    lo2 = r2 < lo2 ? r2 : lo2;
    hi2 = r2 > hi2 ? r2 : hi2;
  }
  ColumnRange r;
  // Far outside the lattice (or non-finite): empty, without converting huge doubles.
  if (!(hi1 >= 0 && lo1 < (double)L.n1 && hi2 >= 0 && lo2 < (double)L.n2)) {
    r.i0 = r.i1 = r.j0 = r.j1 = 0;
    return r;
  }
  r.i0 = lo1 < 0 ? 0 : (long long)floor(lo1);
  r.i1 = hi1 + 1 >= (double)L.n1 ? L.n1 : (long long)floor(hi1) + 1;
  r.j0 = lo2 < 0 ? 0 : (long long)floor(lo2);
  r.j1 = hi2 + 1 >= (double)L.n2 ? L.n2 : (long long)floor(hi2) + 1;
  return r;
}

// ---- building the lattice of a pose ----

DM_HD DM_INLINE RayLattice make_ray_lattice(const Pose& pose, const long long dims[3], const double voxel_um[3],
                                            const double origin_um[3]) {
  RayLattice L;
  for (int i = 0; i < 3; ++i) {
    DM_EXPECT(dims[i] > 0 && voxel_um[i] > 0);
    L.n[i] = dims[i];
    L.voxel_um[i] = voxel_um[i];
    L.origin_um[i] = origin_um[i];
  }
  double d[3];
  beam_direction_in_sample(pose, d);
  // Dominant axis: the largest |d| (z first on ties, then x: the order of the fast paths).
  int dom = 2;
  if (fabs(d[0]) > fabs(d[dom])) dom = 0;
  if (fabs(d[1]) > fabs(d[dom])) dom = 1;
  L.dom = dom;
  L.a1 = dom == 0 ? 1 : 0;
  L.a2 = dom == 2 ? 1 : 2;
  L.forward = d[dom] > 0;
  const double per_slice = voxel_um[dom] / fabs(d[dom]);  // path length per slice
  L.segment_um = per_slice;
  L.shift1 = d[L.a1] * per_slice / voxel_um[L.a1];
  L.shift2 = d[L.a2] * per_slice / voxel_um[L.a2];
  L.sheared = L.shift1 != 0.0 || L.shift2 != 0.0;
  const long long last = dims[dom] - 1;
  const long long s1_end = slice_shift(L.shift1, last), s2_end = slice_shift(L.shift2, last);
  const long long s1_max = s1_end > 0 ? s1_end : 0, s1_min = s1_end < 0 ? s1_end : 0;
  const long long s2_max = s2_end > 0 ? s2_end : 0, s2_min = s2_end < 0 ? s2_end : 0;
  L.m1_lo = -s1_max;
  L.m2_lo = -s2_max;
  L.nm1 = dims[L.a1] + s1_max - s1_min;
  L.nm2 = dims[L.a2] + s2_max - s2_min;

  // Lab side: A, B = lab steps per m1, m2; renumber so that r1 runs along lab x.
  double A[2], B[2];
  lab_step_of_axis(pose, L.a1, voxel_um[L.a1], A);
  lab_step_of_axis(pose, L.a2, voxel_um[L.a2], B);
  L.swap = fabs(A[0]) * fabs(B[1]) < fabs(A[1]) * fabs(B[0]);
  double U[2] = {L.swap ? B[0] : A[0], L.swap ? B[1] : A[1]};
  double V[2] = {L.swap ? A[0] : B[0], L.swap ? A[1] : B[1]};
  const int flip_u = U[0] < 0 || (U[0] == 0 && U[1] < 0);
  const int flip_v = V[1] < 0 || (V[1] == 0 && V[0] < 0);
  if (flip_u) U[0] = -U[0], U[1] = -U[1];
  if (flip_v) V[0] = -V[0], V[1] = -V[1];
  L.flip1 = L.swap ? flip_v : flip_u;
  L.flip2 = L.swap ? flip_u : flip_v;
  L.n1 = L.swap ? L.nm2 : L.nm1;
  L.n2 = L.swap ? L.nm1 : L.nm2;
  L.ux = U[0], L.uy = U[1], L.vx = V[0], L.vy = V[1];
  L.aligned = U[1] == 0.0 && V[0] == 0.0;
  L.w = sqrt(U[0] * U[0] + V[0] * V[0]);
  L.h = sqrt(U[1] * U[1] + V[1] * V[1]);
  L.moment_mismatch = fabs(U[0] * U[1] + V[0] * V[1]) / (L.w * L.h);
  // Each slice pairs rays and voxels one to one: the lattice covers the grid's cross-section.
  DM_EXPECT(L.nm1 >= dims[L.a1] && L.nm2 >= dims[L.a2] && L.segment_um >= voxel_um[dom]);

  // Centre of ray (0, 0) at its first slice, in the lab.
  long long m1, m2;
  ray_lattice_indices(L, 0, &m1, &m2);
  double s[3];
  s[L.a1] = origin_um[L.a1] + (m1 + 0.5) * voxel_um[L.a1];
  s[L.a2] = origin_um[L.a2] + (m2 + 0.5) * voxel_um[L.a2];
  s[dom] = origin_um[dom] + ((L.forward ? 0 : last) + 0.5) * voxel_um[dom];
  double lab[3];
  pose_to_lab(pose, s, lab);
  if (pose.identity) {
    // The lattice is the grid's columns, edges exactly where an axis-aligned march has them.
    L.ox = origin_um[0];
    L.oy = origin_um[1];
  } else if (L.aligned) {
    L.ox = lab[0] - 0.5 * L.ux;
    L.oy = lab[1] - 0.5 * L.vy;
  } else {
    L.ox = lab[0];
    L.oy = lab[1];
  }
  L.cell_area_m2 = pose.identity ? voxel_um[0] * voxel_um[1] * 1e-12 : L.w * L.h * 1e-12;
  return L;
}

// Whether the beam can be integrated over this pose's ray cells (see the top of this file).
DM_HD DM_INLINE bool pose_is_supported(const RayLattice& L) { return L.moment_mismatch < 1e-9; }

}  // namespace dosemap
