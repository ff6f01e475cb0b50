#include "tests/engine_harness.h"

namespace dosemap::test {

std::unique_ptr<EngineRun> run_engine(const std::string& scene_text, int threads) {
  return run_engine(read_scene_text(scene_text, "engine_test.toml"), threads);
}

std::unique_ptr<EngineRun> run_engine(Scene scene, int threads, Backend backend) {
  auto r = std::make_unique<EngineRun>();
  r->scene = std::move(scene);
  r->materials = resolve_materials(r->scene);
  r->grid = voxelize(r->scene);
  r->timeline = expand_scan(r->scene);
  EngineOptions o;
  o.backend = backend;
  o.threads = threads;
  r->results = compute_dose({r->scene, r->materials, r->grid, r->timeline, frame_times(r->scene, r->timeline)}, o);
  return r;
}

std::string make_scene(const std::string& materials, const std::string& sample, const std::string& beam,
                       const std::string& scan, const std::string& extra) {
  return "format = 1\n" + materials + "\n[sample]\n" + sample + "\n[beam]\n" + beam + "\n" + scan + "\n" + extra;
}

}  // namespace dosemap::test
