#include "host/transport/stage_poses.h"

#include <algorithm>
#include <cmath>

#include "host/common/text.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

std::array<double, 3> stage_center_um(const StageSpec& stage, const GridGeometry& g) {
  if (stage.has_center) return stage.center_um;
  return {0.0, 0.0, g.origin_um[2] + 0.5 * g.dims[2] * g.voxel_um[2]};
}

Pose stage_pose(const StageSpec& stage, const GridGeometry& g, double angle_deg) {
  const std::array<double, 3> c = stage_center_um(stage, g);
  if (!stage.present) return make_pose(1, 0.0, 0.0, c.data());
  return make_pose(stage.axis, angle_deg, stage.tilt_deg, c.data());
}

RayLattice pose_lattice(const Pose& pose, const GridGeometry& g) {
  const long long dims[3] = {g.dims[0], g.dims[1], g.dims[2]};
  return make_ray_lattice(pose, dims, g.voxel_um.data(), g.origin_um.data());
}

double rotation_substep_deg(const StageSpec& stage, const BeamProfile& beam, const GridGeometry& g) {
  // Distance of the farthest grid corner from the axis (sample frame: the axis is the stage
  // axis through the centre; the tilt turns the axis and the sample together).
  const std::array<double, 3> c = stage_center_um(stage, g);
  double radius = 0;
  for (int corner = 0; corner < 8; ++corner) {
    double p[3];
    for (int a = 0; a < 3; ++a) p[a] = g.origin_um[a] + ((corner >> a) & 1) * g.dims[a] * g.voxel_um[a] - c[a];
    p[stage.axis] = 0;
    radius = std::max(radius, std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]));
  }
  // Voxels move in the plane across the axis: the edges in that plane.
  const double edge = std::min(g.voxel_um[(stage.axis + 1) % 3], g.voxel_um[(stage.axis + 2) % 3]);
  const double along = std::min(0.5 * edge, std::min(fly_substep_um(beam, g, 1, 0), fly_substep_um(beam, g, 0, 1)));
  if (radius <= 0) return 360.0;
  return std::min(360.0, along / radius * 57.29577951308232);
}

namespace {

// The angles a step holds the stage at (a sample of them for continuous and very long runs).
std::vector<double> step_angles(const ScanStep& s) {
  if (s.kind != StepKind::kRotate && s.kind != StepKind::kXrdct) return {s.angle_deg};
  std::vector<double> angles;
  const double span = s.to_deg - s.from_deg;
  const double n_steps = s.continuous ? 0 : std::floor(std::fabs(span) / s.step_deg + 1e-9);
  if (!s.continuous && n_steps <= 100000) {
    for (double k = 0; k <= n_steps; ++k) angles.push_back(s.from_deg + (span >= 0 ? 1 : -1) * s.step_deg * k);
    return angles;
  }
  // The condition is smooth in the angle: zero everywhere or at isolated angles.
  for (int k = 0; k <= 64; ++k) angles.push_back(s.from_deg + span * (k + 0.37) / 65.0);
  return angles;
}

}  // namespace

void check_poses(const Scene& scene, const GridGeometry& g) {
  const StageSpec& stage = scene.sample.stage;
  if (!stage.present) return;
  for (size_t i = 0; i < scene.scan.steps.size(); ++i) {
    const ScanStep& s = scene.scan.steps[i];
    if (s.kind == StepKind::kWait) continue;
    for (double angle : step_angles(s)) {
      const RayLattice L = pose_lattice(stage_pose(stage, g, angle), g);
      if (pose_is_supported(L)) continue;
      const char* axis = stage.axis == 0 ? "x" : stage.axis == 1 ? "y" : "z";
      const bool turns = s.kind == StepKind::kRotate || s.kind == StepKind::kXrdct;
      throw UserError(turns ? s.where : s.angle_where,
                      "[[scan.steps]] #" + std::to_string(i + 1) + " (" + step_kind_name(s.kind) +
                          ") turns the stage (axis " + axis + ", tilt_deg = " + fmt_g(stage.tilt_deg, 8) + ") to " +
                          fmt_g(angle, 8) +
                          " degrees, a pose where a voxel's shadow across the beam is a slanted parallelogram; "
                          "dosemap cannot integrate the beam over it yet",
                      stage.axis == 2 ? "use equal x and y voxel edges (voxel_um) for rotations about z"
                                      : "untilt the axis (tilt_deg = 0), or turn it only by whole multiples of 90 "
                                        "degrees while tilted");
    }
  }
}

}  // namespace dosemap
