#include "host/transport/run_memory.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace dosemap {

namespace {
// Bytes per stored fluence event (32-bit sub-exposure index + double cumulative fluence)
// and per planned sub-exposure.
constexpr double kEventBytes = 12;
constexpr double kSubExposureBytes = sizeof(SubExposure);
// A sparse VDB float grid over dense active voxels: values plus leaf masks and nodes.
constexpr double kVdbOverhead = 1.1;
}  // namespace

int component_grid_count(const Scene& scene) {
  std::set<std::string> names;
  for (const auto& m : scene.materials)
    for (const auto& c : m.components)
      if (c.material != kVoidMaterial) names.insert(c.material);
  return static_cast<int>(names.size());
}

RunMemory estimate_run_memory(const Scene& scene, const GridGeometry& g, const PlanSize& plan, size_t frames) {
  RunMemory m;
  const double voxels = static_cast<double>(g.voxels());
  m.result_grids = 3 + static_cast<int>(scene.output.thresholds.size()) + component_grid_count(scene);
  m.material_bytes = voxels * sizeof(MaterialId);
  // Per column besides: the earliest crossing of each (material, component) pair and the
  // fluence share at each frame time.
  int slots = 0;
  for (const auto& mat : scene.materials)
    for (const auto& c : mat.components) slots += c.material != kVoidMaterial;
  m.result_bytes = voxels * 4.0 * m.result_grids +
                   g.columns() * 4.0 * (slots * static_cast<double>(scene.output.thresholds.size()) + static_cast<double>(frames));
  m.history_bytes = plan.fluence_events * kEventBytes + plan.sub_exposures * kSubExposureBytes +
                    (g.columns() + 1) * 8.0;
  // The writer builds grids family by family and frees each family's dense arrays once
  // its grids exist (host/outputs/vdb_io.cpp); follow that sequence, every voxel active.
  const double grid = voxels * 4.0, vdb = grid * kVdbOverhead;
  const double thresholds = static_cast<double>(scene.output.thresholds.size());
  const double components = component_grid_count(scene);
  double dense = m.result_bytes, built = vdb;  // the material grid first
  double peak = dense + built;
  auto family = [&](double grids) {
    built += grids * vdb;
    peak = std::max(peak, dense + built);
    dense -= grids * grid;
  };
  family(2);           // peak and mean rate
  family(thresholds);  // crossing times
  family(components);  // component doses
  built += vdb + vdb + thresholds * vdb / 32;  // dose, density, bit masks
  peak = std::max(peak, dense + built);
  m.writing_bytes = peak;
  return m;
}

double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream ss(line.substr(13));
      double kb = 0;
      ss >> kb;
      return kb * 1024.0;
    }
  }
  return 0;
}

}  // namespace dosemap
