// What the engine needs, built once from plain structs (the resolved materials, the voxel
// grid, the beam, the stage, the thresholds and frame times), not from the TOML scene: the
// transport tables, the beam profile with its image, the stage and the grid, owned by value
// or shared_ptr so that a caller (the CLI, a test, later the Python module or a planner)
// can keep them and run the engine on several timelines.
#pragma once

#include <memory>
#include <vector>

#include "cuda/beam_profile.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

struct TransportParams {
  std::shared_ptr<const VoxelGrid> grid;
  TransportTables tables;   // per material and spectrum line; thresholds; frame times
  BeamProfile beam;         // an image profile points into *beam_image
  std::shared_ptr<const std::vector<double>> beam_image;
  StageSpec stage;          // without a stage (present = false) the sample never turns
  double turn_substep_deg = 360;  // continuous rotations are cut into steps of at most this

  const GridGeometry& geometry() const { return grid->geometry; }
};

TransportParams make_transport_params(const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                                      const BeamSpec& beam, const StageSpec& stage,
                                      const ThresholdScale& thresholds,
                                      const std::vector<double>& frame_times_s = {});

}  // namespace dosemap
