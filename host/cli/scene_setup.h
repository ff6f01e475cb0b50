// The front of the pipeline, shared by `check` and `run` so that a scene `check` accepts is
// exactly a scene `run` accepts: read, resolve materials, lay out the grid, validate shapes,
// expand the scan and size the run. Nothing is voxelized or written here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/run_memory.h"

namespace dosemap {

struct SceneSetup {
  Scene scene;
  MaterialTable materials;
  GridGeometry geometry;
  Timeline timeline;
  std::vector<double> frame_times_s;  // [output] frames, in scan time
  BeamProfile beam;
  double turn_substep_deg = 360;  // continuous rotations are cut into steps of at most this
  PlanSize plan;
  RunMemory memory;  // the run's estimated peak need
};

// Throws UserError (file:line:col) for any mistake in the scene. Every count that grows
// with the scan is checked against `limits` before the scan is expanded. `threads`: the
// run's CPU threads (0: every core), for the memory estimate.
SceneSetup set_up_scene(const std::string& scene_path, const WorkLimits& limits = {}, int threads = 0);
// The same for a scene already read (the fuzzer reads scenes from memory).
SceneSetup set_up_scene(Scene scene, const WorkLimits& limits = {}, int threads = 0);

// Set when the run's estimated peak memory exceeds 90 % of what is available: what is wrong
// (the estimate and what is available) and a lateral voxel size that would fit.
struct MemoryShortfall {
  std::string what, fix;
};
std::optional<MemoryShortfall> memory_shortfall(const SceneSetup& s);
// Throws UserError (at voxel_um) for a run that would not fit in memory: `run` and `check`
// both refuse such a scene, before anything else.
void refuse_if_short_of_memory(const SceneSetup& s);

}  // namespace dosemap
