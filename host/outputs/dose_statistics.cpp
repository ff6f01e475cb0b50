#include "host/outputs/dose_statistics.h"

#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "host/common/worker_threads.h"

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

// `thresholds`: the material's dose per label (+inf where it does not carry the label).
void add(Partial& p, int64_t voxel, double dose, double mass_kg, double rate, const double* thresholds) {
  p.voxels++;
  p.deposited_J += dose * mass_kg;
  if (dose > p.dose_max) {  // voxels arrive in increasing index: the first maximum wins
    p.dose_max = dose;
    p.max_voxel = voxel;
  }
  p.rate_max = std::max(p.rate_max, rate);
  for (size_t t = 0; t < p.above.size(); ++t)
    if (dose >= thresholds[t]) p.above[t]++;
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
  // per-thread split would change the order of additions with the threads).
  constexpr int64_t kBlock = int64_t(1) << 18;
  const int64_t blocks = (r.voxels + kBlock - 1) / kBlock;
  const int nthreads = worker_threads(threads);
  Partial empty;
  empty.above.assign(n_thr, 0);
  std::vector<Partial> mat_total(n_mat, empty), slot_total(n_slots, empty);
  double deposited = 0;
  std::pair<double, int64_t> best{-1.0, -1};
#pragma omp parallel num_threads(nthreads)
  {
    // One block's partials; only the materials a block touches are merged and reset.
    std::vector<Partial> mat_part(n_mat, empty), slot_part(n_slots, empty);
    std::vector<int> touched;
#pragma omp for ordered schedule(static, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      double dep_part = 0;
      std::pair<double, int64_t> block_best{-1.0, -1};
      touched.clear();
      for (int64_t v = b * kBlock; v < std::min(r.voxels, (b + 1) * kBlock); ++v) {
        const MaterialId m = grid.material[v];
        if (m == kVoidId) continue;
        const double dose = r.dose_Gy[v];
        const double rate = r.rate_peak_Gy_s[v];
        const double mass_kg = mt.materials[m].density_g_cm3 * voxel_cm3 * 1e-3;
        if (mat_part[m].voxels == 0) touched.push_back(m);
        add(mat_part[m], v, dose, mass_kg, rate, material_thresholds(m));
        dep_part += dose * mass_kg;
        if (dose > block_best.first) block_best = {dose, v};
        for (int s = tt.component_begin[m]; s < tt.component_begin[m + 1]; ++s) {
          const double dc = r.component_dose(tt.slot_grid[s])[v];
          // Same history as the voxel: the component's rate scales like its dose.
          const double rc = dose > 0 ? dc * (rate / dose) : 0.0;
          add(slot_part[s], v, dc, slot_mass_kg[s], rc, slot_thresholds(s));
        }
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
  }

  RunStatistics st;
  st.deposited_J = deposited;
  if (best.second >= 0) {
    st.dose_max_Gy = best.first;
    st.dose_max_voxel = best.second;
  }
  // Earliest crossings of each material from its voxels' crossing times (a minimum: the
  // same whichever thread saw which voxel).
  std::vector<std::vector<double>> first(n_mat, std::vector<double>(n_thr, -1));
  auto lower = [](double& f, double t) {
    if (t >= 0 && (f < 0 || t < f)) f = t;
  };
#pragma omp parallel num_threads(nthreads)
  {
    std::vector<std::vector<double>> mine(n_mat, std::vector<double>(n_thr, -1));
    for (int t = 0; t < n_thr; ++t) {
      const float* cross = r.crossing(t);
#pragma omp for schedule(static) nowait
      for (int64_t v = 0; v < r.voxels; ++v) {
        const MaterialId m = grid.material[v];
        if (m != kVoidId) lower(mine[m][t], cross[v]);
      }
    }
#pragma omp critical
    for (int m = 0; m < n_mat; ++m)
      for (int t = 0; t < n_thr; ++t) lower(first[m][t], mine[m][t]);
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
