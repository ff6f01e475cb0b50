// How far the peak dose is from converged in the voxel size (`dosemap run --convergence`,
// docs/physics.md "Voxel size"). A voxel holds the mean dose over its volume, so a beam or a
// layer that spans few voxels has its peak averaged away: a 5 um beam on 5 um voxels
// reported a third of the peak that 1 um voxels give. The estimate runs the scan again on
// voxels halved along every axis, over the hottest region only: the columns the beam
// reaches around the most dosed voxel, from the upstream face to just below it. With the
// beam along z every voxel column is transported on its own, so that region's doses are
// exactly those a whole run on halved voxels would give there.
//
// Halving a voxel splits it into eight whose mean is the coarse voxel's dose (same
// material), so the halved peak is at least the coarse one. If the error shrinks at least
// in proportion to the voxel edge, the converged peak lies within [halved, halved +
// (halved - coarse)] (a Richardson bound for first-order convergence; a smooth peak
// converges faster, with the edge squared).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

struct MaterialConvergence {
  std::string name;
  double dose_max_Gy = 0;         // the material's peak in the region on the run's voxels
  double halved_dose_max_Gy = 0;  // on halved voxels
  double low_Gy = 0, high_Gy = 0; // where the converged peak likely lies
};

struct PeakConvergence {
  // The region, in the run's voxel indices: columns [i0, i1) x [j0, j1), depth [0, k1).
  int64_t i0 = 0, i1 = 0, j0 = 0, j1 = 0, k1 = 0;
  GridGeometry halved;  // the region on halved voxels
  double seconds = 0;
  std::vector<MaterialConvergence> materials;  // those in the region with dose, scene order
};

// The halved voxels of the region must fit in this many voxels (about 0.7 GB of results
// beside the run's own; the region narrows to the beam's centre columns first).
inline constexpr int64_t kMaxHalvedVoxels = int64_t(1) << 24;

// Why the estimate cannot be made, at the scene's key that causes it, or nothing: the scan
// turns or tilts the sample (rays then cross the region's sides, so a region alone is not
// exact), or even the narrowest region, down to the downstream face, would exceed
// kMaxHalvedVoxels. Known before the run, so that `run --convergence` refuses before
// computing anything.
std::optional<Diagnostic> convergence_not_possible(const Scene& scene, const Timeline& timeline, const GridGeometry& g);

// Runs the halved region around `hottest_voxel` (the run's most dosed voxel) on the backend
// that computed `results`. Throws UserError when even the narrowest region would exceed
// kMaxHalvedVoxels.
PeakConvergence estimate_peak_convergence(const Scene& scene, const MaterialTable& materials, const VoxelGrid& grid,
                                          const Timeline& timeline, const DoseResults& results, int64_t hottest_voxel,
                                          const EngineOptions& options);

}  // namespace dosemap
