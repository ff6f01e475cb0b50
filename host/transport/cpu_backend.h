// The CPU backend: the shared ray march (cuda/ray_march.h) run by OpenMP threads, one owner
// per ray (each voxel holds one ray per pose), so there are no atomics in the hot loop.
#pragma once

#include "cuda/ray_march.h"

namespace dosemap {

class Progress;

// Zeroes the state of `voxels` voxels (nothing crossed, no dose) and the component planes.
void clear_state_cpu(const MarchParams& p, const DoseState& st, int64_t voxels, int64_t columns, int threads);

void march_rays_cpu(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                    const DoseState& st, int threads, Progress* progress);

}  // namespace dosemap
