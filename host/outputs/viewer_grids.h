// What viewers load at real scale. A coin-cell map's full dose.vti (2 GB) took pvpython 855 s
// and 11 GB, and Blender was killed at 23 GB: a viewer needs the part of the grid that was
// dosed (`run --crop auto`, the default for dose.vti and its frames), and, when that is
// still large, a preview downsampled by a whole factor per axis. The preview keeps peaks:
// each preview voxel holds the maximum of the voxels it covers (dose, peak rate, component
// doses), the earliest crossing time, and the material of its most dosed voxel, so that a
// hot spot never disappears from the picture (a mean would dilute it by the factor cubed).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"

namespace dosemap {

// Voxels [lo, hi) per axis of a run's grid.
struct IndexBox {
  std::array<int64_t, 3> lo{}, hi{};
  int64_t extent(int a) const { return hi[a] - lo[a]; }
  int64_t voxels() const { return extent(0) * extent(1) * extent(2); }
  bool whole(const GridGeometry& g) const;
};

IndexBox whole_grid(const GridGeometry& g);

// Voxels whose dose is at least this fraction of the maximum count as dosed: the four
// decades the figures and the `density` grid show.
inline constexpr double kDosedFraction = 1e-4;

// The box of every voxel holding material with dose >= kDosedFraction x dose_max, widened
// by a margin (a tenth of its extent, at least 4 voxels) and clipped to the grid; the whole
// grid when nothing is dosed.
IndexBox dosed_region(const GridGeometry& g, const std::vector<MaterialId>& material, const float* dose_Gy,
                      double dose_max_Gy);

// Above this many voxels a region gets a preview (about 0.3 GB of dose.vti).
inline constexpr int64_t kPreviewVoxels = int64_t(1) << 23;

// The smallest whole factor f that brings the region within `limit` voxels (1: no preview).
int preview_factor(const IndexBox& box, int64_t limit = kPreviewVoxels);

// The region downsampled by `factor`: geometry (voxels f times larger, origin at the box's
// corner), and per preview voxel the material of its most dosed voxel (void when it holds
// no material) and the index of that voxel in the full grid (-1: void).
struct PreviewGrid {
  int factor = 1;
  VoxelGrid grid;
  std::vector<int64_t> hottest;  // per preview voxel: the full grid's most dosed voxel in it
};
PreviewGrid preview_grid(const GridGeometry& g, const std::vector<MaterialId>& material, const float* dose_Gy,
                         const IndexBox& box, int factor);

// Per preview voxel, a reduction of `values` over the full grid's voxels it covers that
// hold material: the maximum, or the minimum of the non-negative values (crossing times;
// -1 where none), or `missing` when it covers no material.
std::vector<float> preview_max(const PreviewGrid& p, const GridGeometry& g, const std::vector<MaterialId>& material,
                               const IndexBox& box, const float* values, float missing);
std::vector<float> preview_earliest(const PreviewGrid& p, const GridGeometry& g, const std::vector<MaterialId>& material,
                                    const IndexBox& box, const float* times_s);

}  // namespace dosemap
