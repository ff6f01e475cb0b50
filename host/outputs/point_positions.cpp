#include "host/outputs/point_positions.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

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
  const int n_thr = static_cast<int>(tt.threshold_Gy.size());

  std::vector<PointPosition> positions;
  std::map<std::pair<double, double>, size_t> index_of;  // scripted scans may have thousands of points
  for (const Exposure& e : tl.exposures) {
    if (scene.scan.steps[e.step].kind != StepKind::kPoint) continue;
    const auto [it, added] = index_of.try_emplace({e.x0_um, e.y0_um}, positions.size());
    if (added) {
      positions.emplace_back();
      positions.back().at_um = {e.x0_um, e.y0_um};
    }
    PointPosition& p = positions[it->second];
    p.exposures++;
    p.beam_on_s += e.duration_s;
  }

  std::vector<PointPosition> inside;
  for (PointPosition& p : positions) {
    const double fi = std::floor((p.at_um[0] - g.origin_um[0]) / g.voxel_um[0]);
    const double fj = std::floor((p.at_um[1] - g.origin_um[1]) / g.voxel_um[1]);
    if (fi < 0 || fj < 0 || fi >= g.dims[0] || fj >= g.dims[1]) continue;
    p.column = {static_cast<int64_t>(fi), static_cast<int64_t>(fj)};
    const int64_t column = g.index(p.column[0], p.column[1], 0);

    // Materials in the order the beam meets them; per material, the row of each component.
    std::vector<int> order;
    std::vector<PositionDose> material_row(mt.materials.size());
    std::vector<std::vector<PositionDose>> component_rows(mt.materials.size());
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      const int64_t v = g.index(p.column[0], p.column[1], k);
      const MaterialId m = grid.material[v];
      if (m == kVoidId) continue;
      if (std::find(order.begin(), order.end(), m) == order.end()) {
        order.push_back(m);
        material_row[m].name = mt.materials[m].name;
        material_row[m].first_crossing_s.assign(n_thr, -1);
        if (mt.materials[m].composite())
          for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
            PositionDose c;
            c.name = tt.component_grid_names[tt.slot_grid[s]];
            c.component = true;
            // The march keeps each component's first crossing per column.
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
