#include "host/transport/transport_tables.h"

#include <cmath>

#include "host/common/text.h"
#include "host/transport/unit_conversions.h"

namespace dosemap {

MarchParams TransportTables::params() const {
  MarchParams p;
  p.nz = nz;
  p.n_lines = n_lines;
  p.line_energy_J = line_energy_J.data();
  p.n_materials = n_materials;
  p.voxel_transmission = voxel_transmission.data();
  p.voxel_mean_fluence = voxel_mean_fluence.data();
  p.deposition_m2_kg = deposition_m2_kg.data();
  p.other_fraction = other_fraction.data();
  p.density_kg_m3 = density_kg_m3.data();
  p.component_begin = component_begin.data();
  p.slot_grid = slot_grid.data();
  p.slot_deposition_m2_kg = slot_deposition_m2_kg.data();
  p.n_slots = static_cast<int>(slot_grid.size());
  p.n_component_grids = static_cast<int>(component_grid_names.size());
  p.n_thresholds = thresholds.count();
  p.threshold_Gy = thresholds.dose_Gy.data();
  p.component_threshold_Gy = component_threshold_Gy.data();
  p.column_area_m2 = column_area_m2;
  p.voxel_volume_m3 = voxel_volume_m3;
  p.n_frames = static_cast<int>(frame_time_s.size());
  p.frame_time_s = frame_time_s.data();
  return p;
}

TransportTables build_transport_tables(const MaterialTable& mt, const GridGeometry& g,
                                       const ThresholdScale& thresholds,
                                       const std::vector<double>& frame_times_s) {
  // The scene reader refuses scenes beyond these limits (so that check refuses them too).
  DOSEMAP_BUG_CHECK(mt.spectrum.size() <= static_cast<size_t>(kMaxSpectrumLines), "too many spectrum lines");
  DOSEMAP_BUG_CHECK(thresholds.count() <= kMaxThresholds, "too many thresholds");
  DOSEMAP_BUG_CHECK(thresholds.n_materials == static_cast<int>(mt.materials.size()), "thresholds of other materials");
  TransportTables t;
  t.nz = g.dims[2];
  t.n_lines = static_cast<int>(mt.spectrum.size());
  t.n_materials = static_cast<int>(mt.materials.size());
  for (const auto& l : mt.spectrum) t.line_energy_J.push_back(l.weight * l.energy_keV * kJoulePerKeV);
  for (const Material& m : mt.materials) {
    t.density_kg_m3.push_back(m.density_g_cm3 * 1000.0);
    for (const MaterialCoefficients& c : m.lines) {
      const double dep = c.deposition(mt.model);
      t.attenuation_1_m.push_back(c.mu_rho() * m.density_g_cm3 * 100.0);  // cm^2/g * g/cm^3 = 1/cm
      t.deposited_share.push_back(dep / c.mu_rho());
      t.deposition_m2_kg.push_back(dep * kM2KgPerCm2G);
    }
  }
  // Component grids: every non-void component material, in order of first appearance.
  auto grid_of = [&](const std::string& name) {
    for (size_t i = 0; i < t.component_grid_names.size(); ++i)
      if (t.component_grid_names[i] == name) return static_cast<int>(i);
    t.component_grid_names.push_back(name);
    return static_cast<int>(t.component_grid_names.size()) - 1;
  };
  for (const Material& m : mt.materials)
    for (const MaterialComponent& c : m.components)
      if (c.material >= 0) grid_of(c.name);
  DOSEMAP_BUG_CHECK(t.component_grid_names.size() <= static_cast<size_t>(kMaxComponentGrids),
                    "too many component grids");
  for (size_t mi = 0; mi < mt.materials.size(); ++mi) {
    const Material& m = mt.materials[mi];
    t.component_begin.push_back(static_cast<int>(t.slot_grid.size()));
    auto add_slot = [&](int grid, const Material& source) {
      t.slot_grid.push_back(grid);
      for (const MaterialCoefficients& c : source.lines) t.slot_deposition_m2_kg.push_back(c.deposition(mt.model) * kM2KgPerCm2G);
    };
    if (m.composite()) {
      for (const MaterialComponent& c : m.components)
        if (c.material >= 0) add_slot(grid_of(c.name), mt.materials[c.material]);
    } else {
      // A component material filling voxels alone: its dose is the voxel dose.
      for (size_t gi = 0; gi < t.component_grid_names.size(); ++gi)
        if (t.component_grid_names[gi] == m.name) add_slot(static_cast<int>(gi), m);
    }
  }
  t.component_begin.push_back(static_cast<int>(t.slot_grid.size()));
  DOSEMAP_BUG_CHECK(t.slot_grid.size() <= static_cast<size_t>(kMaxComponentSlots), "too many component slots");
  t.thresholds = thresholds;
  // A component grid is judged against its material's scale, wherever that material is.
  for (const std::string& name : t.component_grid_names) {
    const int m = mt.index(name);
    DOSEMAP_BUG_CHECK(m >= 0, "a component grid without its material");
    t.component_material.push_back(m);
    for (int l = 0; l < thresholds.count(); ++l) t.component_threshold_Gy.push_back(thresholds.at(m, l));
  }
  t.frame_time_s = frame_times_s;
  t.column_area_m2 = g.column_area_m2();
  t.voxel_volume_m3 = g.voxel_volume_cm3() * 1e-6;
  t.set_segment(g.voxel_um[2] * 1e-6, t.column_area_m2);
  return t;
}

void TransportTables::set_segment(double segment_m, double cross_section_m2) {
  segment_length_m = segment_m;
  column_area_m2 = cross_section_m2;
  voxel_transmission.resize(attenuation_1_m.size());
  voxel_mean_fluence.resize(attenuation_1_m.size());
  other_fraction.resize(attenuation_1_m.size());
  for (size_t i = 0; i < attenuation_1_m.size(); ++i) {
    const double mu_l = attenuation_1_m[i] * segment_m;
    const double absorbed = -std::expm1(-mu_l);  // 1 - exp(-mu l), exact for small mu l
    voxel_transmission[i] = std::exp(-mu_l);
    voxel_mean_fluence[i] = mu_l > 0 ? absorbed / mu_l : 1.0;
    other_fraction[i] = absorbed * (1.0 - deposited_share[i]);
  }
}

std::vector<std::vector<bool>> component_presence(const TransportTables& t) {
  std::vector<std::vector<bool>> present(t.component_grid_names.size(), std::vector<bool>(t.n_materials, false));
  for (int m = 0; m < t.n_materials; ++m)
    for (int s = t.component_begin[m]; s < t.component_begin[m + 1]; ++s) present[t.slot_grid[s]][m] = true;
  return present;
}

}  // namespace dosemap
