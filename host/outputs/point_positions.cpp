#include "host/outputs/point_positions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

#include "cuda/ray_march.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {

// Keeps the earliest non-negative crossing time (-1 means never).
void keep_earliest(double& first, double t) {
  if (t >= 0 && (first < 0 || t < first)) first = t;
}

}  // namespace

std::vector<PointPosition> point_positions(const Scene& scene, const MaterialTable& mt, const VoxelGrid& grid,
                                           const Timeline& tl, const DoseResults& r) {
  const GridGeometry& g = grid.geometry;
  const TransportTables& tt = r.tables;
  const int n_thr = tt.thresholds.count();

  std::vector<PointPosition> positions;
  // Scripted scans may have thousands of points: (x, y, stage angle) -> position.
  std::map<std::array<double, 3>, size_t> index_of;
  for (const Exposure& e : tl.exposures) {
    // Points written by hand, and the points of a replayed step scan.
    const ScanStep& step = scene.scan.steps[e.step];
    if (step.kind != StepKind::kPoint && !(step.kind == StepKind::kLog && !step.log->fly)) continue;
    const auto [it, added] = index_of.try_emplace({e.x0_um, e.y0_um, e.angle0_deg}, positions.size());
    if (added) {
      positions.emplace_back();
      positions.back().at_um = {e.x0_um, e.y0_um};
      positions.back().angle_deg = e.angle0_deg;
    }
    PointPosition& p = positions[it->second];
    p.exposures++;
    p.beam_on_s += e.duration_s;
  }

  std::vector<PointPosition> inside;
  for (PointPosition& p : positions) {
    // The beam centre's path at the step's pose: the ray whose cell holds it. Without a
    // turn (or turned by 180 degrees about x or y) that ray is a voxel column.
    const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, p.angle_deg), g);
    const long long r_hit = ray_at_lab_point(L, p.at_um[0], p.at_um[1]);
    if (r_hit < 0) continue;
    const bool column_path = L.dom == 2 && !L.sheared;
    long long m1, m2;
    ray_lattice_indices(L, r_hit, &m1, &m2);
    std::vector<int64_t> path;
    for (long long q = 0; q < L.n[L.dom]; ++q) {
      const int64_t v = ray_voxel(L, m1, m2, q);
      if (v >= 0) path.push_back(v);
    }
    if (path.empty()) continue;
    p.column = {path.front() % g.dims[0], (path.front() / g.dims[0]) % g.dims[1]};
    p.column_path = column_path;
    const int64_t column = path.front() % g.columns();

    // Materials in the order the beam meets them; per material, the row of each component.
    std::vector<int> order;
    std::vector<PositionDose> material_row(mt.materials.size());
    std::vector<std::vector<PositionDose>> component_rows(mt.materials.size());
    for (const int64_t v : path) {
      const MaterialId m = grid.material[v];
      if (m == kVoidId) continue;
      if (std::find(order.begin(), order.end(), m) == order.end()) {
        order.push_back(m);
        material_row[m].name = mt.materials[m].name;
        material_row[m].scale_material = m;
        material_row[m].first_crossing_s.assign(n_thr, -1);
        if (mt.materials[m].composite())
          for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
            PositionDose c;
            c.name = tt.component_grid_names[tt.slot_grid[s]];
            c.component = true;
            c.scale_material = tt.component_material[tt.slot_grid[s]];
            // The march keeps each component's first crossing per voxel column; a slanted
            // path crosses many columns, so there the time is not known (left empty).
            if (column_path)
              for (int t = 0; t < n_thr; ++t) c.first_crossing_s.push_back(r.slot_first_crossing_plane(s, t)[column]);
            component_rows[m].push_back(c);
          }
      }
      PositionDose& row = material_row[m];
      row.dose_max_Gy = std::max(row.dose_max_Gy, static_cast<double>(r.dose_Gy[v]));
      for (int t = 0; t < n_thr; ++t) keep_earliest(row.first_crossing_s[t], r.crossing(t)[v]);
      for (size_t n = 0; n < component_rows[m].size(); ++n) {
        double& d = component_rows[m][n].dose_max_Gy;
        d = std::max(d, static_cast<double>(r.component_dose(tt.slot_grid[tt.component_begin[m] + n])[v]));
      }
    }
    for (int m : order) {
      p.doses.push_back(material_row[m]);
      p.doses.insert(p.doses.end(), component_rows[m].begin(), component_rows[m].end());
    }
    inside.push_back(p);
  }
  return inside;
}

}  // namespace dosemap
