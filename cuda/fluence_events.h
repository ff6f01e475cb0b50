// The per-element steps of the GPU's fluence-history build (cuda/transport_cuda.cu), as
// plain host/device functions so that tests replay the GPU pipeline on the CPU with the
// very same code: for a slab of rows [row0, row1) (a beam along +z), or for all rays of a
// pose's lattice (a turned sample), every sub-exposure's footprint cells are numbered
// (exclusive scan of the cell counts), event e is made by make_event / make_ray_event,
// events are stably sorted by column (ray), and first_event_of_column gives the offsets.
#pragma once

#include <stdint.h>

#include "cuda/beam_profile.h"
#include "cuda/device.h"
#include "cuda/ray_lattice.h"

namespace dosemap {

// What the GPU needs of a sub-exposure (host/transport/exposure_plan.h has the same fields).
struct EventGrid {
  double ox, oy, vx, vy;  // grid lower corner and voxel size (um)
  long long nx, ny;
  double area_m2;         // column footprint area
};

// Footprint of a beam moving from (x0, y0) to (x1, y1), restricted to rows [row0, row1).
DM_HD DM_INLINE ColumnRange slab_footprint(const BeamProfile& beam, const EventGrid& g, double x0, double y0, double x1,
                                           double y1, long long row0, long long row1) {
  ColumnRange r = footprint_columns(beam, g.ox, g.oy, g.vx, g.vy, g.nx, g.ny, x0, y0, x1, y1);
  r.j0 = r.j0 < row0 ? row0 : r.j0;
  r.j1 = r.j1 > row1 ? row1 : r.j1;
  return r;
}

DM_HD DM_INLINE unsigned long long cells_in(const ColumnRange& r) {
  const long long w = r.i1 - r.i0, h = r.j1 - r.j0;
  return (w > 0 && h > 0) ? (unsigned long long)(w * h) : 0ULL;
}

// The sub-exposure that owns event e: the s with offsets[s] <= e < offsets[s + 1]
// (offsets: exclusive scan of the cells, n + 1 entries).
DM_HD DM_INLINE long long event_owner(const unsigned long long* offsets, long long n, unsigned long long e) {
  long long lo = 0, hi = n;
  while (lo < hi) {
    const long long mid = lo + (hi - lo) / 2;
    if (offsets[mid + 1] <= e) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

struct FluenceEvent {
  uint32_t column;  // within the slab: (j - row0) * nx + i
  uint32_t sub_exposure;
  double fluence_m2;  // photons / m^2
};

// Event e of sub-exposure s (the (e - offsets[s])-th cell of its footprint in the slab,
// i fastest, as the CPU backend orders them).
DM_HD DM_INLINE FluenceEvent make_event(const BeamProfile& beam, const EventGrid& g, long long row0, long long row1,
                                        long long s, unsigned long long local, double x0, double y0, double x1,
                                        double y1, double photons) {
  const ColumnRange r = slab_footprint(beam, g, x0, y0, x1, y1, row0, row1);
  const long long w = r.i1 - r.i0;
  const long long i = r.i0 + (long long)(local % (unsigned long long)w);
  const long long j = r.j0 + (long long)(local / (unsigned long long)w);
  const double cx0 = g.ox + i * g.vx, cx1 = g.ox + (i + 1) * g.vx;
  const double cy0 = g.oy + j * g.vy, cy1 = g.oy + (j + 1) * g.vy;
  FluenceEvent ev;
  ev.column = (uint32_t)((j - row0) * g.nx + i);
  ev.sub_exposure = (uint32_t)s;
  ev.fluence_m2 = (photons / g.area_m2) * exposure_fraction(beam, x0, y0, x1, y1, cx0, cx1, cy0, cy1);
  return ev;
}

// Event e of sub-exposure s on the rays of a pose: the (local)-th cell of its footprint
// (ray_footprint, r1 fastest, as the CPU builder orders them); `column` is the ray.
DM_HD DM_INLINE FluenceEvent make_ray_event(const BeamProfile& beam, const RayLattice& L, long long s,
                                            unsigned long long local, double x0, double y0, double x1, double y1,
                                            double photons) {
  const ColumnRange r = ray_footprint(beam, L, x0, y0, x1, y1);
  const long long w = r.i1 - r.i0;
  const long long r1 = r.i0 + (long long)(local % (unsigned long long)w);
  const long long r2 = r.j0 + (long long)(local / (unsigned long long)w);
  FluenceEvent ev;
  ev.column = (uint32_t)(r2 * L.n1 + r1);
  ev.sub_exposure = (uint32_t)s;
  ev.fluence_m2 = (photons / L.cell_area_m2) * ray_exposure_fraction(beam, L, x0, y0, x1, y1, r1, r2);
  return ev;
}

// First event of column c in events sorted by column (= the column's offset).
DM_HD DM_INLINE int64_t first_event_of_column(const uint32_t* column_sorted, unsigned long long total, long long c) {
  unsigned long long lo = 0, hi = total;
  while (lo < hi) {
    const unsigned long long mid = lo + (hi - lo) / 2;
    if ((long long)column_sorted[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return (int64_t)lo;
}

}  // namespace dosemap
