// Dose against time at the most dosed voxel of each material (dose_history.json, and the
// figure `dosemap plot` draws from it). A voxel's dose follows its column's fluence, so the
// curve is the final dose times the column's cumulative fluence over its total; the
// column's fluence events are recomputed from the sub-exposures with the same profile
// integration as the engine, whichever backend ran.
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
std::vector<DoseCurve> most_dosed_voxel_curves(const Scene& scene, const GridGeometry& g, const Timeline& tl,
                                               const RunStatistics& stats, const DoseResults& results,
                                               size_t max_points = 20000);

std::string dose_curves_json(const std::vector<DoseCurve>& curves);

}  // namespace dosemap
