#include "host/plan/limited_rays.h"

#include <omp.h>

#include <algorithm>
#include <map>
#include <utility>

#include "host/common/worker_threads.h"

namespace dosemap {

ScanPoints scan_points(const Timeline& tl) {
  ScanPoints out;
  const std::vector<int32_t> place = point_in_step(tl);
  out.point_of.resize(tl.exposures.size());
  std::map<std::pair<int32_t, int32_t>, int32_t> id;
  for (size_t e = 0; e < tl.exposures.size(); ++e) {
    const Exposure& x = tl.exposures[e];
    const auto [it, added] = id.try_emplace({x.step, place[e]}, static_cast<int32_t>(out.points.size()));
    if (added) out.points.push_back(ScanPoint{x.step, place[e], x.x0_um, x.y0_um, 0.0});
    out.points[it->second].beam_on_s += x.duration_s;
    out.point_of[e] = it->second;
  }
  return out;
}

bool ray_bindings(const DoseOperator& A, const DoseResults& run, const std::vector<DoseLimit>& limits, long long ray,
                  double fluence_m2, std::vector<RayBinding>& out) {
  out.assign(limits.size(), RayBinding{});
  if (!(fluence_m2 > 0)) return false;
  const VoxelGrid& grid = A.grid();
  bool any = false;
  A.for_each_voxel(ray, [&](int64_t v) {
    for (size_t k = 0; k < limits.size(); ++k) {
      if (grid.material[v] != limits[k].material) continue;
      const double g = limited_value(run, limits[k], v) / fluence_m2;
      if (g > out[k].g_max) {
        out[k] = RayBinding{g, v};
        any = true;
      }
    }
  });
  return any;
}

std::vector<int> limit_slots(const MarchParams& p, const std::vector<DoseLimit>& limits) {
  std::vector<int> slot(limits.size(), -1);
  for (size_t k = 0; k < limits.size(); ++k)
    if (limits[k].component_grid >= 0)
      for (int s = p.component_begin[limits[k].material]; s < p.component_begin[limits[k].material + 1]; ++s)
        if (p.slot_grid[s] == limits[k].component_grid) slot[k] = s;
  return slot;
}

std::vector<double> ray_limit_dose_per_fluence(const RayLattice& L, const MarchParams& p, const VoxelGrid& grid,
                                               const std::vector<DoseLimit>& limits, int threads) {
  const long long rays = ray_count(L);
  const size_t K = limits.size();
  std::vector<double> out(static_cast<size_t>(rays) * K, 0.0);
  const std::vector<int> slot = limit_slots(p, limits);
#pragma omp parallel for num_threads(worker_threads(threads)) schedule(dynamic, 256)
  for (long long r = 0; r < rays; ++r) {
    double* g_max = out.data() + static_cast<size_t>(r) * K;
    for_each_ray_segment(p, L, grid.material.data(), r, [&](int64_t, uint16_t m, const LineTransmission& transmission) {
      for (size_t k = 0; k < K; ++k)
        if (m == limits[k].material) g_max[k] = std::max(g_max[k], limit_dose_per_fluence(p, m, slot[k], transmission));
      return true;
    });
  }
  return out;
}

double ray_fluence_m2(const DoseOperator& A, long long ray) {
  double total = 0;
  const std::vector<double>& f = A.event_fluence_m2();
  for (int64_t ev = A.ray_offset()[ray]; ev < A.ray_offset()[ray + 1]; ++ev) total += f[ev];
  return total;
}

}  // namespace dosemap
