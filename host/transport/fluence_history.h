// Per-exposure 2-D work of the factorized transport: every sub-exposure puts fluence on
// the voxel columns of its footprint; the result is, per column, the time-ordered list of
// (sub-exposure, cumulative fluence) the column march reads. Memory is O(columns + events),
// never O(voxels x exposures).
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/column_march.h"
#include "host/grid/voxel_grid.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

class Progress;

struct FluenceHistory {
  std::vector<int64_t> offset;          // [column + 1]
  std::vector<uint32_t> sub_exposure;   // [event]
  std::vector<double> cum_fluence_m2;   // [event] photons/m^2, cumulative within the column
  std::vector<double> t_start_s;        // [sub-exposure]
  std::vector<double> duration_s;       // [sub-exposure]

  HistoryView view() const;
  int64_t events() const { return static_cast<int64_t>(sub_exposure.size()); }
};

// Builds the histories on the CPU with `threads` threads (deterministic for any count:
// each thread owns a contiguous time slice of the sub-exposures and its own slots).
FluenceHistory build_fluence_history(const std::vector<SubExposure>& subs, const BeamProfile& beam,
                                     const GridGeometry& g, int threads, Progress* progress);

// The fluence (photons/m^2) of one sub-exposure on each column of its footprint, in
// row-major order over the rectangle (i fastest). Separable profiles of a static beam take
// the erf / overlap factors per axis once (the same functions profile_fraction uses).
void footprint_fluence(const SubExposure& s, const BeamProfile& beam, const GridGeometry& g, const ColumnRect& r,
                       std::vector<double>& out, std::vector<double>& scratch_x, std::vector<double>& scratch_y);

}  // namespace dosemap
