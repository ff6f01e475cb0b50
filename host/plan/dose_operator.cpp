#include "host/plan/dose_operator.h"

#include <omp.h>

#include <algorithm>

#include "host/common/errors.h"
#include "host/common/worker_threads.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

DoseOperator::DoseOperator(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                           const Timeline& timeline, int threads)
    : grid_(std::move(grid)), exposures_(timeline.exposures.size()),
      threads_(worker_threads(threads)) {
  DOSEMAP_BUG_CHECK(at_one_pose(timeline), "the dose operator of a scan that turns the sample");
  const GridGeometry& g = grid_->geometry;
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs =
      plan_sub_exposures(timeline, beam, g, rotation_substep_deg(scene.sample.stage, beam, g));
  const double angle = subs.empty() ? 0.0 : subs.front().angle_deg;
  lattice_ = pose_lattice(stage_pose(scene.sample.stage, g, angle), g);
  const long long rays = ray_count(lattice_);

  // F_{r,e}: the fluence histories of the run, each event's own fluence and exposure.
  offset_.assign(static_cast<size_t>(rays) + 1, 0);
  if (!subs.empty()) {
    FluenceHistoryBuilder builder(threads_);
    const FluenceHistory& history =
        builder.build(HistoryJob{subs.data(), static_cast<long long>(subs.size()), beam, lattice_, 0, lattice_.n2}, nullptr);
    const HistoryView h = history.view();
    const int64_t events = h.offset[rays];
    std::copy(h.offset, h.offset + rays + 1, offset_.begin());
    exposure_.resize(static_cast<size_t>(events));
    fluence_.resize(static_cast<size_t>(events));
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1024)
    for (long long r = 0; r < rays; ++r)
      for (int64_t e = h.offset[r]; e < h.offset[r + 1]; ++e) {
        exposure_[e] = static_cast<uint32_t>(subs[h.sub_exposure[e]].exposure);
        fluence_[e] = h.cum_fluence_m2[e] - (e > h.offset[r] ? h.cum_fluence_m2[e - 1] : 0.0);
      }
  }

  // G_v with the pose's segment tables, as the engine marches it.
  TransportTables tables = build_transport_tables(materials, g, threshold_scale(scene));
  tables.set_segment(lattice_.segment_um * 1e-6, lattice_.cell_area_m2);
  const MarchParams p = tables.params();
  g_.assign(static_cast<size_t>(g.voxels()), 0.0);
  const uint16_t* material = grid_->material.data();
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 256)
  for (long long r = 0; r < rays; ++r)
    for_each_dose_per_fluence(p, lattice_, material, r, [&](int64_t v, double gv) {
      g_[v] = gv;
      return true;
    });
}

void DoseOperator::forward(const std::vector<double>& w, std::vector<double>& dose) const {
  DOSEMAP_BUG_CHECK(w.size() == exposures_, "forward: one weight per exposure");
  dose.assign(static_cast<size_t>(voxels()), 0.0);
  const long long rays = static_cast<long long>(offset_.size()) - 1;
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 256)
  for (long long r = 0; r < rays; ++r) {
    double f = 0;  // in event order, as the march sums a ray's history
    for (int64_t e = offset_[r]; e < offset_[r + 1]; ++e) f += w[exposure_[e]] * fluence_[e];
    if (f == 0) continue;
    for_each_voxel(r, [&](int64_t v) { dose[v] = g_[v] * f; });
  }
}

void DoseOperator::adjoint(const std::vector<double>& u, std::vector<double>& out) const {
  DOSEMAP_BUG_CHECK(u.size() == static_cast<size_t>(voxels()), "adjoint: one value per voxel");
  const long long rays = static_cast<long long>(offset_.size()) - 1;
  // Fixed blocks of rays summed in ray order and merged in block order: the same result for
  // any thread count.
  constexpr long long kBlock = 4096;
  const long long blocks = (rays + kBlock - 1) / kBlock;
  out.assign(exposures_, 0.0);
#pragma omp parallel num_threads(threads_)
  {
    std::vector<double> part(exposures_, 0.0);
    std::vector<uint32_t> touched;
#pragma omp for ordered schedule(static, 1)
    for (long long b = 0; b < blocks; ++b) {
      touched.clear();
      for (long long r = b * kBlock; r < std::min(rays, (b + 1) * kBlock); ++r) {
        double s = 0;  // sum over the ray's voxels of G_v u_v
        for_each_voxel(r, [&](int64_t v) { s += g_[v] * u[v]; });
        if (s == 0) continue;
        for (int64_t e = offset_[r]; e < offset_[r + 1]; ++e) {
          if (part[exposure_[e]] == 0) touched.push_back(exposure_[e]);
          part[exposure_[e]] += s * fluence_[e];
        }
      }
#pragma omp ordered
      for (uint32_t e : touched) {
        out[e] += part[e];
        part[e] = 0;
      }
    }
  }
}

}  // namespace dosemap
