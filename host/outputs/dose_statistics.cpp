#include "host/outputs/dose_statistics.h"

#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "host/common/worker_threads.h"
#include "host/outputs/float_run_reductions.h"

namespace dosemap {

namespace {

// Accumulators one thread keeps per material (and per component of it).
struct Partial {
  int64_t voxels = 0;
  double deposited_J = 0, dose_max = -1, rate_max = 0;
  int64_t max_voxel = -1;
  std::vector<int64_t> above;
};

void merge(Partial& into, const Partial& from) {
  into.voxels += from.voxels;
  into.deposited_J += from.deposited_J;
  if (from.max_voxel >= 0 && (into.max_voxel < 0 || from.dose_max > into.dose_max ||
                              (from.dose_max == into.dose_max && from.max_voxel < into.max_voxel))) {
    into.dose_max = from.dose_max;
    into.max_voxel = from.max_voxel;
  }
  into.rate_max = std::max(into.rate_max, from.rate_max);
  for (size_t t = 0; t < into.above.size(); ++t) into.above[t] += from.above[t];
}

// Adds the values x[0..n) of voxels v0.. (in index order) to p's count, maximum (the first
// voxel of it) and counts above `thresholds` (one per label, +inf where the material does not
// carry the label); returns the index in x of the maximum, or -1 where it is not above p's.
// The deposited energy and the rate are the caller's: they differ between doses.
int64_t add_values(Partial& p, int64_t v0, const float* x, int64_t n, const double* thresholds) {
  p.voxels += n;
  const float largest = max_of(x, n);
  int64_t at = -1;
  if (largest > p.dose_max) {  // as voxel by voxel: the first voxel of the largest value
    at = first_index_of(x, n, largest);
    p.dose_max = x[at];
    p.max_voxel = v0 + at;
  }
  for (size_t t = 0; t < p.above.size(); ++t) p.above[t] += count_at_least(x, n, thresholds[t]);
  return at;
}

// Adds x[i] * mass_kg to `sum` in the order of i (the order the statistics always added in).
double add_deposited(double sum, const float* x, int64_t n, double mass_kg) {
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * mass_kg;
  return sum;
}

void finish(DoseStats& s, const Partial& p, double mass_per_voxel_g, double voxel_mm3, const double* thresholds) {
  s.voxels = p.voxels;
  s.mass_g = p.voxels * mass_per_voxel_g;
  s.deposited_J = p.deposited_J;
  s.dose_mean_Gy = s.mass_g > 0 ? s.deposited_J / (s.mass_g * 1e-3) : 0;
  s.dose_max_Gy = std::max(0.0, p.dose_max);
  s.dose_max_voxel = p.max_voxel;
  s.rate_peak_max_Gy_s = p.rate_max;
  s.above.resize(p.above.size());
  for (size_t t = 0; t < p.above.size(); ++t) {
    s.above[t].threshold_Gy = thresholds[t];
    s.above[t].voxels = p.above[t];
    s.above[t].volume_mm3 = p.above[t] * voxel_mm3;
  }
}

}  // namespace

RunStatistics compute_statistics(const MaterialTable& mt, const VoxelGrid& grid, const DoseResults& r, int threads) {
  const GridGeometry& g = grid.geometry;
  const TransportTables& tt = r.tables;
  const int n_mat = static_cast<int>(mt.materials.size());
  const int n_thr = tt.thresholds.count();
  auto material_thresholds = [&](int m) { return tt.thresholds.dose_Gy.data() + static_cast<size_t>(m) * n_thr; };
  auto slot_thresholds = [&](int s) { return tt.component_threshold_Gy.data() + static_cast<size_t>(tt.slot_grid[s]) * n_thr; };
  const int n_slots = static_cast<int>(tt.slot_grid.size());
  const double voxel_cm3 = g.voxel_volume_cm3();
  const double voxel_mm3 = voxel_cm3 * 1e3;
  // Mass of each slot's component in one voxel (kg): its share of the voxel's mass. For a
  // plain material reporting its own component grid the share is 1.
  std::vector<double> slot_mass_kg(n_slots, 0);
  std::vector<int> slot_material(n_slots, 0);
  for (int m = 0; m < n_mat; ++m) {
    const Material& mat = mt.materials[m];
    int k = 0;
    for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s, ++k) {
      slot_material[s] = m;
      double fraction = 1.0;
      if (mat.composite()) {
        int seen = 0;
        for (const auto& c : mat.components) {
          if (c.material < 0) continue;
          if (seen++ == k) fraction = c.mass_fraction;
        }
      }
      slot_mass_kg[s] = mat.density_g_cm3 * voxel_cm3 * 1e-3 * fraction;
    }
  }

