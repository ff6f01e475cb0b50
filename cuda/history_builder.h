// The fluence-history builder: one algorithm for the CPU and the CUDA backends (and the
// tests), written once over a handful of data-parallel primitives that each backend
// provides (host/transport/fluence_history.cpp: std and OpenMP; cuda/transport_cuda.cu:
// CUB and kernels).
//
// A block of sub-exposures at one pose puts fluence on the rays of its beam's footprint
// (cuda/ray_lattice.h). The march needs, per ray, the time-ordered list of (sub-exposure,
// cumulative fluence). The steps:
//   1. footprint of every sub-exposure: its rectangle of rays, its cell count, and for a
//      separable footprint (a static Gaussian or top-hat on lab-aligned cells) the number
//      of per-axis factors (w + h) it needs;
//   2. exclusive scans of the counts number the events and the factors;
//   3. the factors: the beam's fraction across each footprint column and row, once (2
//      erf per row or column instead of 2 per cell);
//   4. the events grouped by ray: every footprint cell's (sub-exposure, fluence) in its
//      ray's slots, each ray's in time order (sub-exposures are numbered in time order);
//   5. per ray, the running sum of its fluence, in time order (one sequential sum per
//      ray on both backends: they add the same numbers in the same order).
// Memory is O(rays + events), never O(voxels x exposures).
//
// An executor `X` provides the memory and the primitives:
//   HistoryArrays sub_exposure_arrays(long long n)      per-sub-exposure arrays
//   unsigned long long exclusive_scan(in, out, n)       out[0..n] from in[0..n); returns out[n]
//   HistoryArrays event_arrays(events, factors, rays)   the remaining arrays
//   for_each(n, f)                                      f(i) for i in [0, n)
//   for_each_owned(n, offset, total, f)                 f(s, k, offset[s] + k) for every
//                                                       k < offset[s + 1] - offset[s]
//   group_by_ray(n, rect, offset, events, rays, ev)     for every cell (r1, r2) of every
//       rect[s]: (s, ev.fluence(s, r1, r2)) into the slots of ray ev.ray(r1, r2), each ray's
//       in increasing s; fills ray_offset, sub_sorted and cum_fluence_m2. The host counts
//       and writes per time slice of the sub-exposures (in order by construction); the GPU
//       counts and writes with atomics, then sorts each ray's slots by sub-exposure.
// Plain structs and functions: compiled by g++ and by nvcc.
#pragma once

#include <stdint.h>

#include "cuda/beam_profile.h"
#include "cuda/contracts.h"
#include "cuda/device.h"
#include "cuda/ray_lattice.h"
#include "cuda/sub_exposure.h"

