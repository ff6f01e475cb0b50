// What transport works on: the timeline's exposures with every fly segment cut into
// sub-exposures short enough that the dose rate inside each is resolved (peak rate within
// 1 %), every continuous rotation cut into sub-exposures at fixed angles
// (rotation_substep_deg), and for each the rectangle of rays its beam can reach.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/ray_lattice.h"
#include "cuda/sub_exposure.h"
#include "host/grid/voxel_grid.h"
#include "host/scene/scene.h"
#include "host/scene/scene_limits.h"
#include "host/timeline/timeline.h"

namespace dosemap {

// Rays (columns for a beam along z) [i0, i1) x [j0, j1) (clipped to the lattice; empty
// when the beam misses the grid).
struct ColumnRect {
  int64_t i0 = 0, i1 = 0, j0 = 0, j1 = 0;
  int64_t count() const { return (i1 > i0 && j1 > j0) ? (i1 - i0) * (j1 - j0) : 0; }
};

// The beam profile of the scene as the shared transport code sees it. For an image
// profile the returned struct points into `*beam.image.intensity`, which must outlive it
// (TransportParams keeps a share of it).
BeamProfile make_beam_profile(const BeamSpec& beam);

// Length (um) of a fly sub-step moving along the unit direction (ux, uy): short enough that
// the largest mean rate over a sub-step is within 1 % of the peak rate for a Gaussian
// (0.2 sigma along the path) and an axis-aligned top-hat (a sub-step fits twice in the
// plateau, or 1 % of the ramp), at most 1/8 of the beam's length along the path, and at
// most half a pixel (images).
double fly_substep_um(const BeamProfile& beam, const GridGeometry& g, double ux, double uy);

// Number of sub-exposures an exposure becomes (1 for a static one); a turning exposure is
// cut into steps of at most turn_substep_deg (stage_poses.h: rotation_substep_deg); saturates.
int64_t substeps_of(const Exposure& e, const BeamProfile& beam, const GridGeometry& g, double turn_substep_deg);

// The number of sub-exposures the scan becomes, from the scene alone (nothing expanded):
// fly segments and continuous rotations cut into sub-steps, one for every static
// exposure; saturates.
int64_t count_sub_exposures(const ScanSpec& scan, const BeamProfile& beam, const GridGeometry& g,
                            double turn_substep_deg);

// Throws UserError (at the step with the most sub-steps) when the scan would become more
// than limits.max_sub_exposures sub-exposures.
void check_sub_exposures(const Scene& scene, const BeamProfile& beam, const GridGeometry& g, double turn_substep_deg,
                         const WorkLimits& limits);

std::vector<SubExposure> plan_sub_exposures(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g,
                                            double turn_substep_deg);

// A run of sub-exposures [begin, end) at one stage angle: what one march adds to the state.
struct PoseBlock {
  size_t begin = 0, end = 0;
  double angle_deg = 0;
};
std::vector<PoseBlock> pose_blocks(const std::vector<SubExposure>& subs);

ColumnRect footprint(const BeamProfile& beam, const RayLattice& L, const SubExposure& s);
// The footprint on the columns of the grid (the rays of a beam along +z).
ColumnRect footprint(const BeamProfile& beam, const GridGeometry& g, const SubExposure& s);

// Totals for planning memory without building the plan.
struct PlanSize {
  int64_t sub_exposures = 0;
  int64_t fluence_events = 0;  // (ray, sub-exposure) pairs inside footprints
  int64_t max_pose_events = 0; // of them in one block (the histories are built block by block)
  int64_t max_rays = 0;        // rays of the largest pose's lattice
  int64_t poses = 0;           // runs of sub-exposures at one stage angle (the march's blocks)
};
PlanSize plan_size(const Timeline& tl, const BeamProfile& beam, const GridGeometry& g, const StageSpec& stage,
                   double turn_substep_deg);

}  // namespace dosemap