  // Fixed blocks of voxels, each summed in voxel order and merged into the totals in block
  // order: every double sum is then the same for any thread count and any run (a
  // per-thread split would change the order of additions with the threads). Within a block,
  // each run of one material's voxels at once (layers and phases come in long runs).
  constexpr int64_t kBlock = int64_t(1) << 18;
  const int64_t blocks = (r.voxels + kBlock - 1) / kBlock;
  const int nthreads = worker_threads(threads);
  Partial empty;
  empty.above.assign(n_thr, 0);
  std::vector<Partial> mat_total(n_mat, empty), slot_total(n_slots, empty);
  double deposited = 0;
  std::pair<double, int64_t> best{-1.0, -1};
  // Earliest crossings of each material from its voxels' crossing times (a minimum: the
  // same whichever thread saw which voxel).
  std::vector<std::vector<double>> first(n_mat, std::vector<double>(n_thr, -1));
  auto lower = [](double& f, double t) {
    if (t >= 0 && (f < 0 || t < f)) f = t;
  };
#pragma omp parallel num_threads(nthreads)
  {
    // One block's partials; only the materials a block touches are merged and reset.
    std::vector<Partial> mat_part(n_mat, empty), slot_part(n_slots, empty);
    std::vector<int> touched;
    std::vector<std::vector<double>> first_mine(n_mat, std::vector<double>(n_thr, -1));
#pragma omp for ordered schedule(static, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      double dep_part = 0;
      std::pair<double, int64_t> block_best{-1.0, -1};
      touched.clear();
      const int64_t block_end = std::min(r.voxels, (b + 1) * kBlock);
      for (int64_t v0 = b * kBlock, v1; v0 < block_end; v0 = v1) {
        const MaterialId m = grid.material[v0];
        for (v1 = v0 + 1; v1 < block_end && grid.material[v1] == m;) ++v1;
        if (m == kVoidId) continue;
        const int64_t n = v1 - v0;
        const float* dose = r.dose_Gy.data() + v0;
        const float* rate = r.rate_peak_Gy_s.data() + v0;
        const double mass_kg = mt.materials[m].density_g_cm3 * voxel_cm3 * 1e-3;
        Partial& p = mat_part[m];
        if (p.voxels == 0) touched.push_back(m);
        // The two sums of the voxels' energy (the material's, the block's), voxel by voxel.
        double material_sum = p.deposited_J;
        for (int64_t i = 0; i < n; ++i) {
          const double energy_J = static_cast<double>(dose[i]) * mass_kg;
          material_sum += energy_J;
          dep_part += energy_J;
        }
        p.deposited_J = material_sum;
        // The block's maximum is at least the material's in it: a new one is the material's.
        const int64_t at = add_values(p, v0, dose, n, material_thresholds(m));
        if (at >= 0 && dose[at] > block_best.first) block_best = {dose[at], v0 + at};
        p.rate_max = std::max(p.rate_max, static_cast<double>(max_of(rate, n)));
        for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
          const float* part = r.component_dose(tt.slot_grid[s]) + v0;
          Partial& ps = slot_part[s];
          ps.deposited_J = add_deposited(ps.deposited_J, part, n, slot_mass_kg[s]);
          add_values(ps, v0, part, n, slot_thresholds(s));
          // Same history as the voxel: the component's rate scales like its dose.
          ps.rate_max = std::max(ps.rate_max, max_scaled_rate(part, rate, dose, n));
        }
        for (int t = 0; t < n_thr; ++t) lower(first_mine[m][t], min_non_negative(r.crossing(t) + v0, n));
      }
#pragma omp ordered
      {
        for (int m : touched) {
          merge(mat_total[m], mat_part[m]);
          mat_part[m] = empty;
          for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
            merge(slot_total[s], slot_part[s]);
            slot_part[s] = empty;
          }
        }
        deposited += dep_part;
        if (block_best.second >= 0 && block_best.first > best.first) best = block_best;  // first maximum wins
      }
    }
#pragma omp critical
    for (int m = 0; m < n_mat; ++m)
      for (int t = 0; t < n_thr; ++t) lower(first[m][t], first_mine[m][t]);
  }

  RunStatistics st;
  st.deposited_J = deposited;
  if (best.second >= 0) {
    st.dose_max_Gy = best.first;
    st.dose_max_voxel = best.second;
  }
  for (int m = 0; m < n_mat; ++m) {
    const Material& mat = mt.materials[m];
    MaterialStats ms;
    ms.name = mat.name;
    ms.index = m;
    finish(ms, mat_total[m], mat.density_g_cm3 * voxel_cm3, voxel_mm3, material_thresholds(m));
    for (int t = 0; t < n_thr; ++t) ms.above[t].first_crossing_s = first[m][t];
    if (mat.composite()) {
      for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
        DoseStats cs;
        cs.name = tt.component_grid_names[tt.slot_grid[s]];
        finish(cs, slot_total[s], slot_mass_kg[s] * 1e3, voxel_mm3, slot_thresholds(s));
        for (int t = 0; t < n_thr; ++t) cs.above[t].first_crossing_s = r.slot_first_crossing(s, t);
        ms.components.push_back(cs);
        ms.component_slots.push_back(s);
      }
    }
    st.materials.push_back(ms);
  }
  return st;
}

void check_run_invariants(const DoseResults& results, const RunStatistics& stats) {
  auto fits = [](double v) { return std::isfinite(v) && v <= FLT_MAX; };
  bool ok = fits(stats.deposited_J);
  for (const MaterialStats& m : stats.materials) {
    ok = ok && fits(m.dose_max_Gy) && fits(m.rate_peak_max_Gy_s);
    for (const DoseStats& c : m.components) ok = ok && fits(c.dose_max_Gy) && fits(c.rate_peak_max_Gy_s);
  }
  DOSEMAP_BUG_CHECK(ok, "a dose or dose rate is not finite despite the set-up's dose bound");
  const double dep_march = results.energy.deposited_J, dep_grid = stats.deposited_J;
  DOSEMAP_BUG_CHECK(std::fabs(dep_march - dep_grid) <= 1e-5 * std::max(std::fabs(dep_march), 1e-300) + 1e-300,
                    "deposited energy of the march and of the dose grid differ");
}

}  // namespace dosemap