namespace dosemap {

// One build: n sub-exposures of one block (one pose, in time order; events number them
// 0..n-1), the beam, the pose's rays, and the rows [row0, row1) of rays to build (all of
// them, or a slab of the columns of a beam along +z on the GPU). Ray (r1, r2) has history
// (r2 - row0) * n1 + r1.
struct HistoryJob {
  const SubExposure* subs;
  long long n;
  BeamProfile beam;
  RayLattice L;
  long long row0, row1;
};

DM_HD DM_INLINE long long history_rays(const HistoryJob& j) { return (j.row1 - j.row0) * j.L.n1; }

// The arrays of one build, in the executor's memory.
struct HistoryArrays {
  // per sub-exposure: [n], the offsets [n + 1]
  ColumnRange* rect;
  unsigned long long* cells;
  unsigned long long* event_offset;
  unsigned long long* factors;
  unsigned long long* factor_offset;
  // per factor
  double* factor;
  // per event, grouped by ray (time order within a ray): the histories the march reads
  uint32_t* sub_sorted;
  double* cum_fluence_m2;
  int64_t* ray_offset;  // [rays + 1]
};

DM_HD DM_INLINE unsigned long long cells_in(const ColumnRange& r) {
  const long long w = r.i1 - r.i0, h = r.j1 - r.j0;
  return (w > 0 && h > 0) ? (unsigned long long)(w * h) : 0ULL;
}

// Whether a sub-exposure's fluence separates into an x and a y factor per ray: a static
// beam of a separable profile on lab-aligned cells.
DM_HD DM_INLINE bool separable_footprint(const BeamProfile& beam, const RayLattice& L, const SubExposure& s) {
  return s.x0_um == s.x1_um && s.y0_um == s.y1_um && beam.kind != kBeamImage && L.aligned;
}

// The fraction of a separable beam across lab column r1 (axis 0) or lab row r2 (axis 1).
DM_HD DM_INLINE double axis_fraction(const BeamProfile& beam, const RayLattice& L, const SubExposure& s, int axis,
                                     long long index) {
  double x0, x1, y0, y1;
  ray_cell(L, axis == 0 ? index : 0, axis == 0 ? 0 : index, &x0, &x1, &y0, &y1);
  const double c = axis == 0 ? s.x0_um : s.y0_um;
  const double a = axis == 0 ? x0 : y0, b = axis == 0 ? x1 : y1;
  return beam.kind == kBeamGaussian ? gaussian_interval_fraction(c, beam.sigma_um[axis], a, b)
                                    : tophat_interval_fraction(c, beam.half_um[axis], a, b);
}

// Photons per m^2 that sub-exposure s puts on ray (r1, r2). The builder computes exactly
// this (its factor table holds these very factors); the dose curves call it directly.
DM_HD DM_INLINE double ray_fluence_m2(const BeamProfile& beam, const RayLattice& L, const SubExposure& s, long long r1,
                                      long long r2) {
  const double per_m2 = s.photons / L.cell_area_m2;
  if (separable_footprint(beam, L, s))
    return per_m2 * (axis_fraction(beam, L, s, 0, r1) * axis_fraction(beam, L, s, 1, r2));
  return per_m2 * ray_exposure_fraction(beam, L, s.x0_um, s.y0_um, s.x1_um, s.y1_um, r1, r2);
}

// The s with offset[s] <= e < offset[s + 1] (offset: an exclusive scan, n + 1 entries).
DM_HD DM_INLINE long long owner_of(const unsigned long long* offset, long long n, unsigned long long e) {
  long long lo = 0, hi = n;
  while (lo < hi) {
    const long long mid = lo + (hi - lo) / 2;
    if (offset[mid + 1] <= e) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- the steps, as function objects the executors run ----

// 1. Rectangle, cells and factor count of sub-exposure s.
struct FootprintStep {
  HistoryJob job;
  HistoryArrays a;
  DM_HD void operator()(long long s) const {
    const SubExposure& x = job.subs[s];
    ColumnRange r = ray_footprint(job.beam, job.L, x.x0_um, x.y0_um, x.x1_um, x.y1_um);
    r.j0 = r.j0 < job.row0 ? job.row0 : r.j0;
    r.j1 = r.j1 > job.row1 ? job.row1 : r.j1;
    const unsigned long long cells = cells_in(r);
    a.rect[s] = r;
    a.cells[s] = cells;
    a.factors[s] = cells > 0 && separable_footprint(job.beam, job.L, x) ? (r.i1 - r.i0) + (r.j1 - r.j0) : 0;
  }
};

// 3. Factor k of sub-exposure s: its footprint's columns first, then its rows.
struct FactorStep {
  HistoryJob job;
  HistoryArrays a;
  DM_HD void operator()(long long s, unsigned long long k, unsigned long long f) const {
    const ColumnRange& r = a.rect[s];
    const long long w = r.i1 - r.i0;
    a.factor[f] = (long long)k < w ? axis_fraction(job.beam, job.L, job.subs[s], 0, r.i0 + (long long)k)
                                   : axis_fraction(job.beam, job.L, job.subs[s], 1, r.j0 + ((long long)k - w));
  }
};

// 4. The history of ray (r1, r2) and the fluence sub-exposure s puts on it.
struct EventRule {
  HistoryJob job;
  HistoryArrays a;
  DM_HD uint32_t ray(long long r1, long long r2) const { return (uint32_t)((r2 - job.row0) * job.L.n1 + r1); }
  DM_HD double fluence(long long s, long long r1, long long r2) const {
    const SubExposure& x = job.subs[s];
    if (a.factor_offset[s + 1] == a.factor_offset[s]) return ray_fluence_m2(job.beam, job.L, x, r1, r2);
    const ColumnRange& r = a.rect[s];
    const double* f = a.factor + a.factor_offset[s];
    return (x.photons / job.L.cell_area_m2) * (f[r1 - r.i0] * f[(r.i1 - r.i0) + (r2 - r.j0)]);
  }
};

// 5. Running sum of ray r's fluence, in time order.
struct CumulateStep {
  const int64_t* ray_offset;
  double* cum_fluence_m2;
  DM_HD void operator()(long long r) const {
    double sum = 0;
    for (int64_t e = ray_offset[r]; e < ray_offset[r + 1]; ++e) {
      sum += cum_fluence_m2[e];
      cum_fluence_m2[e] = sum;
    }
  }
};

// Builds the histories of `job` with executor `x`; returns the number of events. The
// histories are x's arrays ray_offset, sub_sorted and cum_fluence_m2.
template <class X>
unsigned long long build_fluence_histories(X& x, const HistoryJob& job) {
  DM_EXPECT(job.row0 >= 0 && job.row0 <= job.row1 && job.row1 <= job.L.n2 && job.n >= 0);
  const long long n = job.n, rays = history_rays(job);
  HistoryArrays a = x.sub_exposure_arrays(n);
  x.for_each(n, FootprintStep{job, a});
  const unsigned long long events = x.exclusive_scan(a.cells, a.event_offset, n);
  const unsigned long long factors = x.exclusive_scan(a.factors, a.factor_offset, n);
  a = x.event_arrays(events, factors, rays);
  x.for_each_owned(n, a.factor_offset, factors, FactorStep{job, a});
  x.group_by_ray(n, a.rect, a.event_offset, events, rays, EventRule{job, a});
  x.for_each(rays, CumulateStep{a.ray_offset, a.cum_fluence_m2});
  return events;
}

}  // namespace dosemap
