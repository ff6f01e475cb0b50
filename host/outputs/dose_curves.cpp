#include "host/outputs/dose_curves.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "cuda/history_builder.h"
#include "host/common/errors.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {

// A voxel's dose increments in time order: per pose, the ray that crosses it, its dose per
// unit fluence there (the march's own function) and the ray's fluence per sub-exposure (the
// history builder's own footprint and cell integration).
struct DoseEvent {
  const SubExposure* sub;
  double dose_Gy;
};

std::vector<DoseEvent> voxel_dose_events(const Scene& scene, const GridGeometry& g, const std::vector<MaterialId>& material,
                                         TransportTables tables, const std::vector<SubExposure>& subs,
                                         const BeamProfile& beam, int64_t v) {
  const long long ijk[3] = {v % g.dims[0], (v / g.dims[0]) % g.dims[1], v / g.columns()};
  std::vector<DoseEvent> events;
  size_t begin = 0;
  while (begin < subs.size()) {
    size_t end = begin;
    while (end < subs.size() && subs[end].angle_deg == subs[begin].angle_deg) ++end;
    const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, subs[begin].angle_deg), g);
    tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
    const long long r = ray_of_voxel(L, ijk);
    const double G = r < 0 ? 0 : voxel_dose_per_fluence(tables.params(), L, material.data(), r, v);
    if (G > 0) {
      const long long r1 = r % L.n1, r2 = r / L.n1;
      for (size_t s = begin; s < end; ++s) {
        const ColumnRect rect = footprint(beam, L, subs[s]);
        if (r1 < rect.i0 || r1 >= rect.i1 || r2 < rect.j0 || r2 >= rect.j1) continue;
        const double f = ray_fluence_m2(beam, L, subs[s], r1, r2);
        if (f > 0) events.push_back({&subs[s], G * f});
      }
    }
    begin = end;
  }
  return events;
}

}  // namespace

std::vector<DoseCurve> most_dosed_voxel_curves(const Scene& scene, const VoxelGrid& grid, const Timeline& tl,
                                               const RunStatistics& stats, const DoseResults& r, size_t max_points) {
  const GridGeometry& g = grid.geometry;
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs =
      plan_sub_exposures(tl, beam, g, rotation_substep_deg(scene.sample.stage, beam, g));
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
    const std::vector<DoseEvent> events = voxel_dose_events(scene, g, grid.material, r.tables, subs, beam, v);
    double total = 0;
    for (const DoseEvent& e : events) total += e.dose_Gy;
    // The increments must add up to the stored dose (to the float state's rounding over the
    // poses): otherwise the ray found for the voxel is not the one the march used.
    DOSEMAP_BUG_CHECK(std::fabs(total - c.dose_Gy) <= 1e-3 * c.dose_Gy,
                      "the dose curve of " + ms.name + " adds up to " + std::to_string(total) + " Gy, not the " +
                          std::to_string(c.dose_Gy) + " Gy of its voxel");
    // Scaled so that the curve ends at the stored dose exactly.
    const size_t stride = std::max<size_t>(1, (2 * events.size() + max_points - 1) / max_points);
    c.t_s.push_back(0);
    c.curve_Gy.push_back(0);
    double cum = 0;
    for (size_t e = 0; e < events.size(); ++e) {
      const SubExposure& s = *events[e].sub;
      const double before = total > 0 ? c.dose_Gy * cum / total : 0;
      cum += events[e].dose_Gy;
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
