// The flat tables the march reads (cuda/ray_march.h), built once from the materials, the
// spectrum and the thresholds. The four segment tables depend on the length of a ray's
// segment in a voxel, so on the pose: set_segment recomputes them (built for the voxel's z
// edge, the beam along +z). Owns the arrays; `params()` gives the plain view both backends
// use (the CUDA backend copies the arrays to the device and points a copy of the view at
// them).
#pragma once

#include <string>
#include <vector>

#include "cuda/ray_march.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/scene/threshold_scale.h"

namespace dosemap {

struct TransportTables {
  int64_t nz = 0;
  int n_lines = 0, n_materials = 0;
  std::vector<double> line_energy_J;
  std::vector<double> attenuation_1_m, deposited_share;  // mu (1/m) and (c/rho) / (mu/rho), [material * n_lines + line]
  std::vector<double> voxel_transmission, voxel_mean_fluence, deposition_m2_kg, other_fraction;
  std::vector<double> density_kg_m3;
  std::vector<int> component_begin, slot_grid;
  std::vector<double> slot_deposition_m2_kg;
  std::vector<std::string> component_grid_names;  // "dose:<name>" grids, in order of first use
  std::vector<int> component_material;            // [grid]: the material <name>
  ThresholdScale thresholds;                   // labels; [material * labels + label] doses
  std::vector<double> component_threshold_Gy;  // [component grid * labels + label]: its material's
  std::vector<double> frame_time_s;
  double column_area_m2 = 0, voxel_volume_m3 = 0;  // a ray's cross-section, a voxel's volume
  double segment_length_m = 0;

  // The segment tables for segments of `segment_m` metres, rays of `cross_section_m2`.
  void set_segment(double segment_m, double cross_section_m2);
  MarchParams params() const;
};

// The scene reader has refused scenes beyond the march's fixed per-thread limits.
TransportTables build_transport_tables(const MaterialTable& materials, const GridGeometry& g,
                                       const ThresholdScale& thresholds,
                                       const std::vector<double>& frame_times_s = {});

// The materials whose dose a component grid reports: the composites containing it and the
// material itself where it fills voxels alone. [grid][material] -> present.
std::vector<std::vector<bool>> component_presence(const TransportTables& t);

}  // namespace dosemap
