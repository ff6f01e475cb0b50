// Dwell optimisation (`dosemap plan --optimize dwell`, issue 12 part 2): a dwell time per
// point of every raster and point step, as a linear programme solved by COIN-OR Clp.
//
// Variables: d_p, the factor on point p's beam-on time (the same in every repetition; the
// scene as written is d = 1). At one stage pose every voxel of a ray gets D_v = G_v F_r with
// F_r = sum_p F_{r,p} d_p + F_r^fixed (the ray's fluence from each point, and from the steps
// not optimised: fly lines, with d fixed at 1), so the voxel of a limited material that binds
// first on a ray is the one of largest G per limit, and each ray gives one constraint:
//   sum_p F_{r,p} d_p <= min_k limit_k / (phi G_k,max) - F_r^fixed
// (phi the flux factor of a rate limit). That is exact, not a sampling of the voxels: 1e4
// points over 1e7 voxels give at most one row per ray. Rows of one variable become bounds.
// Objective, lexicographic: first the largest t with d_p >= t for every p (in closed form:
// the d all equal to t is feasible exactly when t * row sum <= rhs on every row, and any
// feasible d has A d >= (min d) * row sums since A >= 0), then the largest total beam-on time
// sum_p beam_on_p d_p with d_p >= t. d_p <= max_scale keeps points that light no limited
// voxel finite; a scan with a period keeps its repetitions within it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/plan/limited_rays.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

struct DwellPoint {
  ScanPoint at;
  double scale = 1;  // the planned factor on its beam-on time
  // What stops it growing: "limit" (binding_limit, binding_voxel), "max_scale", "period".
  std::string bound_by;
  int binding_limit = -1;
  int64_t binding_voxel = -1;
};

struct DwellLp {
  int64_t rows = 0, columns = 0, nonzeros = 0;
  int64_t rows_as_bounds = 0;  // rows of one point, turned into that point's bound
  double build_s = 0, solve_s = 0;
  std::string solver;  // "COIN-OR Clp <version>"
};

struct DwellPlan {
  std::string not_plannable;  // empty when the plan below holds
  double flux_factor = 1;     // phi: the planned flux over the scene's
  double max_scale = 0;       // the cap on d_p
  double min_scale = 0;       // t: the smallest factor, every point at least this
  double beam_on_s = 0;       // planned beam-on of the optimised points, all repetitions
  double scene_beam_on_s = 0; // theirs as written
  double fixed_beam_on_s = 0; // of the steps not optimised
  std::vector<DwellPoint> points;  // the optimised points, in scan order
  std::vector<int32_t> point_of;   // per exposure: index into points, -1 for a fixed step
  DwellLp lp;
};

// Throws UserError (at --optimize dwell) when the scan turns the sample or has no raster or
// point step: checked before the run.
void check_dwell_optimizable(const Scene& scene, const Timeline& timeline);

// `run` is a run of `scene` as written (flux unscaled). A plan that cannot exist (the fixed steps alone
// pass a limit) comes back with not_plannable said.
DwellPlan plan_dwell(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                     const Timeline& timeline, const DoseResults& run, const std::vector<DoseLimit>& limits,
                     double flux_factor, double max_scale, int threads);

}  // namespace dosemap
