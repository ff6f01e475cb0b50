// Voxelization: layers in beam order, shapes drawn over them by voxel centre.
#include <gtest/gtest.h>

#include <cmath>

#include "host/grid/voxel_grid.h"
#include "host/scene/scene_reader.h"

namespace dosemap {
namespace {

Scene scene_with(const std::string& sample) {
  return read_scene_text(R"(format = 1
[materials.a]
formula = "Al"
[materials.b]
formula = "Cu"
)" + sample + R"(
[beam]
energy_keV = 27
flux_ph_s = 1e10
profile = "tophat"
size_um = [10.0, 10.0]
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1
)",
                         "g.toml");
}

int64_t count(const VoxelGrid& g, MaterialId id) {
  return std::count(g.material.begin(), g.material.end(), id);
}

const std::string kLayers = R"(
[sample]
voxel_um = [2.0, 4.0, 0.5]
lateral_um = [40.0, 20.0]
[[sample.layers]]
material = "a"
thickness_um = 3.0
[[sample.layers]]
material = "void"
thickness_um = 1.0
[[sample.layers]]
material = "b"
thickness_um = 2.0
)";

TEST(VoxelGrid, StacksLayersInBeamOrderCentredLaterally) {
  const VoxelGrid g = voxelize(scene_with(kLayers));
  const GridGeometry& geo = g.geometry;
  EXPECT_EQ(geo.dims[0], 20);
  EXPECT_EQ(geo.dims[1], 5);
  EXPECT_EQ(geo.dims[2], 12);
  EXPECT_DOUBLE_EQ(geo.origin_um[0], -20.0);
  EXPECT_DOUBLE_EQ(geo.origin_um[1], -10.0);
  EXPECT_DOUBLE_EQ(geo.origin_um[2], 0.0);
  for (int64_t k = 0; k < 12; ++k) {
    const MaterialId want = k < 6 ? 0 : k < 8 ? kVoidId : 1;
    EXPECT_EQ(g.material[geo.index(7, 3, k)], want) << k;
  }
  EXPECT_EQ(count(g, 0), 20 * 5 * 6);
  const auto ext = layer_extents(scene_with(kLayers), geo);
  ASSERT_EQ(ext.size(), 3u);
  EXPECT_EQ(ext[2].k_begin, 8);
  EXPECT_EQ(ext[2].k_end, 12);
  EXPECT_EQ(ext[1].material, -1);
  EXPECT_DOUBLE_EQ(ext[2].z0_um, 4.0);
}

TEST(VoxelGrid, StoresXFastestThenYThenZ) {
  GridGeometry g;
  g.dims = {3, 4, 5};
  EXPECT_EQ(g.index(1, 0, 0), 1);
  EXPECT_EQ(g.index(0, 1, 0), 3);
  EXPECT_EQ(g.index(0, 0, 1), 12);
}

const std::string kBlock = R"(
[sample]
voxel_um = [1.0, 1.0, 1.0]
lateral_um = [60.0, 60.0]
[[sample.layers]]
material = "a"
thickness_um = 60.0
)";

