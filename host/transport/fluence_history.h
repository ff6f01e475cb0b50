// The fluence histories of a block of sub-exposures on the CPU: the shared builder
// (cuda/history_builder.h, the very algorithm the CUDA backend runs) with std/OpenMP
// primitives. The CPU backend, the outputs and the tests use it.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/history_builder.h"
#include "cuda/ray_lattice.h"
#include "cuda/ray_march.h"
#include "host/common/bulk_vector.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

class Progress;

struct FluenceHistory {
  BulkVector<int64_t> offset;          // [ray + 1]
  BulkVector<uint32_t> sub_exposure;   // [event]
  BulkVector<double> cum_fluence_m2;   // [event] photons/m^2, cumulative within the ray
  std::vector<double> t_start_s;        // [sub-exposure]
  std::vector<double> duration_s;       // [sub-exposure]

  HistoryView view() const;
  int64_t events() const { return static_cast<int64_t>(sub_exposure.size()); }
};

// Builds the histories of blocks one after the other with `threads` threads (the same
// result for any count), keeping its memory from one block to the next: a scan of many
// poses holds the largest block's arrays once instead of allocating and freeing them per
// pose (which fragments the heap).
class FluenceHistoryBuilder {
 public:
  explicit FluenceHistoryBuilder(int threads) : threads_(threads) {}

  // The histories of job.subs[0, job.n) on the rays of rows [job.row0, job.row1); valid
  // until the next build.
  const FluenceHistory& build(const HistoryJob& job, Progress* progress);

 private:
  friend class HostHistoryExecutor;
  int threads_;
  FluenceHistory history_;
  // Written in full by every build: allocated without zeroing, large ones on huge pages.
  BulkVector<ColumnRange> rect_;
  BulkVector<unsigned long long> cells_, factors_, event_offset_, factor_offset_;
  BulkVector<double> factor_;
  BulkVector<int64_t> slot_count_;  // per (time slice, ray)
};

// One block's histories (a builder used once).
FluenceHistory build_fluence_history(const HistoryJob& job, int threads, Progress* progress);

// The same for every ray of lattice L.
FluenceHistory build_fluence_history(const SubExposure* subs, int64_t n, const BeamProfile& beam, const RayLattice& L,
                                     int threads, Progress* progress);

}  // namespace dosemap
