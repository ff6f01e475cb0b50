// The CUDA backend: the same transport as the CPU backend, on the GPU: the shared
// fluence-history builder (cuda/history_builder.h) on CUB primitives and the shared march
// (cuda/ray_march.h), one GPU thread per ray. A beam along +z is processed in slabs of
// columns (ranges of rows) sized to the free device memory, so volumes larger than the
// device fit; turned scans keep the whole grid's state on the device across their poses.
// This header has no CUDA types: host code includes it, cuda/transport_cuda.cu implements it.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/ray_march.h"
#include "host/grid/voxel_grid.h"
#include "host/scene/scene.h"
#include "host/transport/energy_balance.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

class Progress;

// A CUDA call failed (no device, driver error, out of memory): the engine falls back to
// the CPU under --backend auto and reports it as a user-facing error under --backend cuda.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CudaRunStats {
  std::string device;  // name and memory of the GPU
  int64_t fluence_events = 0;
  int slabs = 0;
  double seconds_history = 0;   // footprints, sort, cumulative fluence (device time)
  double seconds_march = 0;     // column march (device time)
  double seconds_transfer = 0;  // host <-> device copies
};

// True when a GPU is present, the driver answers and this build has a kernel for it.
bool cuda_device_usable(std::string& why);

// Runs the transport of one block at the identity pose on the GPU; writes the same state as
// the CPU backend into `out` (host arrays, the per-ray arrays indexed by column). `memory_fraction` of the free device memory is used for slabs, or at
// most `slab_budget_bytes` when that is positive (tests force many slabs with it).
// Throws CudaError.
CudaRunStats run_transport_cuda(const MarchParams& params, const std::vector<MaterialId>& material,
                                const std::vector<SubExposure>& subs, const BeamProfile& beam, const GridGeometry& g,
                                const DoseState& out, Progress* progress, double memory_fraction = 0.8,
                                double slab_budget_bytes = 0);

// Runs a scan of several poses (or one turned pose) on the GPU: the whole grid's state stays
// on the device across the blocks, which are processed in time order, each with the rays of
// its pose (the same per-event and march functions as the CPU backend). Fills `out` (host
// state arrays) at the end and adds each block's rays to `energy`. Throws CudaError, also
// when the grid's state does not fit in the device's memory.
CudaRunStats run_transport_cuda_poses(TransportTables tables, const std::vector<MaterialId>& material,
                                      const std::vector<SubExposure>& subs, const std::vector<PoseBlock>& blocks,
                                      const BeamProfile& beam, const GridGeometry& g, const StageSpec& stage,
                                      const DoseState& out, EnergyBalance& energy, Progress* progress,
                                      double memory_fraction = 0.8);

// Device-to-device copy bandwidth (bytes read + written per second) over `bytes`, for the
// benchmark's reference.
double cuda_copy_bandwidth(size_t bytes);

}  // namespace dosemap
