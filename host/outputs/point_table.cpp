#include "host/outputs/point_table.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>

#include "host/common/bulk_vector.h"
#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/common/worker_threads.h"
#include "host/transport/column_group_march.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Half-widths (um, lab x and y) of the beam's half-maximum contour.
std::array<double, 2> half_maximum_um(const BeamProfile& b) {
  switch (b.kind) {
    case kBeamGaussian: return {1.1774100225154747 * b.sigma_um[0], 1.1774100225154747 * b.sigma_um[1]};
    case kBeamTopHat: return {b.half_um[0], b.half_um[1]};
    default: return {1.1774100225154747 * b.image_rms_um[0], 1.1774100225154747 * b.image_rms_um[1]};
  }
}

// Whether lab point (x, y) lies within the half-maximum contour swept from (x0, y0) to (x1,
// y1). In units of the half-widths the contour is the unit disk (Gaussian, image) or the unit
// square (top-hat), and the swept region is the segment plus it: the point is inside when its
// distance to the segment is at most 1 (disk), or when some point of the segment is less than
// 1 from it along both axes (square: a column centred on a top-hat's edge is half outside).
bool inside_swept_contour(double x, double y, double x0, double y0, double x1, double y1, const std::array<double, 2>& h,
                          bool square) {
  const double p[2] = {(x - x0) / h[0], (y - y0) / h[1]};
  const double d[2] = {(x1 - x0) / h[0], (y1 - y0) / h[1]};
  if (square) {
    double lo = 0, hi = 1;  // the u in [0, 1] with |p - u d| <= 1 on both axes
    for (int a = 0; a < 2; ++a) {
      if (d[a] == 0) {
        if (std::fabs(p[a]) >= 1) return false;
        continue;
      }
      const double u0 = (p[a] - 1) / d[a], u1 = (p[a] + 1) / d[a];
      lo = std::max(lo, std::min(u0, u1));
      hi = std::min(hi, std::max(u0, u1));
    }
    return lo < hi;
  }
  const double len2 = d[0] * d[0] + d[1] * d[1];
  const double u = len2 > 0 ? std::clamp((p[0] * d[0] + p[1] * d[1]) / len2, 0.0, 1.0) : 0.0;
  const double ex = p[0] - u * d[0], ey = p[1] - u * d[1];
  return ex * ex + ey * ey <= 1.0;
}

// Per ray and material present: the largest final dose, the sum of final doses and the voxel
// count along the ray; material by material (neighbouring rays side by side, as the walk
// adds a slice's voxels of neighbouring rays).
// BulkVectors: tens of MB on a large lattice, zero when new.
struct RayMaterialDose {
  int64_t rays = 0;
  BulkVector<float> max_Gy;
  BulkVector<double> sum_Gy;
  BulkVector<int32_t> voxels;
  size_t at(int64_t ray, int m) const { return static_cast<size_t>(m) * rays + ray; }
};

}  // namespace

