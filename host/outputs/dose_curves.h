// Dose against time at the most dosed voxel of each material (dose_history.json, and the
// figure `dosemap plot` draws from it). At each pose the voxel's dose follows the fluence of
// the one ray that crosses it: its increments are that ray's dose per unit fluence there
// times the ray's fluence per sub-exposure, from the march's and the history builder's own
// functions (cuda/ray_march.h, cuda/ray_lattice.h), whichever backend ran.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/outputs/dose_statistics.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"

namespace dosemap {

struct DoseCurve {
  std::string material;
  std::array<int64_t, 3> voxel{};
  std::array<double, 3> position_um{};
  double dose_Gy = 0;
  std::vector<std::pair<std::string, double>> component_dose_Gy;  // composites: dose to each component there
  std::vector<double> t_s, curve_Gy;  // piecewise linear: exact at every point
};

// At most `max_points` points per curve (consecutive exposures merged beyond that).
std::vector<DoseCurve> most_dosed_voxel_curves(const Scene& scene, const VoxelGrid& grid, const Timeline& tl,
                                               const RunStatistics& stats, const DoseResults& results,
                                               size_t max_points = 20000);

std::string dose_curves_json(const std::vector<DoseCurve>& curves);

}  // namespace dosemap
