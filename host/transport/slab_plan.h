// How the GPU backend cuts the columns into slabs (ranges of rows) that fit in device
// memory: per row, the bytes of its voxels' outputs and of the fluence events of the
// sub-exposures that reach it. Host code, so it is tested without a GPU.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/ray_march.h"
#include "host/grid/voxel_grid.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

struct Slab {
  int64_t row0 = 0, row1 = 0;  // rows [row0, row1): columns [row0 * nx, row1 * nx)
  uint64_t events = 0;         // fluence events of the slab
};

// Device bytes per fluence event (cuda/transport_cuda.cu, DeviceHistoryExecutor):
// sub-exposure, sorted sub-exposure (4 B each), fluence, cumulative fluence and at most
// one footprint factor (8 B each), and the segmented sort's scratch.
constexpr double kSlabEventBytes = 2 * 4 + 3 * 8 + 16;
// Device bytes per sub-exposure: itself, its start and duration, its footprint rectangle,
// cell and factor counts and offsets, and at most one more factor.
constexpr double kSubExposureDeviceBytes = sizeof(SubExposure) + 2 * 8 + sizeof(ColumnRange) + 5 * 8;
// Device bytes per column: its outputs for every voxel, its slot crossings, offset, event
// count and cursor, and energy.
double slab_column_bytes(const MarchParams& p);

// Fluence events per row of columns (the sub-exposures' footprint widths).
std::vector<uint64_t> events_per_row(const std::vector<SubExposure>& subs, const BeamProfile& beam, const GridGeometry& g);

// Greedy slabs of whole rows within `budget_bytes`, each under 2^32 events. Returns an
// empty list when a single row does not fit.
std::vector<Slab> plan_slabs(const MarchParams& p, const std::vector<uint64_t>& row_events, int64_t nx,
                             double budget_bytes);

}  // namespace dosemap
