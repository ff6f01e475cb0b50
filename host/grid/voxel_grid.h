// The voxel grid: layers stacked along the beam (+z) from z = 0, or a label volume read from
// its file (host/grid/label_grid.h), shapes drawn over them (a voxel takes a shape's
// material when its centre is inside). Lateral extent is centred on x = y = 0. Voxel (i, j, k) is stored at ((k * ny) + j) * nx + i: x fastest, as in
// VTK image data, and so that neighbouring GPU threads (columns) touch neighbouring words.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "host/scene/scene.h"

namespace dosemap {

using MaterialId = uint16_t;
inline constexpr MaterialId kVoidId = 0xFFFF;

struct GridGeometry {
  std::array<int64_t, 3> dims{};       // nx, ny, nz
  std::array<double, 3> voxel_um{};    // edges
  std::array<double, 3> origin_um{};   // lower corner of voxel (0, 0, 0)

  int64_t columns() const { return dims[0] * dims[1]; }
  int64_t voxels() const { return columns() * dims[2]; }
  int64_t index(int64_t i, int64_t j, int64_t k) const { return (k * dims[1] + j) * dims[0] + i; }
  double center_um(int axis, int64_t n) const { return origin_um[axis] + (n + 0.5) * voxel_um[axis]; }
  double voxel_volume_cm3() const { return voxel_um[0] * voxel_um[1] * voxel_um[2] * 1e-12; }
  double column_area_m2() const { return voxel_um[0] * voxel_um[1] * 1e-12; }
};

// A layer's place in the stack.
struct LayerExtent {
  int material = -1;  // scene material index, -1 for void
  int64_t k_begin = 0, k_end = 0;
  double z0_um = 0, z1_um = 0;
};

GridGeometry grid_geometry(const Scene& scene);
std::vector<LayerExtent> layer_extents(const Scene& scene, const GridGeometry& g);

// Every shape must cover at least one voxel centre: a shape that sets nothing is a
// mistake (units, position) that would otherwise pass silently. Throws UserError.
void validate_shapes(const Scene& scene, const GridGeometry& g);

struct VoxelGrid {
  GridGeometry geometry;
  std::vector<MaterialId> material;  // scene material index per voxel, kVoidId for vacuum
};

// Builds the material grid (ids 0..65534; the reader allows at most kMaxMaterials).
VoxelGrid voxelize(const Scene& scene);
// The same sample on another grid starting at the upstream face (finer voxels over part of
// the sample, possibly stopping short of the downstream face); shapes are not validated.
VoxelGrid voxelize(const Scene& scene, const GridGeometry& g);

// The columns shapes reach: [i0, i1) x [j0, j1) as {i0, i1, j0, j1} (all zero without shapes).
std::array<int64_t, 4> shape_columns(const Scene& scene, const GridGeometry& g);
// The materials of row j, column after column: out[i * nz + k], exactly as voxelize() lays
// them out (layers, then the shapes in order), without building the grid. Layered samples
// only (a label volume is only known once read).
void row_materials(const Scene& scene, const GridGeometry& g, int64_t j, std::vector<MaterialId>& out);

}  // namespace dosemap
