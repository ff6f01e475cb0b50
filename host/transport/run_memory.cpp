#include "host/transport/run_memory.h"

#include <omp.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "host/common/worker_threads.h"
#include "host/scene/threshold_scale.h"

namespace dosemap {

namespace {
// Bytes per fluence event of a block's histories (cuda/history_builder.h on the host): the
// sub-exposure index and cumulative fluence, and at most one footprint factor.
constexpr double kEventBytes = 4 + 8 + 8;
// Per sub-exposure: the planned list, and while the histories are built its start and
// duration, footprint rectangle, cell and factor counts and offsets, and at most one more
// footprint factor.
constexpr double kBuildBytesPerSubExposure = 2 * 8 + sizeof(ColumnRange) + 4 * 8 + 8;
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

RunMemory estimate_run_memory(const Scene& scene, const MaterialTable& materials, const GridGeometry& g,
                              const Timeline& timeline, const PlanSize& plan, size_t frames, int threads) {
  RunMemory m;
  const double voxels = static_cast<double>(g.voxels()), columns = static_cast<double>(g.columns());
  const double subs = static_cast<double>(plan.sub_exposures), events = static_cast<double>(plan.max_pose_events);
  const int labels = threshold_scale(scene).count();  // crossing-time grids, one per label
  m.result_grids = 3 + labels + component_grid_count(scene);
  m.material_bytes = voxels * sizeof(MaterialId);
  if (scene.sample.volume.present) m.volume_read_bytes = scene.sample.volume.read_buffer_bytes;
  // Coefficients per (material, line) in the material table and the transport tables.
  const double lines = static_cast<double>(materials.spectrum.size());
  const double material_count = static_cast<double>(materials.materials.size());
  m.scan_bytes = static_cast<double>(timeline.exposures.capacity()) * sizeof(Exposure) +
                 (scene.beam.image.intensity ? scene.beam.image.intensity->capacity() * sizeof(double) : 0.0) +
                 material_count * (lines * (sizeof(MaterialCoefficients) + 4 * sizeof(double)) + 256);
  // Per voxel besides: its dose at each frame time; per column: the earliest crossing of
  // each (material, component) pair.
  int slots = 0;
  for (const auto& mat : scene.materials)
    for (const auto& c : mat.components) slots += c.material != kVoidMaterial;
  m.result_bytes = voxels * 4.0 * (m.result_grids + static_cast<double>(frames)) +
                   columns * 4.0 * slots * static_cast<double>(labels);
  // host/transport/dose_engine.cpp and fluence_history.cpp: the sub-exposure list, and
  // while the histories are built (cuda/history_builder.h), each sub-exposure's arrays, one
  // event count per (thread slice, ray), the ray offsets, the events of the largest block
  // (one builder, its arrays reused from block to block), and per-ray energy and fluence
  // sums. A turned pose has more rays than the grid has columns.
  const int slices = static_cast<int>(std::max(1.0, std::min<double>(worker_threads(threads), subs)));
  const double rays = static_cast<double>(std::max<int64_t>(plan.max_rays, g.columns()));
  m.history_bytes = subs * (kSubExposureBytes + kBuildBytesPerSubExposure) +
                    slices * rays * sizeof(int64_t) + (rays + 1) * sizeof(int64_t) + events * kEventBytes +
                    rays * 5 * sizeof(double);
  // host/outputs/point_table.cpp: per visit (exposure) its place, times and per material
  // and component grid three doubles and a count; per ray and entry the final dose's max,
  // sum and count.
  const double visits = static_cast<double>(timeline.exposures.size());
  const double entries = material_count + component_grid_count(scene);
  m.points_bytes = visits * (7 * 8.0 + 4 * 4.0 + entries * (3 * 8.0 + 4.0) + 8.0) + rays * entries * 16.0;
  // The writer builds grids family by family and frees each family's dense arrays once
  // its grids exist (host/outputs/vdb_io.cpp); follow that sequence, every voxel active.
  const double grid = voxels * 4.0, vdb = grid * kVdbOverhead;
  const double thresholds = static_cast<double>(labels);
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
