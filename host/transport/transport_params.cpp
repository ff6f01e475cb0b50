#include "host/transport/transport_params.h"

#include "host/transport/exposure_plan.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

TransportParams make_transport_params(const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                                      const BeamSpec& beam, const StageSpec& stage,
                                      const ThresholdScale& thresholds,
                                      const std::vector<double>& frame_times_s) {
  TransportParams p;
  p.tables = build_transport_tables(materials, grid->geometry, thresholds, frame_times_s);
  p.grid = std::move(grid);
  p.beam_image = beam.image.intensity;  // shared with the scene, not copied
  p.beam = make_beam_profile(beam);
  p.stage = stage;
  p.turn_substep_deg = rotation_substep_deg(stage, p.beam, p.grid->geometry);
  return p;
}

}  // namespace dosemap
