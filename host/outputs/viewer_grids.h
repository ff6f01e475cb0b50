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

#include "host/common/bulk_vector.h"
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

// What a preview reduces: the run's dose, and optionally its peak rate and crossing times.
struct PreviewSources {
  const float* dose_Gy = nullptr;
  const float* rate_peak_Gy_s = nullptr;    // null: no peak-rate preview
  std::vector<const float*> crossing_s;     // [threshold]: -1 where never reached
};

// The region downsampled by `factor`: geometry (voxels f times larger, origin at the box's
// corner), and per preview voxel, over the full grid's voxels it covers that hold material:
// the most dosed one (its index, -1 when it covers none; its material, void then; its dose),
// the largest peak rate and, per threshold, the earliest crossing (-1 where none). Dose and
// peak rate are 0 where it covers no material. One pass over the region; the arrays are
// BulkVectors (huge pages: a preview of a large run is tens of MB of fresh memory).
struct PreviewGrid {
  int factor = 1;
  VoxelGrid grid;
  BulkVector<int64_t> hottest;                // the full grid's most dosed voxel in it
  BulkVector<float> dose_Gy;                  // the dose of that voxel: the maximum
  BulkVector<float> rate_peak_Gy_s;           // empty when not asked for
  std::vector<BulkVector<float>> earliest_s;  // [threshold]
};
PreviewGrid preview_grid(const GridGeometry& g, const std::vector<MaterialId>& material, const IndexBox& box,
                         int factor, const PreviewSources& sources);

}  // namespace dosemap
