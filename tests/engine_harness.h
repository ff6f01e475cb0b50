// Runs the whole pipeline in-process on a scene given as text, for tests that compare the
// engine's grids with analytic values and invariants.
#pragma once

#include <memory>
#include <string>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene_reader.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap::test {

struct EngineRun {
  Scene scene;
  MaterialTable materials;
  std::shared_ptr<const VoxelGrid> grid;  // = params.grid
  Timeline timeline;
  TransportParams params;
  DoseResults results;
  const GridGeometry& g() const { return grid->geometry; }
  float dose(int64_t i, int64_t j, int64_t k) const { return results.dose_Gy[grid->geometry.index(i, j, k)]; }
};

std::unique_ptr<EngineRun> run_engine(const std::string& scene_text, int threads = 2);
// Same, for a scene already read (and possibly changed in code).
std::unique_ptr<EngineRun> run_engine(Scene scene, int threads = 2, Backend backend = Backend::kCpu);

// NMC811 and ethylene carbonate (EC) and `cathode`, 70/30 by volume of them: the composite
// the engine tests share.
inline const std::string kCathodeMaterials = R"([materials.NMC811]
formula = "LiNi0.8Mn0.1Co0.1O2"
density_g_cm3 = 4.8
[materials.EC]
formula = "C3H4O3"
density_g_cm3 = 1.32
[materials.cathode]
components = [ { material = "NMC811", volume_fraction = 0.7 }, { material = "EC", volume_fraction = 0.3 } ]
)";

// A scene: one [materials] block + one [sample] block + the given beam and scan (tables as text).
std::string make_scene(const std::string& materials, const std::string& sample, const std::string& beam,
                       const std::string& scan, const std::string& extra = "");

}  // namespace dosemap::test
