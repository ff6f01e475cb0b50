// Per-material and per-component statistics of a run, computed once from the dense
// results: what summary.json and the stdout report show.
#pragma once

#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

struct ThresholdStats {
  double threshold_Gy = 0;        // this material's dose for the label; +inf: it does not carry it
  int64_t voxels = 0;             // voxels whose dose >= threshold
  double volume_mm3 = 0;
  double first_crossing_s = -1;   // earliest time any voxel reached it; -1 never
};

struct DoseStats {
  std::string name;
  int64_t voxels = 0;
  double mass_g = 0;
  double deposited_J = 0;
  double dose_mean_Gy = 0;  // deposited / mass
  double dose_max_Gy = 0;
  int64_t dose_max_voxel = -1;  // the most dosed voxel (lowest index on ties)
  double rate_peak_max_Gy_s = 0;
  std::vector<ThresholdStats> above;  // per threshold label (TransportTables::thresholds)
};

struct MaterialStats : DoseStats {
  int index = 0;  // in the scene's material order (the `material` grid's values)
  std::vector<DoseStats> components;  // composites: per component, in their order
  std::vector<int> component_slots;   // the march's slot of each component
};

struct RunStatistics {
  std::vector<MaterialStats> materials;  // all scene materials, scene order
  double deposited_J = 0;                // sum over voxels of dose x mass (float grids)
  double dose_max_Gy = 0;
  int64_t dose_max_voxel = -1;
};

// Deterministic: the same numbers, bit for bit, for any thread count.
RunStatistics compute_statistics(const MaterialTable& materials, const VoxelGrid& grid, const DoseResults& results,
                                 int threads);

// The invariants of a finished run, each a bug in dosemap when broken (exit code 1): every
// dose and dose rate finite and within a float (the set-up refused scenes whose dose bound
// does not fit, host/transport/dose_bounds.h), and the march's double-precision deposited
// energy equal to the float grids'.
void check_run_invariants(const DoseResults& results, const RunStatistics& stats);

}  // namespace dosemap