PointTable point_table(const Scene& scene, const MaterialTable& materials, const VoxelGrid& grid,
                       const Timeline& timeline, const DoseResults& results, int threads) {
  PointTable t;
  // Decided from the exposures, before anything is planned: one stage angle throughout.
  if (!at_one_pose(timeline)) {
    t.not_built = "the scan turns the sample (several stage angles): the per-point table of such scans is not built yet";
    return t;
  }
  const GridGeometry& g = grid.geometry;
  const BeamProfile beam = make_beam_profile(scene.beam);
  const std::vector<SubExposure> subs = plan_sub_exposures(timeline, beam, g, rotation_substep_deg(scene.sample.stage, beam, g));
  DOSEMAP_BUG_CHECK(pose_blocks(subs).size() <= 1, "one stage angle but several poses");

  // What the table reports on: every material present (its dose grid), then every
  // component grid ("dose:<component>": the dose to that component in every material that
  // holds it), each with the materials whose voxels count for it.
  struct Entry {
    const float* dose_Gy;
    std::vector<char> counts;  // [material]
  };
  std::vector<Entry> entries;
  const ThresholdScale& scale = results.tables.thresholds;
  auto scale_of = [&](int material) {
    std::vector<Threshold> own;
    for (const auto& [label, dose] : scale.of(material)) own.push_back({scale.labels[label], dose});
    return own;
  };
  {
    std::vector<char> present(materials.materials.size(), 0);
    for (MaterialId m : grid.material)
      if (m != kVoidId) present[m] = 1;
    for (size_t m = 0; m < present.size(); ++m)
      if (present[m]) {
        t.materials.push_back(materials.materials[m].name);
        t.thresholds.push_back(scale_of(static_cast<int>(m)));
        entries.push_back({results.dose_Gy.data(), std::vector<char>(present.size(), 0)});
        entries.back().counts[m] = 1;
      }
    const std::vector<std::vector<bool>> holds = component_presence(results.tables);
    for (size_t c = 0; c < holds.size(); ++c) {
      Entry e{results.component_dose(static_cast<int>(c)), std::vector<char>(present.size(), 0)};
      bool any = false;
      for (size_t m = 0; m < present.size(); ++m) any |= (e.counts[m] = present[m] && holds[c][m]) != 0;
      if (!any) continue;
      t.materials.push_back("dose:" + results.tables.component_grid_names[c]);
      t.thresholds.push_back(scale_of(results.tables.component_material[c]));
      entries.push_back(std::move(e));
    }
  }
  const int M = static_cast<int>(t.materials.size());

  // The rows, and the sub-exposures of each (a contiguous range: they are planned in order).
  const size_t rows = timeline.exposures.size();
  std::vector<size_t> first_sub(rows + 1, subs.size());
  for (size_t s = subs.size(); s-- > 0;) first_sub[subs[s].exposure] = s;
  for (size_t e = rows; e-- > 0;) first_sub[e] = std::min(first_sub[e], first_sub[e + 1]);
  t.point = point_in_step(timeline);
  for (auto* v : {&t.step, &t.repetition}) v->reserve(rows);
  for (auto* v : {&t.x_um, &t.y_um, &t.x_end_um, &t.y_end_um, &t.angle_deg, &t.t_start_s, &t.beam_on_s}) v->reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    const Exposure& e = timeline.exposures[r];
    t.step.push_back(e.step);
    t.repetition.push_back(e.repetition);
    t.x_um.push_back(e.x0_um);
    t.y_um.push_back(e.y0_um);
    t.x_end_um.push_back(e.x1_um);
    t.y_end_um.push_back(e.y1_um);
    t.angle_deg.push_back(e.angle0_deg);
    t.t_start_s.push_back(e.t_start_s);
    t.beam_on_s.push_back(e.duration_s);
  }
  t.beam_columns.assign(rows, 0);
  t.dose_max_Gy.assign(M, std::vector<double>(rows, kNaN));
  t.dose_mean_Gy.assign(M, std::vector<double>(rows, kNaN));
  t.rate_peak_Gy_s.assign(M, std::vector<double>(rows, kNaN));
  t.thresholds_passed.assign(M, std::vector<int32_t>(rows, 0));
  if (subs.empty()) return t;

  // The pose's rays, their histories, and each ray's final dose per material.
  const RayLattice L = pose_lattice(stage_pose(scene.sample.stage, g, subs.front().angle_deg), g);
  FluenceHistoryBuilder builder(threads);
  const FluenceHistory& history = builder.build(
      HistoryJob{subs.data(), static_cast<long long>(subs.size()), beam, L, 0, L.n2}, nullptr);
  const HistoryView h = history.view();
  const int64_t rays = ray_count(L);
  RayMaterialDose per_ray;
  per_ray.rays = rays;
  per_ray.max_Gy.resize(static_cast<size_t>(rays) * M);  // zero
  per_ray.sum_Gy.resize(static_cast<size_t>(rays) * M);
  per_ray.voxels.resize(static_cast<size_t>(rays) * M);
  // Per material, the entries its voxels count for: entry_list[entry_begin[m]..entry_begin[m + 1]).
  std::vector<int> entry_begin(materials.materials.size() + 1, 0), entry_list;
  for (size_t m = 0; m < materials.materials.size(); ++m) {
    for (int n = 0; n < M; ++n)
      if (entries[n].counts[m]) entry_list.push_back(n);
    entry_begin[m + 1] = static_cast<int>(entry_list.size());
  }
  std::vector<const float*> entry_dose(M);
  for (int n = 0; n < M; ++n) entry_dose[n] = entries[n].dose_Gy;
  // Each ray walked as the march walks it (ray_voxel), one owner per ray, in parallel; like
  // the CPU march, groups of neighbouring rays slice by slice, so that a slice's voxels of a
  // group are read together (each ray's sums are added in the same order as alone).
  constexpr int64_t kGroup = 128;
  const bool columns = grid_columns_lattice(L);
