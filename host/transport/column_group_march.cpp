#include "host/transport/column_group_march.h"

#include <vector>

#include "host/common/simd_clones.h"

namespace dosemap {

struct ColumnGroupScratch {
  explicit ColumnGroupScratch(int rays)
      : group_rays(rays),
        walks(rays),
        marching(rays),
        total(rays),
        peak_rate(rays),
        mean_rate(rays),
        sum_sq_rate(rays),
        deposited(rays),
        other(rays),
        line_t(static_cast<size_t>(rays) * kMaxSpectrumLines),
        g(rays),
        removed_other(rays),
        after(rays),
        before(rays),
        stored(rays),
        crossed(rays) {}
  int group_rays;
  std::vector<RayWalk> walks;
  std::vector<unsigned char> marching;
  // Each ray's block, as RayWalk has it, and its running energy balance.
  std::vector<double> total, peak_rate, mean_rate, sum_sq_rate, deposited, other;
  std::vector<double> line_t;  // [line * n + ray]: the rays' transmission per spectrum line
  // The run's voxels: dose per unit fluence (voxel or component), the dose before and as
  // stored (a component's: before and after, in double), and which rays' voxel crossed a
  // threshold (nonzero; the crossing times are found after the vector loop). The marks are
  // 64-bit, the width of the comparisons of doubles: as bytes, each threshold's were packed
  // and merged through memory, which cost about as much as the update itself.
  std::vector<double> g, removed_other, after;
  std::vector<float> before, stored;
  std::vector<int64_t> crossed;
};

std::unique_ptr<ColumnGroupScratch, void (*)(ColumnGroupScratch*)> make_column_group_scratch(int group_rays) {
  return {new ColumnGroupScratch(group_rays), [](ColumnGroupScratch* s) { delete s; }};
}

namespace {

// The vector loops of one run: rays [i0, i1) of the group (n rays), all entering voxels
// slice + i of material m. Each loop does, per ray, what walk_through_voxel does, in its
// order of operations; cloned for AVX-512 and AVX2 (the loader picks one), and compiled
// without FMA contraction (CMakeLists.txt), so that every clone rounds as the scalar code.
struct RunArgs {
  const MarchParams* p;
  const DoseState* st;
  int64_t slice, voxels;
  int n, i0, i1;
  uint16_t m;
  ColumnGroupScratch* s;
};

// g and the energy removed but not deposited (segment_dose_per_fluence), then the voxel's
// dose, peak and mean rate, the ray's balance; marks the rays whose voxel crossed a
// threshold (s->crossed) and returns whether any did (most runs cross none).
DOSEMAP_SIMD_CLONES bool run_voxel_dose(const RunArgs& a) {
  const MarchParams& p = *a.p;
  const int64_t row = static_cast<int64_t>(a.m) * p.n_lines;
  double* __restrict g = a.s->g.data();
  double* __restrict ro = a.s->removed_other.data();
  const double* __restrict T = a.s->line_t.data();
  const int n = a.n, i0 = a.i0, i1 = a.i1;
  // The sums start from the first line's terms, as 0 + x is x (but for x = -0, which a term
  // of g never is, and which adds nothing to `other`, the one sum ro goes to).
  for (int e = 0; e < p.n_lines; ++e) {
    const double energy = p.line_energy_J[e], mean_fluence = p.voxel_mean_fluence[row + e],
                 deposition = p.deposition_m2_kg[row + e], other_fraction = p.other_fraction[row + e];
    const double* __restrict Te = T + static_cast<int64_t>(e) * n;
    if (e == 0) {
#pragma omp simd
      for (int i = i0; i < i1; ++i) {
        const double w = energy * Te[i];
        g[i] = w * mean_fluence * deposition;
        ro[i] = w * other_fraction;
      }
      continue;
    }
#pragma omp simd
    for (int i = i0; i < i1; ++i) {
      const double w = energy * Te[i];
      g[i] += w * mean_fluence * deposition;
      ro[i] += w * other_fraction;
    }
  }
  float* __restrict dose = a.st->dose_Gy + a.slice;
  float* __restrict peak = a.st->rate_peak_Gy_s + a.slice;
  float* __restrict mean = a.st->rate_mean_Gy_s + a.slice;
  const double* __restrict total = a.s->total.data();
  const double* __restrict peak_rate = a.s->peak_rate.data();
  const double* __restrict mean_rate = a.s->mean_rate.data();
  const double* __restrict sum_sq_rate = a.s->sum_sq_rate.data();
  double* __restrict deposited = a.s->deposited.data();
  double* __restrict other = a.s->other.data();
  float* __restrict before_out = a.s->before.data();
  float* __restrict stored_out = a.s->stored.data();
  const double density = p.density_kg_m3[a.m], volume = p.voxel_volume_m3, area = p.column_area_m2;
#pragma omp simd
  for (int i = i0; i < i1; ++i) {
    const float before = dose[i];
    const double after = (double)before + g[i] * total[i];
    const float stored = (float)after;
    dose[i] = stored;
    const float rate = (float)(g[i] * peak_rate[i]);
    const float old_peak = peak[i];
    peak[i] = rate > old_peak ? rate : old_peak;
    const float old_mean = mean[i];
    const float first_mean = (float)(g[i] * mean_rate[i]);
    const float next_mean = (float)(((double)old_mean * before + g[i] * g[i] * sum_sq_rate[i]) / after);
    mean[i] = before == 0 ? first_mean : after > 0 ? next_mean : old_mean;
    deposited[i] += g[i] * density * volume;
    other[i] += ro[i] * area;
    before_out[i] = before;
    stored_out[i] = stored;
  }
  const double* material_threshold = p.threshold_Gy + static_cast<int64_t>(a.m) * p.n_thresholds;
  int64_t* __restrict crossed = a.s->crossed.data();
#pragma omp simd
  for (int i = i0; i < i1; ++i) crossed[i] = 0;
  for (int t = 0; t < p.n_thresholds; ++t) {
    const double threshold = material_threshold[t];
#pragma omp simd
    for (int i = i0; i < i1; ++i)
      crossed[i] |= static_cast<int64_t>((threshold <= stored_out[i]) & (before_out[i] < threshold) & (g[i] > 0));
  }
  int64_t any = 0;
#pragma omp simd reduction(| : any)
  for (int i = i0; i < i1; ++i) any |= crossed[i];
  return any != 0;
}

// Slot s's dose per unit fluence (slot_dose_per_fluence) and its component grid's update;
// marks the rays whose component crossed a threshold and returns whether any did.
// before/after hold the component's.
DOSEMAP_SIMD_CLONES bool run_component_dose(const RunArgs& a, int slot) {
  const MarchParams& p = *a.p;
  const int64_t row = static_cast<int64_t>(a.m) * p.n_lines;
  double* __restrict gc = a.s->g.data();
  const double* __restrict T = a.s->line_t.data();
  const int n = a.n, i0 = a.i0, i1 = a.i1;
  for (int e = 0; e < p.n_lines; ++e) {  // from the first line's term, as run_voxel_dose
    const double energy = p.line_energy_J[e], mean_fluence = p.voxel_mean_fluence[row + e],
                 deposition = p.slot_deposition_m2_kg[static_cast<int64_t>(slot) * p.n_lines + e];
    const double* __restrict Te = T + static_cast<int64_t>(e) * n;
    if (e == 0) {
#pragma omp simd
      for (int i = i0; i < i1; ++i) gc[i] = energy * Te[i] * mean_fluence * deposition;
      continue;
    }
#pragma omp simd
    for (int i = i0; i < i1; ++i) gc[i] += energy * Te[i] * mean_fluence * deposition;
  }
  float* __restrict component = a.st->component_dose_Gy + p.slot_grid[slot] * a.voxels + a.slice;
  const double* __restrict total = a.s->total.data();
  float* __restrict before_out = a.s->before.data();
  double* __restrict after_out = a.s->after.data();
#pragma omp simd
  for (int i = i0; i < i1; ++i) {
    const float before = component[i];
    const double after = (double)before + gc[i] * total[i];
    component[i] = (float)after;
    before_out[i] = before;
    after_out[i] = after;
  }
  const double* component_threshold = p.component_threshold_Gy + static_cast<int64_t>(p.slot_grid[slot]) * p.n_thresholds;
  int64_t* __restrict crossed = a.s->crossed.data();
#pragma omp simd
  for (int i = i0; i < i1; ++i) crossed[i] = 0;
  for (int t = 0; t < p.n_thresholds; ++t) {
    const double threshold = component_threshold[t];
#pragma omp simd
    for (int i = i0; i < i1; ++i)
      crossed[i] |= static_cast<int64_t>((gc[i] > 0) & (before_out[i] < threshold) & (after_out[i] >= threshold));
  }
  int64_t any = 0;
#pragma omp simd reduction(| : any)
  for (int i = i0; i < i1; ++i) any |= crossed[i];
  return any != 0;
}

DOSEMAP_SIMD_CLONES void run_attenuate(const RunArgs& a) {
  const MarchParams& p = *a.p;
  const int64_t row = static_cast<int64_t>(a.m) * p.n_lines;
  double* __restrict T = a.s->line_t.data();
  for (int e = 0; e < p.n_lines; ++e) {
    const double transmission = p.voxel_transmission[row + e];
    double* __restrict Te = T + static_cast<int64_t>(e) * a.n;
#pragma omp simd
    for (int i = a.i0; i < a.i1; ++i) Te[i] *= transmission;
  }
}

// One run through its voxels: the vector loops, then per ray what they marked and the frames.
void march_run(const RunArgs& a, const HistoryView& h, int64_t columns) {
  const MarchParams& p = *a.p;
  ColumnGroupScratch& s = *a.s;
  const DoseState& st = *a.st;
  const bool crossed = run_voxel_dose(a);
  const double* material_threshold = p.threshold_Gy + static_cast<int64_t>(a.m) * p.n_thresholds;
  for (int i = crossed ? a.i0 : a.i1; i < a.i1; ++i) {
    if (!s.crossed[i]) continue;
    const RayWalk& w = s.walks[i];
    for (int t = 0; t < p.n_thresholds; ++t) {
      const double threshold = material_threshold[t];
      if (threshold <= s.stored[i] && s.before[i] < threshold && s.g[i] > 0)
        st.crossing_s[t * a.voxels + a.slice + i] =
            (float)crossing_time_s(h, w.begin, w.end, (threshold - s.before[i]) / s.g[i]);
    }
  }
  // The frames use the voxel's g: before the components reuse its array.
  for (int f = 0; f < p.n_frames; ++f) {
    const double t = p.frame_time_s[f];
    float* frame = st.frame_dose_Gy + f * a.voxels + a.slice;
    for (int i = a.i0; i < a.i1; ++i) {
      const RayWalk& w = s.walks[i];
      if (t <= w.first_s) continue;  // nothing of this block by then
      const double fluence = t >= w.last_s ? w.total : fluence_at_time(h, w.begin, w.end, t);
      frame[i] = (float)((double)frame[i] + s.g[i] * fluence);
    }
  }
  for (int slot = p.component_begin[a.m]; slot < p.component_begin[a.m + 1]; ++slot) {
    if (!run_component_dose(a, slot)) continue;
    const double* component_threshold =
        p.component_threshold_Gy + static_cast<int64_t>(p.slot_grid[slot]) * p.n_thresholds;
    for (int i = a.i0; i < a.i1; ++i) {
      if (!s.crossed[i]) continue;
      const RayWalk& w = s.walks[i];
      const float before = s.before[i];
      const double gc = s.g[i], after = s.after[i];
      for (int t = 0; t < p.n_thresholds; ++t) {
        const double threshold = component_threshold[t];
        if (gc > 0 && before < threshold && after >= threshold)
          atomic_min_time(st.slot_first_crossing_s + ((int64_t)slot * p.n_thresholds + t) * columns +
                              (a.slice + i) % columns,
                          (float)crossing_time_s(h, w.begin, w.end, (threshold - before) / gc));
      }
    }
  }
  run_attenuate(a);
}

}  // namespace

void march_column_group(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                        const DoseState& st, int64_t r0, int n, ColumnGroupScratch& s) {
  DM_EXPECT(n <= s.group_rays && grid_columns_lattice(L) && p.n_lines >= 1 && p.n_lines <= kMaxSpectrumLines);
  const int64_t columns = L.n[0] * L.n[1];
  const int64_t voxels = columns * L.n[2];
  int left = 0;
  for (int i = 0; i < n; ++i) {
    RayWalk& w = s.walks[i];
    s.marching[i] = begin_ray_walk(p, L, h, st, r0 + i, LineTransmission{s.line_t.data() + i, n}, &w);
    left += s.marching[i];
    s.total[i] = w.total;
    s.peak_rate[i] = w.peak_rate;
    s.mean_rate[i] = w.mean_rate;
    s.sum_sq_rate[i] = w.sum_sq_rate;
    s.deposited[i] = s.other[i] = 0;
  }
  if (left == 0) return;
  RunArgs a{&p, &st, 0, voxels, n, 0, 0, 0, &s};
  // The next slice's rows of the grids, asked for while this one is marched: a group's row
  // of a grid is a few cache lines a plane away from the last, too short a stream for the
  // hardware prefetcher, so each slice otherwise began with a wait on memory for each grid.
  // The component grids are those of the material this slice mostly holds (layers are
  // thicker than a voxel).
  auto prefetch = [](const void* row, int64_t bytes, bool write) {
    for (int64_t b = 0; b < bytes; b += 64)
      write ? __builtin_prefetch(static_cast<const char*>(row) + b, 1, 3)
            : __builtin_prefetch(static_cast<const char*>(row) + b, 0, 3);
  };
  constexpr int kPrefetchSlices = 2;
  int first_marching = 0;
  while (!s.marching[first_marching]) ++first_marching;
  for (int64_t q = 0; q < L.n[2]; ++q) {
    a.slice = q * columns + r0;
    const uint16_t* slice_material = material + a.slice;
    if (q + kPrefetchSlices < L.n[2]) {
      const int64_t next = a.slice + kPrefetchSlices * columns;
      prefetch(material + next, n * 2, false);
      prefetch(st.dose_Gy + next, n * 4, true);
      prefetch(st.rate_peak_Gy_s + next, n * 4, true);
      prefetch(st.rate_mean_Gy_s + next, n * 4, true);
      const uint16_t m = slice_material[first_marching];
      if (m != kVoidMaterialId)
        for (int slot = p.component_begin[m]; slot < p.component_begin[m + 1]; ++slot)
          prefetch(st.component_dose_Gy + p.slot_grid[slot] * voxels + next, n * 4, true);
    }
    // Runs of rays entering voxels of one material (void takes nothing).
    for (int i = 0; i < n;) {
      const uint16_t m = slice_material[i];
      if (!s.marching[i] || m == kVoidMaterialId) {
        ++i;
        continue;
      }
      int j = i + 1;
      while (j < n && s.marching[j] && slice_material[j] == m) ++j;
      a.i0 = i;
      a.i1 = j;
      a.m = m;
      march_run(a, h, columns);
      i = j;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (!s.marching[i]) continue;
    s.walks[i].deposited = s.deposited[i];
    s.walks[i].other = s.other[i];
    end_ray_walk(p, st, r0 + i, s.walks[i], LineTransmission{s.line_t.data() + i, n});
  }
}

}  // namespace dosemap
