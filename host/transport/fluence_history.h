// Per-exposure 2-D work of the transport: every sub-exposure of a block (one pose) puts
// fluence on the rays of its footprint (cuda/ray_lattice.h); the result is, per ray, the
// time-ordered list of (sub-exposure, cumulative fluence) the march reads. Memory is
// O(rays + events), never O(voxels x exposures). The CPU backend and the outputs' dose
// curves use this builder; the CUDA backend runs the same per-event functions
// (cuda/fluence_events.h).
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/beam_profile.h"
#include "cuda/ray_lattice.h"
#include "cuda/ray_march.h"
#include "host/transport/exposure_plan.h"

namespace dosemap {

class Progress;

struct FluenceHistory {
  std::vector<int64_t> offset;          // [ray + 1]
  std::vector<uint32_t> sub_exposure;   // [event]
  std::vector<double> cum_fluence_m2;   // [event] photons/m^2, cumulative within the ray
  std::vector<double> t_start_s;        // [sub-exposure]
  std::vector<double> duration_s;       // [sub-exposure]

  HistoryView view() const;
  int64_t events() const { return static_cast<int64_t>(sub_exposure.size()); }
};

// Builds the histories of the n sub-exposures subs[0, n) (one block, in time order; events
// number them 0..n-1) on the CPU with `threads` threads (deterministic for any count: each
// thread owns a contiguous time slice of the sub-exposures and its own slots).
FluenceHistory build_fluence_history(const SubExposure* subs, int64_t n, const BeamProfile& beam, const RayLattice& L,
                                     int threads, Progress* progress);

// The fluence (photons/m^2) of one sub-exposure on each ray of its footprint, in row-major
// order over the rectangle (r1 fastest). Separable profiles of a static beam on lab-aligned
// cells take the erf / overlap factors per axis once (the functions profile_fraction uses).
void footprint_fluence(const SubExposure& s, const BeamProfile& beam, const RayLattice& L, const ColumnRect& r,
                       std::vector<double>& out, std::vector<double>& scratch_x, std::vector<double>& scratch_y);

}  // namespace dosemap
