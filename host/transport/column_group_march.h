// The CPU's march of neighbouring grid columns (a beam along +z, no stage turned: every
// scene without a stage), vectorized across the group's rays: in a slice, the group's
// voxels are side by side in memory and, in a layered cell, mostly of one material, so each
// run of rays entering the same material is one loop over contiguous voxels that the
// compiler turns into SIMD code (AVX-512, AVX2 or SSE2, chosen when the program starts).
// Each ray does exactly walk_through_voxel's arithmetic in the same order (cuda/ray_march.h;
// no contraction into FMA), so the grids are the same bit for bit as march_ray's, the GPU's
// reference; the rare events (a threshold crossed, a component's crossing, the frames) are
// done per ray after each run's vector loop.
#pragma once

#include <cstdint>
#include <memory>

#include "cuda/ray_march.h"

namespace dosemap {

// A thread's arrays for one group of at most kGroupRays rays (struct of arrays, so that
// the vector loop reads each quantity of neighbouring rays contiguously).
struct ColumnGroupScratch;
std::unique_ptr<ColumnGroupScratch, void (*)(ColumnGroupScratch*)> make_column_group_scratch(int group_rays);

// Marches rays [r0, r0 + n) of a lattice on the grid's columns (grid_columns_lattice) through
// the block in h, as march_ray would, n <= the scratch's group_rays.
void march_column_group(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                        const DoseState& st, int64_t r0, int n, ColumnGroupScratch& s);

// True when ray r of L is grid column r and its voxel in slice q is q x columns + r.
inline bool grid_columns_lattice(const RayLattice& L) {
  return L.dom == 2 && L.forward && !L.sheared && !L.swap && !L.flip1 && !L.flip2 && L.m1_lo == 0 && L.m2_lo == 0 &&
         L.n1 == L.n[0] && L.n2 == L.n[1];
}

}  // namespace dosemap
