#include "host/outputs/dose_curves.h"

#include <nlohmann/json.hpp>

#include "host/transport/exposure_plan.h"

namespace dosemap {

std::vector<DoseCurve> most_dosed_voxel_curves(const Scene& scene, const GridGeometry& g, const Timeline& tl,
                                               const RunStatistics& stats, const DoseResults& r, size_t max_points) {
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs = plan_sub_exposures(tl, beam, g);
  std::vector<DoseCurve> curves;
  for (const MaterialStats& ms : stats.materials) {
    if (ms.voxels == 0 || ms.dose_max_voxel < 0) continue;
    DoseCurve c;
    c.material = ms.name;
    const int64_t v = ms.dose_max_voxel;
    const int64_t i = v % g.dims[0], j = (v / g.dims[0]) % g.dims[1], k = v / g.columns();
    c.voxel = {i, j, k};
    c.position_um = {g.center_um(0, i), g.center_um(1, j), g.center_um(2, k)};
    c.dose_Gy = r.dose_Gy[v];
    for (size_t n = 0; n < ms.components.size(); ++n)
      c.component_dose_Gy.push_back({ms.components[n].name, r.component_dose(r.tables.slot_grid[ms.component_slots[n]])[v]});
    // The column's fluence per sub-exposure, in time order.
    const double x0 = g.origin_um[0] + i * g.voxel_um[0], x1 = x0 + g.voxel_um[0];
    const double y0 = g.origin_um[1] + j * g.voxel_um[1], y1 = y0 + g.voxel_um[1];
    std::vector<std::pair<const SubExposure*, double>> events;
    double total = 0;
    for (const SubExposure& s : subs) {
      const ColumnRect rect = footprint(beam, g, s);
      if (i < rect.i0 || i >= rect.i1 || j < rect.j0 || j >= rect.j1) continue;
      const double f = s.photons / g.column_area_m2() * exposure_fraction(beam, s.x0_um, s.y0_um, s.x1_um, s.y1_um, x0, x1, y0, y1);
      if (f <= 0) continue;
      events.push_back({&s, f});
      total += f;
    }
    const size_t stride = std::max<size_t>(1, (2 * events.size() + max_points - 1) / max_points);
    c.t_s.push_back(0);
    c.curve_Gy.push_back(0);
    double cum = 0;
    for (size_t e = 0; e < events.size(); ++e) {
      const SubExposure& s = *events[e].first;
      const double before = total > 0 ? c.dose_Gy * cum / total : 0;
      cum += events[e].second;
      const double after = total > 0 ? c.dose_Gy * cum / total : 0;
      if (e % stride != 0 && e + 1 != events.size()) continue;  // merged with its neighbours
      if (s.t_start_s > c.t_s.back()) {
        c.t_s.push_back(s.t_start_s);
        c.curve_Gy.push_back(before);
      }
      c.t_s.push_back(s.t_start_s + s.duration_s);
      c.curve_Gy.push_back(after);
    }
    if (tl.duration_s > c.t_s.back()) {
      c.t_s.push_back(tl.duration_s);
      c.curve_Gy.push_back(c.dose_Gy);
    }
    curves.push_back(std::move(c));
  }
  return curves;
}

std::string dose_curves_json(const std::vector<DoseCurve>& curves) {
  nlohmann::ordered_json j;
  j["description"] = "dose against time at the most dosed voxel of each material (piecewise linear between points)";
  nlohmann::ordered_json materials = nlohmann::ordered_json::object();
  for (const DoseCurve& c : curves) {
    nlohmann::ordered_json m;
    m["voxel"] = c.voxel;
    m["position_um"] = c.position_um;
    m["dose_Gy"] = c.dose_Gy;
    nlohmann::ordered_json comps = nlohmann::ordered_json::object();
    for (const auto& [name, d] : c.component_dose_Gy) comps[name] = d;
    if (!c.component_dose_Gy.empty()) m["component_dose_Gy"] = comps;
    m["t_s"] = c.t_s;
    m["dose_curve_Gy"] = c.curve_Gy;
    materials[c.material] = m;
  }
  j["materials"] = materials;
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace dosemap
