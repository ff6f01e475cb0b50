// How much memory `dosemap run` needs, estimated before it allocates anything, so that
// `check` can show it and `run` can refuse a grid that cannot fit, with a voxel size that
// would.
#pragma once

#include <cstdint>
#include <string>

#include "host/grid/voxel_grid.h"
#include "host/scene/scene.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

struct RunMemory {
  int result_grids = 0;      // float values per voxel: dose, rates, crossing times, component doses
  double material_bytes = 0;  // the material grid
  double result_bytes = 0;    // the per-voxel results
  double history_bytes = 0;   // per-column fluence histories (freed after the march)
  double writing_bytes = 0;   // peak while writing: dense results not yet freed + grids built
  // The process itself: code, xraylib's tables, OpenVDB and TBB (measured: about 35 MB).
  static constexpr double kBaseBytes = 40e6;
  double march_bytes() const { return material_bytes + result_bytes + history_bytes; }
  double peak_bytes() const {
    const double w = material_bytes + writing_bytes;
    return kBaseBytes + (march_bytes() > w ? march_bytes() : w);
  }
};

// Distinct materials that appear as components of composites (each gets a dose grid).
int component_grid_count(const Scene& scene);

// `frames`: how many cumulative-dose frames the run prepares (frame_times()).
RunMemory estimate_run_memory(const Scene& scene, const GridGeometry& g, const PlanSize& plan, size_t frames);

// Physical memory available to a new allocation (MemAvailable), in bytes; 0 if unknown.
double available_memory_bytes();

}  // namespace dosemap