#pragma omp parallel for num_threads(worker_threads(threads)) schedule(dynamic, 4)
  for (int64_t r0 = 0; r0 < rays; r0 += kGroup) {
    const int64_t r1 = std::min(rays, r0 + kGroup);
    if (columns) {
      // Ray r is column r: a slice's voxels of the group are consecutive, and so are each run
      // of one material's, added to neighbouring rays' sums as vectors (one ray per lane).
      for (long long q = 0; q < L.n[L.dom]; ++q) {
        const int64_t slice = q * rays;
        for (int64_t e, r = r0; r < r1; r = e) {
          const MaterialId m = grid.material[slice + r];
          for (e = r + 1; e < r1 && grid.material[slice + e] == m;) ++e;
          if (m == kVoidId) continue;
          for (int k = entry_begin[m]; k < entry_begin[m + 1]; ++k) {
            const int n = entry_list[k];
            const float* dose = entry_dose[n] + slice;
            float* max_Gy = per_ray.max_Gy.data() + per_ray.at(0, n);
            double* sum_Gy = per_ray.sum_Gy.data() + per_ray.at(0, n);
            int32_t* voxels = per_ray.voxels.data() + per_ray.at(0, n);
            for (int64_t i = r; i < e; ++i) {
              max_Gy[i] = std::max(max_Gy[i], dose[i]);
              sum_Gy[i] += dose[i];
              voxels[i]++;
            }
          }
        }
      }
      continue;
    }
    long long m1[kGroup], m2[kGroup];
    for (int64_t r = r0; r < r1; ++r) ray_lattice_indices(L, r, &m1[r - r0], &m2[r - r0]);
    for (long long q = 0; q < L.n[L.dom]; ++q)
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t v = ray_voxel(L, m1[r - r0], m2[r - r0], q);
        if (v < 0 || grid.material[v] == kVoidId) continue;
        const MaterialId m = grid.material[v];
        for (int k = entry_begin[m]; k < entry_begin[m + 1]; ++k) {
          const int n = entry_list[k];
          const float dose = entry_dose[n][v];
          const size_t a = per_ray.at(r, n);
          per_ray.max_Gy[a] = std::max(per_ray.max_Gy[a], dose);
          per_ray.sum_Gy[a] += dose;
          per_ray.voxels[a]++;
        }
      }
  }

  const std::array<double, 2> half = half_maximum_um(beam);
  BeamProfile core = beam;  // the rays a half-maximum contour can reach
  core.reach_um[0] = half[0] + 0.5 * std::max(L.w, std::fabs(L.ux));
  core.reach_um[1] = half[1] + 0.5 * std::max(L.h, std::fabs(L.vy));
