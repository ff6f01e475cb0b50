#include "tests/engine_harness.h"

namespace dosemap::test {

std::unique_ptr<EngineRun> run_engine(const std::string& scene_text, int threads) {
  return run_engine(read_scene_text(scene_text, "engine_test.toml"), threads);
}

std::unique_ptr<EngineRun> run_engine(Scene scene, int threads, Backend backend) {
  auto r = std::make_unique<EngineRun>();
  r->scene = std::move(scene);
  r->materials = resolve_materials(r->scene);
  r->timeline = expand_scan(r->scene);
  r->params = make_transport_params(r->materials, std::make_shared<const VoxelGrid>(voxelize(r->scene)), r->scene.beam,
                                    r->scene.sample.stage, threshold_scale(r->scene),
                                    frame_times(r->scene, r->timeline));
  r->grid = r->params.grid;
  EngineOptions o;
  o.backend = backend;
  o.threads = threads;
  r->results = compute_dose(r->params, r->timeline, o);
  return r;
}

std::string make_scene(const std::string& materials, const std::string& sample, const std::string& beam,
                       const std::string& scan, const std::string& extra) {
  return "format = 1\n" + materials + "\n[sample]\n" + sample + "\n[beam]\n" + beam + "\n" + scan + "\n" + extra;
}

}  // namespace dosemap::test
