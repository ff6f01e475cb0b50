#include "host/plan/turned_inverse_dose.h"

#include <omp.h>

#include <algorithm>
#include <map>
#include <utility>

#include "cuda/history_builder.h"
#include "host/common/errors.h"
#include "host/common/worker_threads.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"
#include "host/transport/transport_params.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace {

// Bounds `x` by its own dose A (a run of its exposures alone): 1 + (limit - D_v) / A_v over
// every limited voxel it doses.
void bound_by_own_dose(const DoseResults& run, const DoseResults& own, const VoxelGrid& grid,
                       const std::vector<DoseLimit>& limits, int threads, ExposureScale& x) {
  std::vector<ExposureScale> best(static_cast<size_t>(threads), x);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t v = 0; v < run.voxels; ++v)
    for (size_t k = 0; k < limits.size(); ++k) {
      if (grid.material[v] != limits[k].material) continue;
      const double a = limited_value(own, limits[k], v);
      if (a > 0)
        tighten_scale(best[omp_get_thread_num()], 1.0 + (limits[k].limit - limited_value(run, limits[k], v)) / a,
                      static_cast<int>(k), v);
    }
  std::vector<ExposureScale> into{x};
  for (const ExposureScale& b : best) merge_scales(into, {b});
  x = into.front();
}

}  // namespace

void turned_scan_scales(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                        const Timeline& timeline, const DoseResults& run, const std::vector<DoseLimit>& limits,
                        const std::vector<int32_t>& point_of, int threads, std::vector<ExposureScale>& steps,
                        std::vector<ExposureScale>& points) {
  const int nthreads = worker_threads(threads);
  const GridGeometry& g = grid->geometry;
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs =
      plan_sub_exposures(timeline, beam, g, rotation_substep_deg(scene.sample.stage, beam, g));

  // Which points keep one angle (in every repetition), and which turn.
  std::vector<double> lo(points.size(), std::numeric_limits<double>::infinity()), hi(points.size(), -lo[0]);
  for (const SubExposure& s : subs) {
    const int32_t p = point_of[s.exposure];
    lo[p] = std::min(lo[p], s.angle_deg);
    hi[p] = std::max(hi[p], s.angle_deg);
  }

  // Steps and turning points: a run of their own exposures.
  const TransportParams params = make_transport_params(materials, grid, scene.beam, scene.sample.stage, threshold_scale(scene));
  EngineOptions cpu;
  cpu.backend = Backend::kCpu;
  cpu.threads = nthreads;
  auto own_run = [&](auto belongs) {
    Timeline own = timeline;
    own.exposures.clear();
    for (size_t e = 0; e < timeline.exposures.size(); ++e)
      if (belongs(e)) own.exposures.push_back(timeline.exposures[e]);
    return compute_dose(params, own, cpu);
  };
  for (ExposureScale& st : steps)
    if (st.beam_on_s > 0)
      bound_by_own_dose(run, own_run([&](size_t e) { return timeline.exposures[e].step == st.step; }), *grid, limits,
                        nthreads, st);
  for (size_t p = 0; p < points.size(); ++p)
    if (lo[p] != hi[p])
      bound_by_own_dose(run, own_run([&](size_t e) { return point_of[e] == static_cast<int32_t>(p); }), *grid, limits,
                        nthreads, points[p]);

  // Points at one angle: per angle, one pass over its rays (the header).
  std::map<double, std::vector<SubExposure>> by_angle;
  for (const SubExposure& s : subs)
    if (lo[point_of[s.exposure]] == hi[point_of[s.exposure]]) by_angle[s.angle_deg].push_back(s);
  TransportTables tables = build_transport_tables(materials, g, threshold_scale(scene));
  const size_t K = limits.size();
  FluenceHistoryBuilder builder(nthreads);
  for (const auto& [angle, list] : by_angle) {
    const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, angle), g);
    tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
    const MarchParams p = tables.params();
    const std::vector<int> slot = limit_slots(p, limits);
    const FluenceHistory& history =
        builder.build(HistoryJob{list.data(), static_cast<long long>(list.size()), beam, L, 0, L.n2}, nullptr);
    const HistoryView h = history.view();
    const long long rays = ray_count(L);
    std::vector<std::vector<ExposureScale>> best(static_cast<size_t>(nthreads), points);
#pragma omp parallel num_threads(nthreads)
    {
      std::vector<ExposureScale>& mine = best[omp_get_thread_num()];
      std::vector<double> budget(K);  // per limit: the fluence the ray may still take at this angle
      std::vector<int64_t> voxel(K);
      std::vector<std::pair<int32_t, double>> share;
#pragma omp for schedule(dynamic, 256)
      for (long long r = 0; r < rays; ++r) {
        const int64_t begin = h.offset[r], end = h.offset[r + 1];
        if (begin == end) continue;
        std::fill(budget.begin(), budget.end(), std::numeric_limits<double>::infinity());
        bool limited = false;
        for_each_ray_segment(p, L, grid->material.data(), r, [&](int64_t v, uint16_t m, const LineTransmission& t) {
          for (size_t k = 0; k < K; ++k) {
            if (m != limits[k].material) continue;
            const double gv = limit_dose_per_fluence(p, m, slot[k], t);
            if (!(gv > 0)) continue;
            const double b = (limits[k].limit - limited_value(run, limits[k], v)) / gv;
            if (b < budget[k]) {
              budget[k] = b;
              voxel[k] = v;
              limited = true;
            }
          }
          return true;
        });
        if (!limited) continue;
        share.clear();
        for (int64_t e = begin; e < end; ++e)
          share.push_back({point_of[list[h.sub_exposure[e]].exposure],
                           h.cum_fluence_m2[e] - (e > begin ? h.cum_fluence_m2[e - 1] : 0.0)});
        for_each_share(share, [&](int32_t id, double f) {
          for (size_t k = 0; k < K; ++k)
            if (budget[k] != std::numeric_limits<double>::infinity())
              tighten_scale(mine[id], 1.0 + budget[k] / f, static_cast<int>(k), voxel[k]);
        });
      }
    }
    for (const std::vector<ExposureScale>& b : best) merge_scales(points, b);
  }
}

}  // namespace dosemap
