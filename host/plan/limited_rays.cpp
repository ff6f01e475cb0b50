#include "host/plan/limited_rays.h"

#include <map>
#include <utility>

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

double ray_fluence_m2(const DoseOperator& A, long long ray) {
  double total = 0;
  const std::vector<double>& f = A.event_fluence_m2();
  for (int64_t ev = A.ray_offset()[ray]; ev < A.ray_offset()[ray + 1]; ++ev) total += f[ev];
  return total;
}

}  // namespace dosemap
