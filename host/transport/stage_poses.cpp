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
  if (s.kind == StepKind::kLog && !s.log->angle_deg.empty()) {
    // Every row's angle, and in fly mode a sample of those between (as for continuous turns).
    const std::vector<double>& a = s.log->angle_deg;
    std::vector<double> angles;
    const size_t stride = a.size() > 100000 ? a.size() / 100000 + 1 : 1;
    for (size_t r = 0; r < a.size(); r += stride) angles.push_back(a[r]);
    if (s.log->fly)
      for (size_t r = 0; r + 1 < a.size(); r += stride) angles.push_back(a[r] + 0.37 * (a[r + 1] - a[r]));
    return angles;
  }
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

void check_log_positions(const Scene& scene, const BeamProfile& beam, const GridGeometry& g) {
  for (size_t i = 0; i < scene.scan.steps.size(); ++i) {
    const ScanStep& s = scene.scan.steps[i];
    if (s.kind != StepKind::kLog || s.log_skip_off_grid) continue;
    const ScanLogRows& log = *s.log;
    double lattice_angle = log.angle(0, s.angle_deg);
    RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, lattice_angle), g);
    const int64_t n = log.rows() - (log.fly ? 1 : 0);
    for (int64_t r = 0; r < n; ++r) {
      if (!log.is_open(r)) continue;
      const int64_t r1 = log.fly ? r + 1 : r;
      if (log.angle(r, s.angle_deg) != lattice_angle) {
        lattice_angle = log.angle(r, s.angle_deg);
        L = pose_lattice(stage_pose(scene.sample.stage, g, lattice_angle), g);
      }
      SubExposure e;
      e.x0_um = log.x_um[r], e.y0_um = log.y_um[r], e.x1_um = log.x_um[r1], e.y1_um = log.y_um[r1];
      if (footprint(beam, L, e).count() > 0) continue;
      const bool csv = !log.line.empty();
      throw UserError(csv ? SourcePos{log.file, static_cast<int>(log.line[r]), 1} : s.log_file_where,
                      "[[scan.steps]] #" + std::to_string(i + 1) + " log '" + log.file + "' row " +
                          std::to_string(r + 1) + " puts the beam at (" +
                          fmt_g(log.x_um[r], 6) + ", " + fmt_g(log.y_um[r], 6) + ") um" +
                          (log.fly ? " to (" + fmt_g(log.x_um[r1], 6) + ", " + fmt_g(log.y_um[r1], 6) + ") um" : "") +
                          ", where it misses the sample grid (x " + fmt_g(g.origin_um[0], 6) + ".." +
                          fmt_g(g.origin_um[0] + g.dims[0] * g.voxel_um[0], 6) + ", y " + fmt_g(g.origin_um[1], 6) +
                          ".." + fmt_g(g.origin_um[1] + g.dims[1] * g.voxel_um[1], 6) + " um at stage angle 0)",
                      "check the x and y columns' unit, sign and zero; if the scan really left the sample, set "
                      "off_grid = \"skip\" (those rows deposit nothing in the grid)");
    }
  }
}

}  // namespace dosemap
