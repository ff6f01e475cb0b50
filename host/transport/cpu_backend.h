// The CPU backend: the shared ray march (cuda/ray_march.h) run by OpenMP threads, one owner
// per ray (each voxel holds one ray per pose), so there are no atomics in the hot loop. A
// thread marches groups of neighbouring rays slice by slice (march_ray_group): a column's
// voxels are a plane apart, so marching columns one by one touched a new cache line (and
// often a new page) at every voxel, while a group's voxels in a slice share them.
#pragma once

#include "cuda/ray_march.h"

namespace dosemap {

class Progress;

// Rays marched together by one CPU thread: 32 columns are 128 bytes of each float grid per
// slice (two cache lines), and 16-64 measured alike (benchmarks/RESULTS.md).
constexpr int kRaysPerGroup = 128;

// Makes a new state, its arrays fresh from BulkVector (zero: no dose, no rate), the state
// before any block: no threshold crossed (-1) in any voxel or component plane. Only the
// crossing times are written, so pages the march never writes (components where they are
// absent) are never faulted in.
void mark_nothing_crossed_cpu(const MarchParams& p, const DoseState& st, int64_t voxels, int64_t columns, int threads);

void march_rays_cpu(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                    const DoseState& st, int threads, Progress* progress);

}  // namespace dosemap
