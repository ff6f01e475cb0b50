#include "host/grid/voxel_grid.h"

#include <algorithm>
#include <cmath>

#include "host/common/text.h"
#include "host/grid/label_grid.h"

namespace dosemap {

namespace {

// Voxel centres exactly on a shape's face fall on the half-open side [lo, hi), robust to
// rounding, so abutting shapes never both claim a voxel.
constexpr double kFaceTolerance = 1e-9;

struct IndexRange {
  int64_t begin = 0, end = 0;  // [begin, end)
  bool empty() const { return end <= begin; }
};

// Indices n whose centre c_n = origin + (n + 0.5) voxel satisfies lo <= c_n < hi.
IndexRange centres_within(double lo_um, double hi_um, double origin_um, double voxel_um, int64_t count) {
  const double eps = kFaceTolerance * voxel_um;
  const double a = (lo_um - eps - origin_um) / voxel_um - 0.5;
  const double b = (hi_um - eps - origin_um) / voxel_um - 0.5;
  IndexRange r;
  r.begin = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(a)));
  r.end = std::min<int64_t>(count, static_cast<int64_t>(std::ceil(b)));
  return r;
}

struct ShapeBounds {
  std::array<IndexRange, 3> range;
  bool empty() const { return range[0].empty() || range[1].empty() || range[2].empty(); }
};

std::array<double, 3> half_extent(const ShapeSpec& s) {
  switch (s.kind) {
    case ShapeKind::kBox: return {s.size_um[0] / 2, s.size_um[1] / 2, s.size_um[2] / 2};
    case ShapeKind::kSphere: return {s.radius_um, s.radius_um, s.radius_um};
    case ShapeKind::kCylinder: {
      std::array<double, 3> h{s.radius_um, s.radius_um, s.radius_um};
      h[s.axis] = s.length_um / 2;
      return h;
    }
  }
  return {0, 0, 0};
}

ShapeBounds bounds(const ShapeSpec& s, const GridGeometry& g) {
  ShapeBounds b;
  const auto h = half_extent(s);
  for (int a = 0; a < 3; ++a)
    b.range[a] = centres_within(s.center_um[a] - h[a], s.center_um[a] + h[a], g.origin_um[a], g.voxel_um[a], g.dims[a]);
  return b;
}

// Inside test for a voxel centre already within the shape's bounding box.
bool inside(const ShapeSpec& s, double x, double y, double z) {
  const double d[3] = {x - s.center_um[0], y - s.center_um[1], z - s.center_um[2]};
  switch (s.kind) {
    case ShapeKind::kBox: return true;
    case ShapeKind::kSphere: return d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= s.radius_um * s.radius_um;
    case ShapeKind::kCylinder: {
      double r2 = 0;
      for (int a = 0; a < 3; ++a)
        if (a != s.axis) r2 += d[a] * d[a];
      return r2 <= s.radius_um * s.radius_um;
    }
  }
  return false;
}

// Every voxel (i, j, k) whose centre the shape covers, with i and j limited to
// [i_lo, i_hi) x [j_lo, j_hi) (all columns by default).
template <typename F>
void for_each_covered(const ShapeSpec& s, const GridGeometry& g, F f, int64_t i_lo = 0, int64_t i_hi = INT64_MAX,
                      int64_t j_lo = 0, int64_t j_hi = INT64_MAX) {
  ShapeBounds b = bounds(s, g);
  b.range[0].begin = std::max(b.range[0].begin, i_lo);
  b.range[0].end = std::min(b.range[0].end, i_hi);
  b.range[1].begin = std::max(b.range[1].begin, j_lo);
  b.range[1].end = std::min(b.range[1].end, j_hi);
  if (b.empty()) return;
  for (int64_t k = b.range[2].begin; k < b.range[2].end; ++k) {
    const double z = g.center_um(2, k);
    for (int64_t j = b.range[1].begin; j < b.range[1].end; ++j) {
      const double y = g.center_um(1, j);
      for (int64_t i = b.range[0].begin; i < b.range[0].end; ++i)
        if (inside(s, g.center_um(0, i), y, z)) f(i, j, k);
    }
  }
}

std::string extent_text(const GridGeometry& g) {
  auto axis = [&](int a, const char* n) {
    return std::string(n) + " " + fmt_g(g.origin_um[a], 8) + ".." + fmt_g(g.origin_um[a] + g.dims[a] * g.voxel_um[a], 8);
  };
  return axis(0, "x") + ", " + axis(1, "y") + ", " + axis(2, "z") + " um";
}

}  // namespace

GridGeometry grid_geometry(const Scene& scene) {
  GridGeometry g;
  const SampleSpec& s = scene.sample;
  g.voxel_um = s.voxel_um;
  if (s.volume.present) {
    for (int a = 0; a < 3; ++a) g.dims[a] = s.volume.sample_dims(a);
    g.origin_um = {-0.5 * g.dims[0] * s.voxel_um[0], -0.5 * g.dims[1] * s.voxel_um[1], 0.0};
    return g;
  }
  double thickness = 0;
  for (const auto& l : s.layers) thickness += l.thickness_um;
  const double extent[3] = {s.lateral_um[0], s.lateral_um[1], thickness};
  for (int a = 0; a < 3; ++a) g.dims[a] = std::max<int64_t>(1, std::llround(extent[a] / s.voxel_um[a]));
  g.origin_um = {-0.5 * g.dims[0] * s.voxel_um[0], -0.5 * g.dims[1] * s.voxel_um[1], 0.0};
  return g;
}

