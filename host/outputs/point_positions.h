// Dose at each position of the scan's `point` steps: along the beam centre's path through
// the sample (the voxel column under it when the stage is not turned), the most dosed voxel
// of every material (and component) there and when that path first reached each
// threshold. This is what compares measurement locations exposed for different times, as
// in the paper's experiment 2.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

struct PositionDose {
  std::string name;         // a material, or (component) a component of the material before it
  bool component = false;
  int scale_material = -1;  // whose thresholds apply: the material, or the component's material
  double dose_max_Gy = 0;   // most dosed voxel of it in the column
  std::vector<double> first_crossing_s;  // per threshold label: earliest voxel of it on the path; -1 never;
                                         // empty for a component on a slanted path (not known)
};

struct PointPosition {
  std::array<double, 2> at_um{};      // beam centre (lab)
  double angle_deg = 0;               // stage angle of the steps there
  std::array<int64_t, 2> column{};    // (i, j) of the column where the path enters the grid
  bool column_path = true;            // the path is that voxel column (the beam along a grid axis z)
  int64_t exposures = 0;              // point exposures there, all repetitions
  double beam_on_s = 0;               // their total duration
  std::vector<PositionDose> doses;    // materials in beam (z) order, each followed by its components
};

// The distinct (`at_um`, `angle_deg`) of point steps, in order of first exposure; positions
// whose beam centre misses the grid are left out (check warns about them).
std::vector<PointPosition> point_positions(const Scene& scene, const MaterialTable& materials, const VoxelGrid& grid,
                                           const Timeline& timeline, const DoseResults& results);

}  // namespace dosemap
