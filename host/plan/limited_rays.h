// What the planner's per-point work shares (host/plan/inverse_dose.h, dwell_plan.h):
// - the scan's points: an exposure's place within its step, the same in every repetition,
//   so that a point's beam-on time is summed over the repetitions;
// - per ray of the one pose, the voxel of each limited material that reaches its limit first
//   as the ray's fluence grows: on a ray every voxel's dose is D_v = G_v F_r (F_r the ray's
//   fluence), so it is the voxel of largest G_v, taken from the run as D_v / F_r (which also
//   covers the dose to a component).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cuda/ray_march.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/plan/dose_operator.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

// --limit NAME=DOSE_Gy or --rate-limit NAME=GY_S: NAME a material, or material:component
// for the dose to a component of a composite.
struct DoseLimit {
  std::string text;         // as given on the command line
  std::string name;         // NAME
  int material = -1;        // the limited voxels: those of this material
  int component_grid = -1;  // >= 0: the dose to this component grid in them
  double limit = 0;         // Gy (dose) or Gy/s (rate)
  bool rate = false;
};

// The limited value of voxel v in a run: its dose, or the dose to the limit's component.
inline float limited_value(const DoseResults& r, const DoseLimit& l, int64_t v) {
  return l.component_grid < 0 ? r.dose_Gy[v] : r.component_dose(l.component_grid)[v];
}

struct ScanPoint {
  int32_t step = 0, point = 0;  // index into scan.steps; place within the step
  double x_um = 0, y_um = 0;    // the beam centre at its first visit
  double beam_on_s = 0;         // over every repetition
};

struct ScanPoints {
  std::vector<ScanPoint> points;  // in order of first exposure
  std::vector<int32_t> point_of;  // per exposure: index into points
};
ScanPoints scan_points(const Timeline& tl);

// The first voxel of one limit on a ray.
struct RayBinding {
  double g_max = 0;    // its dose per unit fluence (Gy m^2); 0: the ray lights none of the limit's voxels
  int64_t voxel = -1;
};

// Fills `out` (one per limit) for ray `ray` of A, whose fluence in the run was `fluence_m2`;
// returns whether the ray lights any limited voxel. Ties go to the first voxel in beam order.
bool ray_bindings(const DoseOperator& A, const DoseResults& run, const std::vector<DoseLimit>& limits, long long ray,
                  double fluence_m2, std::vector<RayBinding>& out);

// Per limit: the component slot of its material in the march's tables (-1: the limit is on
// the material's own dose).
std::vector<int> limit_slots(const MarchParams& p, const std::vector<DoseLimit>& limits);

// The dose per unit fluence (Gy m^2) a limit counts in a voxel of material m that the ray
// enters with `transmission`: the material's dose, or its component's (`slot`).
inline double limit_dose_per_fluence(const MarchParams& p, uint16_t m, int slot, const LineTransmission& transmission) {
  double other;
  return slot < 0 ? segment_dose_per_fluence(p, m, transmission, &other) : slot_dose_per_fluence(p, m, slot, transmission);
}

// Per ray of lattice L (every ray, lit or not) and limit: the largest dose per unit fluence
// among the limit's voxels by the march's own arithmetic (cuda/ray_march.h), at
// [ray * limits + k] (Gy m^2; 0 where the ray crosses none). For scans no run made (pattern
// search), where D_v / F_r from a run is not available. `p` holds L's segment tables.
std::vector<double> ray_limit_dose_per_fluence(const RayLattice& L, const MarchParams& p, const VoxelGrid& grid,
                                               const std::vector<DoseLimit>& limits, int threads);

// Sorts (id, fluence) shares by id and calls visit(id, summed fluence) for each id whose sum
// is positive: a ray's events grouped by point or step.
template <typename Visit>
void for_each_share(std::vector<std::pair<int32_t, double>>& shares, Visit visit) {
  std::sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < shares.size();) {
    const int32_t id = shares[i].first;
    double sum = 0;
    for (; i < shares.size() && shares[i].first == id; ++i) sum += shares[i].second;
    if (sum > 0) visit(id, sum);
  }
}

// The ray's fluence in the run: its events summed in event order, as the march sums them.
double ray_fluence_m2(const DoseOperator& A, long long ray);

}  // namespace dosemap
