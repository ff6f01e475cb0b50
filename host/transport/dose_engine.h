// Runs the transport: plans the sub-exposures, cuts them into blocks that share a stage
// pose, and for each block in time order builds the per-ray fluence histories (2-D work)
// and marches every ray (one 3-D pass) on the chosen backend, adding the block to the
// running per-voxel state. Returns the per-voxel results with the energy balance.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "host/common/bulk_vector.h"
#include "host/common/phase_clock.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/energy_balance.h"
#include "host/transport/transport_params.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

class Progress;

enum class Backend { kAuto, kCpu, kCuda };

struct EngineOptions {
  Backend backend = Backend::kAuto;
  int threads = 0;  // 0: every core
  Progress* progress = nullptr;
  // What a user should know about how the run ran ("running on the CPU (why)"): printed on
  // stderr as "dosemap: note: ..." when not set (the Python package makes them warnings).
  std::function<void(const std::string&)> note;
};

// Dense per-voxel results, voxel index = (k * ny + j) * nx + i.
struct DoseResults {
  std::string backend;  // "cpu" or "cuda"
  std::string device;   // e.g. "2 threads", "NVIDIA H100 80GB HBM3"
  TransportTables tables;
  int64_t voxels = 0, columns = 0;
  BulkVector<float> dose_Gy, rate_peak_Gy_s, rate_mean_Gy_s;
  BulkVector<float> crossing_s;         // [threshold * voxels + voxel], -1 where never reached
  BulkVector<float> component_dose_Gy;  // [grid * voxels + voxel], 0 where the component is absent
  BulkVector<float> slot_first_crossing_s;  // [(slot * thresholds + t) * columns + column], -1 never
  BulkVector<float> frame_dose_Gy;  // [frame * voxels + voxel]: dose at each frame time
  // [column]: 1 where a ray of the march went down the grid column (rays on the grid's
  // columns: a scan that never turns the sample, on the CPU), 0 where none did: every voxel
  // of such a column holds the state before any block in every array above (no dose, -1
  // never reached). Empty when not known (the GPU backend, turned scans).
  std::vector<uint8_t> column_marched;

  const float* crossing(int threshold) const { return crossing_s.data() + threshold * voxels; }
  const float* component_dose(int grid) const { return component_dose_Gy.data() + grid * voxels; }
  const float* frame_dose(int frame) const { return frame_dose_Gy.data() + frame * voxels; }
  // Per column: the earliest time a voxel of it reached threshold t in the dose to component
  // slot `slot` (a component of one material, see TransportTables), or -1.
  const float* slot_first_crossing_plane(int slot, int t) const {
    return slot_first_crossing_s.data() + (static_cast<int64_t>(slot) * static_cast<int64_t>(tables.thresholds.count()) + t) * columns;
  }
  // The same over all columns.
  double slot_first_crossing(int slot, int t) const;
  EnergyBalance energy;
  int64_t sub_exposures = 0;
  int64_t fluence_events = 0;
  int64_t poses = 0;         // blocks of sub-exposures sharing a pose (1 for a scan that never turns)
  int64_t voxel_updates = 0;  // voxel visits of the marches (a voxel once per pose)
  // Wall and process CPU seconds of the fluence histories and the marches (on a GPU: device
  // time, the host's CPU while it waits counting in `state`); `state` is the rest of the
  // engine: sub-exposures, allocating the per-voxel state, marking nothing crossed.
  PhaseSeconds state, history, march;
};

// Runs the timeline's exposures through the parameters' sample, in time order, from a state
// with no dose (frames at params.tables.frame_time_s).
DoseResults compute_dose(const TransportParams& params, const Timeline& timeline, const EngineOptions& options);

// Whether this build has the CUDA backend and a usable GPU; `why` says why not.
bool cuda_backend_usable(std::string& why);

}  // namespace dosemap