#pragma omp parallel for num_threads(worker_threads(threads)) schedule(dynamic, 64)
  for (int64_t row = 0; row < static_cast<int64_t>(rows); ++row) {
    const Exposure& e = timeline.exposures[row];
    const size_t s0 = first_sub[row], s1 = first_sub[row + 1];
    const double t_end = e.t_end_s();
    std::vector<double> max_dose(M, -1), sum_dose(M, 0), peak_rate(M, 0);
    std::vector<int64_t> count(M, 0);
    int32_t columns = 0;
    const long long centre = ray_at_lab_point(L, e.x0_um, e.y0_um);
    const ColumnRange rect = ray_footprint(core, L, e.x0_um, e.y0_um, e.x1_um, e.y1_um);
    for (long long r2 = rect.j0; r2 < rect.j1; ++r2)
      for (long long r1 = rect.i0; r1 < rect.i1; ++r1) {
        const long long r = r2 * L.n1 + r1;
        double x0, x1, y0, y1;
        ray_cell(L, r1, r2, &x0, &x1, &y0, &y1);
        if (r != centre && !inside_swept_contour(0.5 * (x0 + x1), 0.5 * (y0 + y1), e.x0_um, e.y0_um, e.x1_um, e.y1_um, half,
                                                 beam.kind == kBeamTopHat))
          continue;
        const int64_t begin = h.offset[r], end = h.offset[r + 1];
        if (begin == end) continue;  // no photon on it at all
        ++columns;
        const double total = h.cum_fluence_m2[end - 1];
        if (!(total > 0)) continue;
        const double after = fluence_at_time(h, begin, end, t_end) / total;
        // The peak rate during the visit: its largest sub-exposure fluence per second here.
        double rate = 0;  // per unit final dose
        int64_t ev = std::lower_bound(h.sub_exposure + begin, h.sub_exposure + end, static_cast<uint32_t>(s0)) - h.sub_exposure;
        for (; ev < end && h.sub_exposure[ev] < s1; ++ev) {
          const double f = h.cum_fluence_m2[ev] - (ev > begin ? h.cum_fluence_m2[ev - 1] : 0.0);
          rate = std::max(rate, f / h.duration_s[h.sub_exposure[ev]] / total);
        }
        for (int m = 0; m < M; ++m) {
          const size_t a = per_ray.at(r, m);
          if (per_ray.voxels[a] == 0) continue;
          max_dose[m] = std::max(max_dose[m], after * per_ray.max_Gy[a]);
          sum_dose[m] += after * per_ray.sum_Gy[a];
          count[m] += per_ray.voxels[a];
          peak_rate[m] = std::max(peak_rate[m], rate * per_ray.max_Gy[a]);
        }
      }
    t.beam_columns[row] = columns;
    for (int m = 0; m < M; ++m) {
      if (count[m] == 0) continue;
      t.dose_max_Gy[m][row] = max_dose[m];
      t.dose_mean_Gy[m][row] = sum_dose[m] / static_cast<double>(count[m]);
      t.rate_peak_Gy_s[m][row] = peak_rate[m];
      int32_t passed = 0;
      const std::vector<Threshold>& own = t.thresholds[m];
      while (passed < static_cast<int32_t>(own.size()) && max_dose[m] >= own[passed].dose_Gy) ++passed;
      t.thresholds_passed[m][row] = passed;
    }
  }
  return t;
}

void write_points_csv(const PointTable& t, std::ostream& out) {
  out << "step,point,repetition,x_um,y_um,x_end_um,y_end_um,angle_deg,t_start_s,beam_on_s,beam_columns";
  for (const std::string& m : t.materials)
    out << "," << m << "_dose_max_Gy," << m << "_dose_mean_Gy," << m << "_rate_peak_Gy_s," << m << "_threshold_passed";
  out << "\n";
  auto num = [&](double v) {
    if (std::isnan(v)) return std::string();
    return fmt_g(v, 9);
  };
  for (size_t r = 0; r < t.rows(); ++r) {
    out << t.step[r] << "," << t.point[r] << "," << t.repetition[r] << "," << num(t.x_um[r]) << "," << num(t.y_um[r]) << ","
        << num(t.x_end_um[r]) << "," << num(t.y_end_um[r]) << "," << num(t.angle_deg[r]) << "," << num(t.t_start_s[r])
        << "," << num(t.beam_on_s[r]) << "," << t.beam_columns[r];
    for (size_t m = 0; m < t.materials.size(); ++m) {
      const int32_t passed = t.thresholds_passed[m][r];
      out << "," << num(t.dose_max_Gy[m][r]) << "," << num(t.dose_mean_Gy[m][r]) << "," << num(t.rate_peak_Gy_s[m][r]) << ","
          << (passed > 0 ? t.thresholds[m][passed - 1].label : std::string());
    }
    out << "\n";
  }
}

}  // namespace dosemap