std::vector<LayerExtent> layer_extents(const Scene& scene, const GridGeometry& g) {
  std::vector<LayerExtent> out;
  int64_t k = 0;
  double z = 0;
  for (const auto& l : scene.sample.layers) {
    LayerExtent e;
    e.material = scene.material_index(l.material);
    const int64_t n = std::llround(l.thickness_um / g.voxel_um[2]);
    e.k_begin = k;
    e.k_end = k + n;
    e.z0_um = z;
    e.z1_um = z + l.thickness_um;
    k = e.k_end;
    z = e.z1_um;
    out.push_back(e);
  }
  return out;
}

void validate_shapes(const Scene& scene, const GridGeometry& g) {
  Diagnostics diag;
  for (size_t n = 0; n < scene.sample.shapes.size(); ++n) {
    const ShapeSpec& s = scene.sample.shapes[n];
    const std::string who = "[[sample.shapes]] #" + std::to_string(n + 1);
    const ShapeBounds b = bounds(s, g);
    // Inside a shape's bounding box, the centre nearest to the shape's centre (per axis,
    // clamped to the box: distances are sums over axes) is inside the shape if any is.
    bool covered = false;
    if (!b.empty()) {
      double c[3];
      for (int a = 0; a < 3; ++a) {
        const double n = std::floor((s.center_um[a] - g.origin_um[a]) / g.voxel_um[a]);
        const int64_t nearest = std::clamp<int64_t>(static_cast<int64_t>(std::clamp(n, -1.0, 9e15)), b.range[a].begin,
                                                    b.range[a].end - 1);
        c[a] = g.center_um(a, nearest);
      }
      covered = inside(s, c[0], c[1], c[2]);
    }
    if (!covered) {
      diag.error(s.where, who + " (" + s.material + ") contains no voxel centre of the sample grid (" + extent_text(g) + ")",
                 "check center_um and the shape's size (micrometres; z = 0 is the upstream face), or use smaller voxels");
    }
  }
  diag.throw_if_any();
}

VoxelGrid voxelize(const Scene& scene) {
  const GridGeometry g = grid_geometry(scene);
  validate_shapes(scene, g);
  return voxelize(scene, g);
}

VoxelGrid voxelize(const Scene& scene, const GridGeometry& g) {
  DOSEMAP_BUG_CHECK(scene.materials.size() <= kVoidId, "too many materials for a 16-bit material grid");
  DOSEMAP_BUG_CHECK(g.origin_um[2] == 0, "a grid that does not start at the upstream face");
  VoxelGrid grid;
  grid.geometry = g;
  grid.material.assign(static_cast<size_t>(g.voxels()), kVoidId);
  if (scene.sample.volume.present) paint_label_volume(scene, g, grid.material);
  const int64_t layer_size = g.columns();
  for (const LayerExtent& e : layer_extents(scene, g)) {
    const MaterialId id = e.material < 0 ? kVoidId : static_cast<MaterialId>(e.material);
    const int64_t k0 = std::min(e.k_begin, g.dims[2]), k1 = std::min(e.k_end, g.dims[2]);  // a grid may stop early
    std::fill(grid.material.begin() + k0 * layer_size, grid.material.begin() + k1 * layer_size, id);
  }
  for (const ShapeSpec& s : scene.sample.shapes) {
    const int m = scene.material_index(s.material);
    const MaterialId id = m < 0 ? kVoidId : static_cast<MaterialId>(m);
    for_each_covered(s, g, [&](int64_t i, int64_t j, int64_t k) { grid.material[g.index(i, j, k)] = id; });
  }
  return grid;
}

std::array<int64_t, 4> shape_columns(const Scene& scene, const GridGeometry& g) {
  std::array<int64_t, 4> r{g.dims[0], 0, g.dims[1], 0};
  for (const ShapeSpec& s : scene.sample.shapes) {
    const ShapeBounds b = bounds(s, g);
    if (b.empty()) continue;
    r[0] = std::min(r[0], b.range[0].begin);
    r[1] = std::max(r[1], b.range[0].end);
    r[2] = std::min(r[2], b.range[1].begin);
    r[3] = std::max(r[3], b.range[1].end);
  }
  if (r[1] <= r[0] || r[3] <= r[2]) r = {0, 0, 0, 0};
  return r;
}

void row_materials(const Scene& scene, const GridGeometry& g, int64_t j, std::vector<MaterialId>& out) {
  DOSEMAP_BUG_CHECK(!scene.sample.volume.present, "a label volume's rows are read from its grid");
  const int64_t nx = g.dims[0], nz = g.dims[2];
  out.assign(static_cast<size_t>(nx * nz), kVoidId);
  for (const LayerExtent& e : layer_extents(scene, g)) {
    const MaterialId id = e.material < 0 ? kVoidId : static_cast<MaterialId>(e.material);
    for (int64_t i = 0; i < nx; ++i) std::fill(out.begin() + i * nz + e.k_begin, out.begin() + i * nz + e.k_end, id);
  }
  for (const ShapeSpec& s : scene.sample.shapes) {
    const ShapeBounds b = bounds(s, g);
    if (b.empty() || j < b.range[1].begin || j >= b.range[1].end) continue;
    const int m = scene.material_index(s.material);
    const MaterialId id = m < 0 ? kVoidId : static_cast<MaterialId>(m);
    for_each_covered(s, g, [&](int64_t i, int64_t, int64_t k) { out[i * nz + k] = id; }, 0, nx, j, j + 1);
  }
}

}  // namespace dosemap
