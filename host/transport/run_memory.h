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
  double output_bytes = 0;    // the largest output grid built at once while writing
  double peak_bytes() const { return material_bytes + result_bytes + (history_bytes > output_bytes ? history_bytes : output_bytes); }
};

// Distinct materials that appear as components of composites (each gets a dose grid).
int component_grid_count(const Scene& scene);

RunMemory estimate_run_memory(const Scene& scene, const GridGeometry& g, const PlanSize& plan);

// Physical memory available to a new allocation (MemAvailable), in bytes; 0 if unknown.
double available_memory_bytes();

}  // namespace dosemap
