#include "host/cli/scene_setup.h"

#include <algorithm>
#include <cmath>

#include "host/common/text.h"
#include "host/scene/scene_reader.h"
#include "host/transport/dose_bounds.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

SceneSetup set_up_scene(const std::string& scene_path, const WorkLimits& limits, int threads) {
  return set_up_scene(read_scene(scene_path), limits, threads);
}

SceneSetup set_up_scene(Scene scene, const WorkLimits& limits, int threads) {
  SceneSetup s;
  s.scene = std::move(scene);
  s.materials = resolve_materials(s.scene);
  s.geometry = grid_geometry(s.scene);
  validate_shapes(s.scene, s.geometry);
  s.beam = make_beam_profile(s.scene.beam);
  check_poses(s.scene, s.geometry);
  check_log_positions(s.scene, s.beam, s.geometry);
  s.turn_substep_deg = rotation_substep_deg(s.scene.sample.stage, s.beam, s.geometry);
  // Counted from the scene before anything is expanded: exposures, then sub-steps.
  check_exposure_count(s.scene.scan, limits);
  check_sub_exposures(s.scene, s.beam, s.geometry, s.turn_substep_deg, limits);
  s.timeline = expand_scan(s.scene, limits);
  s.frame_times_s = frame_times(s.scene, s.timeline);
  check_dose_bounds(s.scene, dose_bounds(s.scene, s.materials, s.geometry, s.timeline), s.timeline);
  s.plan = plan_size(s.timeline, s.beam, s.geometry, s.scene.sample.stage, s.turn_substep_deg);
  s.memory = estimate_run_memory(s.scene, s.materials, s.geometry, s.timeline, s.plan, s.frame_times_s.size(), threads);
  return s;
}

std::optional<MemoryShortfall> memory_shortfall(const SceneSetup& s) {
  const GridGeometry& g = s.geometry;
  const double available = available_memory_bytes(), peak = s.memory.peak_bytes();
  if (available <= 0 || peak <= 0.9 * available) return std::nullopt;
  // Most of the need scales with the number of columns: coarsen x and y by the smallest
  // factor n that fits and keeps the lateral extent a whole number of voxels.
  const int64_t n_min = static_cast<int64_t>(std::ceil(std::sqrt(peak / (0.9 * available))));
  MemoryShortfall m;
  m.what = "the run needs about " + human_bytes(peak) + " of memory (" + group_digits(g.voxels()) + " voxels x " +
           std::to_string(s.memory.result_grids) + " grids) but only " + human_bytes(available) + " is available";
  if (s.scene.sample.volume.present) {
    // A volume's voxels are its file's: the user bins the file.
    m.fix = "bin the label volume about " + std::to_string(n_min) + " times in x and y (and scale voxel_um to match), "
            "or crop it to the region the beam reaches";
    return m;
  }
  m.fix = "use voxels about " + std::to_string(n_min) + " times larger in x and y, or a smaller lateral_um";
  for (int64_t n = std::max<int64_t>(2, n_min); n <= std::min(g.dims[0], g.dims[1]); ++n) {
    if (g.dims[0] % n || g.dims[1] % n) continue;
    m.fix = "use voxel_um = [" + fmt_g(g.voxel_um[0] * n, 6) + ", " + fmt_g(g.voxel_um[1] * n, 6) + ", " +
            fmt_g(g.voxel_um[2], 6) + "] (about " + human_bytes(peak / (double(n) * n)) + "), or a smaller lateral_um";
    break;
  }
  return m;
}

void refuse_if_short_of_memory(const SceneSetup& s) {
  if (const auto m = memory_shortfall(s)) throw UserError(s.scene.sample.voxel_where, m->what, m->fix);
}

}  // namespace dosemap