TEST(VoxelGrid, BoxSetsExactlyTheVoxelCentresInside) {
  const VoxelGrid g = voxelize(scene_with(kBlock + R"(
[[sample.shapes]]
kind = "box"
material = "b"
center_um = [0.0, 0.0, 30.0]
size_um = [10.0, 6.0, 4.0]
)"));
  EXPECT_EQ(count(g, 1), 10 * 6 * 4);
}

TEST(VoxelGrid, AbuttingBoxesShareNoVoxelAndLeaveNoGap) {
  // Faces on voxel centres: half-open [lo, hi) gives each centre to exactly one box.
  const VoxelGrid g = voxelize(scene_with(kBlock + R"(
[[sample.shapes]]
kind = "box"
material = "b"
center_um = [-2.5, 0.5, 30.5]
size_um = [5.0, 5.0, 5.0]
[[sample.shapes]]
kind = "box"
material = "void"
center_um = [2.5, 0.5, 30.5]
size_um = [5.0, 5.0, 5.0]
)"));
  // Voxel centres at x = -4.5..-0.5 (5 centres, lo = -5 inclusive, hi = 0 exclusive).
  EXPECT_EQ(count(g, 1), 5 * 5 * 5);
  EXPECT_EQ(count(g, kVoidId), 5 * 5 * 5);
}

TEST(VoxelGrid, SphereAndCylinderVolumesConvergeToTheirGeometry) {
  const VoxelGrid s = voxelize(scene_with(kBlock + R"(
[[sample.shapes]]
kind = "sphere"
material = "b"
center_um = [0.0, 0.0, 30.0]
radius_um = 20.0
)"));
  const double sphere = 4.0 / 3.0 * M_PI * 20 * 20 * 20;
  EXPECT_NEAR(count(s, 1), sphere, 0.01 * sphere);
  const VoxelGrid c = voxelize(scene_with(kBlock + R"(
[[sample.shapes]]
kind = "cylinder"
material = "b"
center_um = [0.0, 0.0, 30.0]
radius_um = 15.0
length_um = 40.0
axis = "x"
)"));
  const double cyl = M_PI * 15 * 15 * 40;
  // A disc of radius 15 voxels holds pi r^2 lattice points to about the perimeter's order.
  EXPECT_NEAR(count(c, 1), cyl, 0.02 * cyl);
  // The axis is x: the cylinder's extent in x is its length.
  const GridGeometry& geo = c.geometry;
  EXPECT_EQ(c.material[geo.index(30 - 19, 30, 30)], 1);  // x = -18.5, on the axis
  EXPECT_EQ(c.material[geo.index(30 - 21, 30, 30)], 0);  // x = -20.5: beyond the end cap
}

TEST(VoxelGrid, LaterShapesDrawOverEarlierOnes) {
  const VoxelGrid g = voxelize(scene_with(kBlock + R"(
[[sample.shapes]]
kind = "box"
material = "b"
center_um = [0.0, 0.0, 30.0]
size_um = [20.0, 20.0, 20.0]
[[sample.shapes]]
kind = "sphere"
material = "void"
center_um = [0.0, 0.0, 30.0]
radius_um = 5.0
)"));
  const GridGeometry& geo = g.geometry;
  EXPECT_EQ(g.material[geo.index(30, 30, 30)], kVoidId);
  EXPECT_EQ(g.material[geo.index(30 + 8, 30, 30)], 1);
}

TEST(VoxelGrid, OneRowsMaterialsAreTheGridsRow) {
  const Scene scene = scene_with(kBlock + R"(
[[sample.shapes]]
kind = "cylinder"
material = "b"
center_um = [3.0, -2.0, 25.0]
radius_um = 12.0
length_um = 30.0
axis = "y"
[[sample.shapes]]
kind = "sphere"
material = "void"
center_um = [-4.0, 5.0, 30.0]
radius_um = 9.0
)");
  const VoxelGrid g = voxelize(scene);
  const GridGeometry& geo = g.geometry;
  const auto reach = shape_columns(scene, geo);
  EXPECT_LT(reach[0], reach[1]);
  EXPECT_LT(reach[2], reach[3]);
  std::vector<MaterialId> row;
  int differing = 0;  // columns where the shapes change something: the test means something
  const int64_t nz = geo.dims[2];
  for (int64_t j = 0; j < geo.dims[1]; ++j) {
    row_materials(scene, geo, j, row);
    ASSERT_EQ(row.size(), static_cast<size_t>(geo.dims[0] * nz));
    for (int64_t i = 0; i < geo.dims[0]; ++i) {
      bool shaped = false;
      for (int64_t k = 0; k < nz; ++k) {
        ASSERT_EQ(row[i * nz + k], g.material[geo.index(i, j, k)]) << i << ", " << j << ", " << k;
        shaped |= row[i * nz + k] != g.material[geo.index(0, 0, k)];
      }
      differing += shaped;
      if (shaped) {
        EXPECT_TRUE(i >= reach[0] && i < reach[1] && j >= reach[2] && j < reach[3]) << i << ", " << j;
      }
    }
  }
  EXPECT_GT(differing, 100);
}

TEST(VoxelGrid, ShapeCoveringNoVoxelCentreIsAnError) {
  // Outside the grid, e.g. millimetres written where micrometres were meant.
  const Scene outside = scene_with(kBlock + R"(
[[sample.shapes]]
kind = "box"
material = "b"
center_um = [500.0, 0.0, 30.0]
size_um = [10.0, 10.0, 10.0]
)");
  EXPECT_THROW(voxelize(outside), UserError);
  // Thinner than a voxel, between two centres.
  const Scene thin = scene_with(kBlock + R"(
[[sample.shapes]]
kind = "box"
material = "b"
center_um = [0.0, 0.0, 30.0]
size_um = [10.0, 10.0, 0.2]
)");
  try {
    validate_shapes(thin, grid_geometry(thin));
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("contains no voxel centre"), std::string::npos);
  }
}

}  // namespace
}  // namespace dosemap
