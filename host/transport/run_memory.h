// How much memory `dosemap run` needs, estimated before it allocates anything, so that
// `check` can show it and `run` can refuse a grid that cannot fit, with a voxel size that
// would. Every allocation that grows with the scene is counted, phase by phase (the
// measured peaks are compared with this estimate in tests/run_memory_test.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

struct RunMemory {
  int result_grids = 0;       // float values per voxel: dose, rates, crossing times, component doses
  double material_bytes = 0;  // the material grid
  double scan_bytes = 0;      // held all run: the exposure list, the beam image, material tables
  double result_bytes = 0;    // the per-voxel (and per-column) results
  double history_bytes = 0;   // peak of the transport's scratch: sub-exposures, footprints,
                              // per-thread event counts, the per-column fluence events
  double points_bytes = 0;    // the per-visit table (points.csv), built after transport with
                              // the histories rebuilt (history_bytes again, not counted twice),
                              // held while the grids are written, then written itself
                              // (points.h5's image in memory, and its copy)
  double writing_bytes = 0;   // peak while writing: dense results not yet freed + grids built
  double volume_read_bytes = 0;  // a label volume's read buffers, while the material grid is built
  // The process itself: code, xraylib's tables, OpenVDB, TBB and the CUDA runtime
  // (measured 2026-11-28: 59 MB peak for the quickstart scene, whose results are 1.4 MB).
  static constexpr double kBaseBytes = 62e6;
  double transport_bytes() const { return result_bytes + history_bytes + points_bytes; }
  double peak_bytes() const {
    double phase = transport_bytes();
    if (writing_bytes + points_bytes > phase) phase = writing_bytes + points_bytes;
    if (3.2 * points_bytes > phase) phase = 3.2 * points_bytes;
    if (volume_read_bytes > phase) phase = volume_read_bytes;
    return kBaseBytes + material_bytes + scan_bytes + phase;
  }
};

// Distinct materials that appear as components of composites (each gets a dose grid).
int component_grid_count(const Scene& scene);

// `frames`: how many cumulative-dose frames the run prepares (frame_times()); `threads`:
// the CPU threads of the run (0: every core), which split the fluence-history work.
RunMemory estimate_run_memory(const Scene& scene, const MaterialTable& materials, const GridGeometry& g,
                              const Timeline& timeline, const PlanSize& plan, size_t frames, int threads);

// Physical memory available to a new allocation (MemAvailable), in bytes; 0 if unknown.
double available_memory_bytes();

}  // namespace dosemap
