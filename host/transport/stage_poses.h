// The scene's stage ([sample.stage]) as poses and ray lattices for transport: the pose of a
// stage angle, the lattice of rays at that pose, how finely a continuous rotation is cut into
// fixed poses, and the refusal of poses the march cannot do (checked when a scene is set up,
// so `check` refuses what `run` would).
#pragma once

#include <array>

#include "cuda/beam_profile.h"
#include "cuda/pose.h"
#include "cuda/ray_lattice.h"
#include "host/grid/voxel_grid.h"
#include "host/scene/scene.h"

namespace dosemap {

// The axis point: [sample.stage] center_um, or x = y = 0 at the middle of the grid's z extent.
std::array<double, 3> stage_center_um(const StageSpec& stage, const GridGeometry& g);

// The pose at stage angle `angle_deg` (the identity without a stage: the reader refuses
// angles then).
Pose stage_pose(const StageSpec& stage, const GridGeometry& g, double angle_deg);

RayLattice pose_lattice(const Pose& pose, const GridGeometry& g);

// Largest angle (degrees) a continuous rotation turns through in one sub-exposure: the
// farthest voxel from the axis moves by at most half a voxel edge (across the axis) and by at most the
// distance a fly sub-step of the beam would (so the dose rate is resolved as in fly scans).
double rotation_substep_deg(const StageSpec& stage, const BeamProfile& beam, const GridGeometry& g);

// Throws UserError at the first step with a stage angle whose pose the march cannot do (a
// tilted axis turned to an angle where the voxel's shadow is not a lab-aligned rectangle).
void check_poses(const Scene& scene, const GridGeometry& g);

// Throws UserError at the first row of a replayed log (kind = "log", unless off_grid =
// "skip") whose beam misses the sample grid entirely: a unit, sign or zero set wrong.
void check_log_positions(const Scene& scene, const BeamProfile& beam, const GridGeometry& g);

}  // namespace dosemap
