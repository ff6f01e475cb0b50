// libFuzzer target (make fuzz): any bytes as a scene file, through everything `dosemap
// check` does (read, materials, grid, shapes, scan counts and expansion, frames, plan and
// memory sizes, the report), and for small accepted scenes through the transport and its
// invariants too, as `run` would. A user mistake is a UserError and fine; anything else
// (a crash, a sanitizer report, another exception, a broken invariant, a hang) is a bug.
#include <cstdint>
#include <sstream>
#include <string>

#include "host/cli/commands.h"
#include "host/cli/scene_setup.h"
#include "host/outputs/dose_statistics.h"
#include "host/scene/scene_reader.h"
#include "host/transport/dose_engine.h"

namespace {

// Smaller than the CLI's, so that each input runs in milliseconds: the refusals are the
// same code paths, taken earlier.
dosemap::WorkLimits fuzz_limits() {
  dosemap::WorkLimits limits;
  limits.max_exposures = 20000;
  limits.max_sub_exposures = 50000;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dosemap;
  // Beside the invalid-scene corpus, so that relative beam-image paths find its CSV files.
  static const std::string path = std::string(DOSEMAP_SOURCE_DIR) + "/tests/scenes/invalid/fuzz_input.toml";
  try {
    const SceneSetup setup = set_up_scene(read_scene_text(std::string(reinterpret_cast<const char*>(data), size), path),
                                          fuzz_limits(), 1);
    std::ostringstream report;
    print_check_report(setup, report);
    if (setup.geometry.voxels() <= 20000 && setup.plan.fluence_events <= 200000) {
      const Scene& scene = setup.scene;
      const TransportParams params =
          make_transport_params(setup.materials, std::make_shared<const VoxelGrid>(voxelize(scene)), scene.beam,
                                scene.sample.stage, threshold_scale(scene), setup.frame_times_s);
      EngineOptions options;
      options.backend = Backend::kCpu;
      options.threads = 1;
      const DoseResults results = compute_dose(params, setup.timeline, options);
      check_run_invariants(results, compute_statistics(setup.materials, *params.grid, results, 1));
    }
  } catch (const UserError&) {
    // A mistake in the scene, reported with its place: what check and run do.
  }
  return 0;
}
