// Per step and per point scales of a scan that turns the sample (several stage angles), the
// part of the inverse dose (host/plan/inverse_dose.h) the one-pose ray form cannot give. A
// voxel's dose is then D_v = sum over angles of G_v(angle) F_r(v, angle), and scaling one
// step or point by s adds (s - 1) A_v, A_v its own dose, so the limit holds while
//   s <= 1 + (limit - D_v) / A_v   for every limited voxel it doses.
// - A point at one angle (a raster or rotation angle, an xrdct point or fly line, a point
//   step held at an angle_deg): A_v = G_v(angle) F_r,p, so on each ray of that angle the
//   bound is 1 + min_v ((limit - D_v) / G_v) / F_r,p: one pass per angle over the rays it
//   lights, with that angle's dose per unit fluence (cuda/ray_march.h).
// - A step, and a point that turns (a continuous rotation): A_v is the dose of its own
//   exposures, a run of the engine on them alone.
#pragma once

#include <memory>
#include <vector>

#include "host/plan/inverse_dose.h"

namespace dosemap {

// Fills steps[s] and points[p] (as built by inverse_dose: step, point, beam_on_s set; scale
// +inf) for a scan whose timeline holds several stage angles; point_of maps each exposure to
// its point. D_v from `run`, a run of `scene` as written.
void turned_scan_scales(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                        const Timeline& timeline, const DoseResults& run, const std::vector<DoseLimit>& limits,
                        const std::vector<int32_t>& point_of, int threads, std::vector<ExposureScale>& steps,
                        std::vector<ExposureScale>& points);

}  // namespace dosemap
