// The march: the one 3-D pass of the transport (docs/physics.md, "Transport" and "Poses
// and passes").
//
// A block is a run of sub-exposures that share a stage pose. At a fixed pose every ray of
// the pose's lattice (cuda/ray_lattice.h) carries its own fluence history F(t) (photons/m^2
// across the beam, from the beam profile integrated over the ray's cell) and crosses each
// voxel it visits over one segment. The dose the block adds to a voxel is G x F(t), with
// G = sum over spectrum lines e of w_e E_e T_e m_e (c/rho)_e the dose per unit fluence: T
// the transmission to the segment's entry, m = (1 - exp(-mu l)) / (mu l) the exact mean of
// the fluence along a segment of length l in a homogeneous voxel, c/rho the dose model's
// deposition coefficient. Each voxel holds exactly one ray per pose, so one march along the
// ray adds the block to the running per-voxel state: dose so far, peak and dose-weighted
// mean rate, the time each threshold is first reached (exact inside the exposure where it
// happens: "dose before + G F(t) reaches the threshold"), component doses and frames.
//
// With the beam along +z (every scene without a stage) the rays are the voxel columns and a
// scan is one block: the state starts at zero and the march computes exactly the values of
// the column march that preceded it.
//
// Plain structs and functions: compiled by g++ (CPU backend, one OpenMP thread per ray) and
// by nvcc (CUDA backend, one GPU thread per ray).
#pragma once

#include <stdint.h>

#include "cuda/device.h"
#include "cuda/engine_limits.h"
#include "cuda/ray_lattice.h"

namespace dosemap {

constexpr uint16_t kVoidMaterialId = 0xFFFF;

// Material and beam constants, flat arrays indexed [material * n_lines + line]. The four
// segment tables depend on the segment length, so on the pose (TransportTables::for_segment).
struct MarchParams {
  int64_t nz = 0;  // the grid's depth along z (sizes GPU slabs; the march takes its geometry from the lattice)
  int n_lines = 0;
  const double* line_energy_J = nullptr;  // [line] w_e E_e: photon fraction x energy (J)
  int n_materials = 0;
  const double* voxel_transmission = nullptr;  // exp(-mu l)
  const double* voxel_mean_fluence = nullptr;  // (1 - exp(-mu l)) / (mu l)
  const double* deposition_m2_kg = nullptr;    // c/rho of the dose model
  const double* other_fraction = nullptr;      // (1 - exp(-mu l)) (1 - (c/rho) / (mu/rho)): removed, not deposited
  const double* density_kg_m3 = nullptr;       // [material]
  // Components: material m has slots [component_begin[m], component_begin[m + 1]); slot s
  // adds dose to component grid slot_grid[s] with coefficient slot_deposition_m2_kg[s * n_lines + e].
  const int* component_begin = nullptr;
  const int* slot_grid = nullptr;
  const double* slot_deposition_m2_kg = nullptr;
  int n_slots = 0;
  int n_component_grids = 0;
  // Thresholds (host/scene/threshold_scale.h): n_thresholds labels, each a crossing-time grid.
  // The dose at which a voxel of material m crosses label t is threshold_Gy[m * n_thresholds
  // + t], a component grid g's component_threshold_Gy[g * n_thresholds + t]; +inf where the
  // material does not carry the label.
  int n_thresholds = 0;
  const double* threshold_Gy = nullptr;
  const double* component_threshold_Gy = nullptr;
  double column_area_m2 = 0;             // the cross-section of a ray (RayLattice::cell_area_m2)
  double voxel_volume_m3 = 0;
  int n_frames = 0;
  const double* frame_time_s = nullptr;  // cumulative-dose frames, ascending
};

// Every ray's fluence events in time order: events [offset[r], offset[r + 1]) of ray r,
// each the sub-exposure it came from (numbered within the block) and the ray's cumulative
// fluence after it.
struct HistoryView {
  const int64_t* offset = nullptr;
  const uint32_t* sub_exposure = nullptr;
  const double* cum_fluence_m2 = nullptr;  // photons / m^2
  const double* t_start_s = nullptr;       // [sub-exposure]
  const double* duration_s = nullptr;      // [sub-exposure]
};

// The running per-voxel state (x fastest: voxel index = (k * ny + j) * nx + i) that blocks
// add to in time order, and what the march reports per ray.
struct DoseState {
  float* dose_Gy = nullptr;
  float* rate_peak_Gy_s = nullptr;
  float* rate_mean_Gy_s = nullptr;      // dose-weighted: sum dD^2/dt / sum dD
  float* crossing_s = nullptr;          // [threshold * voxels + voxel]; -1 until reached
  float* component_dose_Gy = nullptr;   // [grid * voxels + voxel]; 0 where the component is absent
  float* slot_first_crossing_s = nullptr;  // [(slot * n_thresholds + t) * columns + column]; -1 never
  float* frame_dose_Gy = nullptr;       // [frame * voxels + voxel]: dose at each frame time
  double* ray_energy_J_m2 = nullptr;    // [ray * 4] this block, per unit fluence: incident, deposited, transmitted, other
  double* ray_fluence_m2 = nullptr;     // [ray] this block's total fluence on the ray (photons/m^2)
};

// State before any block: no dose, nothing crossed.
DM_HD DM_INLINE void clear_voxel_state(const MarchParams& p, const DoseState& st, int64_t voxels, int64_t v) {
  st.dose_Gy[v] = 0;
  st.rate_peak_Gy_s[v] = 0;
  st.rate_mean_Gy_s[v] = 0;
  for (int t = 0; t < p.n_thresholds; ++t) st.crossing_s[t * voxels + v] = -1.0f;
  for (int c = 0; c < p.n_component_grids; ++c) st.component_dose_Gy[c * voxels + v] = 0;
  for (int f = 0; f < p.n_frames; ++f) st.frame_dose_Gy[f * voxels + v] = 0;
}

// Lowers *slot (a time, -1 = none yet) to t when t is earlier. The result does not depend on
// the order of the calls, so rays may race for a column and the run stays deterministic.
DM_HD DM_INLINE void atomic_min_time(float* slot, float t) {
#if defined(__CUDA_ARCH__)
  unsigned int* word = reinterpret_cast<unsigned int*>(slot);
  unsigned int old = *word;
  while (true) {
    const float current = __uint_as_float(old);
    if (current >= 0 && current <= t) return;
    const unsigned int seen = atomicCAS(word, old, __float_as_uint(t));
    if (seen == old) return;
    old = seen;
  }
#else
  float current;
  __atomic_load(slot, &current, __ATOMIC_RELAXED);
  while (!(current >= 0 && current <= t))
    if (__atomic_compare_exchange(slot, &current, &t, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
#endif
}

// Time at which the ray's cumulative fluence first reaches `target` (photons/m^2): exact
// inside the sub-exposure where it happens (fluence grows linearly in a static one). The
// caller guarantees the ray's total reaches the target up to rounding.
DM_HD DM_INLINE double crossing_time_s(const HistoryView& h, int64_t begin, int64_t end, double target) {
  DM_EXPECT(begin < end);
  int64_t lo = begin, hi = end;
  while (lo < hi) {  // first event with cumulative fluence >= target
    const int64_t mid = lo + (hi - lo) / 2;
    if (h.cum_fluence_m2[mid] >= target) hi = mid;
    else lo = mid + 1;
  }
  if (lo == end) lo = end - 1;  // reached only by rounding: the end of the last event
  const double before = lo > begin ? h.cum_fluence_m2[lo - 1] : 0.0;
  const double step = h.cum_fluence_m2[lo] - before;
  double frac = step > 0 ? (target - before) / step : 1.0;
  frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
  const uint32_t s = h.sub_exposure[lo];
  return h.t_start_s[s] + frac * h.duration_s[s];
}

// The ray's fluence delivered by time t (events in time order, never overlapping).
DM_HD DM_INLINE double fluence_at_time(const HistoryView& h, int64_t begin, int64_t end, double t) {
  int64_t lo = begin, hi = end;
  while (lo < hi) {  // first event not finished by t
    const int64_t mid = lo + (hi - lo) / 2;
    const uint32_t s = h.sub_exposure[mid];
    if (h.t_start_s[s] + h.duration_s[s] <= t) lo = mid + 1;
    else hi = mid;
  }
  const double before = lo > begin ? h.cum_fluence_m2[lo - 1] : 0.0;
  if (lo == end) return before;
  const uint32_t s = h.sub_exposure[lo];
  const double f = h.cum_fluence_m2[lo] - before;
  const double part = (t - h.t_start_s[s]) / h.duration_s[s];
  return before + (part <= 0 ? 0.0 : part >= 1 ? f : f * part);
}

// Voxel index of ray (m1, m2) at slice q (beam order), or -1 where it is outside the grid.
DM_HD DM_INLINE int64_t ray_voxel(const RayLattice& L, long long m1, long long m2, long long q) {
  const long long i1 = m1 + (L.sheared ? slice_shift(L.shift1, q) : 0);
  const long long i2 = m2 + (L.sheared ? slice_shift(L.shift2, q) : 0);
  if (i1 < 0 || i1 >= L.n[L.a1] || i2 < 0 || i2 >= L.n[L.a2]) return -1;
  DM_EXPECT(q >= 0 && q < L.n[L.dom]);
  long long idx[3];
  idx[L.a1] = i1;
  idx[L.a2] = i2;
  idx[L.dom] = L.forward ? q : L.n[L.dom] - 1 - q;
  return (int64_t)((idx[2] * L.n[1] + idx[1]) * L.n[0] + idx[0]);
}

// A ray's transmission per spectrum line, line e at t[e * stride]: a small array of the
// thread's own for up to kInlineSpectrumLines lines (the GPU thread's stack stays small),
// else the ray's column of a scratch array [line * rays + ray] (coalesced on the GPU).
struct LineTransmission {
  double* t;
  int64_t stride;
  DM_HD double& operator[](int e) const { return t[e * stride]; }
};

// Dose per unit fluence (Gy m^2) of material m behind `transmission`, and (into *other)
// the energy per unit fluence and cross-section removed but not deposited.
DM_HD DM_INLINE double segment_dose_per_fluence(const MarchParams& p, uint16_t m, const LineTransmission& transmission,
                                                double* other) {
  const int64_t row = (int64_t)m * p.n_lines;
  double g = 0, removed_other = 0;
  for (int e = 0; e < p.n_lines; ++e) {
    const double w = p.line_energy_J[e] * transmission[e];
    g += w * p.voxel_mean_fluence[row + e] * p.deposition_m2_kg[row + e];
    removed_other += w * p.other_fraction[row + e];
  }
  *other = removed_other;
  return g;
}

DM_HD DM_INLINE void attenuate(const MarchParams& p, uint16_t m, const LineTransmission& transmission) {
  const int64_t row = (int64_t)m * p.n_lines;
  for (int e = 0; e < p.n_lines; ++e) transmission[e] *= p.voxel_transmission[row + e];
}

// Calls visit(v, m, transmission) for every voxel v holding material m on ray r, in beam
// order, with the transmission of each spectrum line up to the voxel's entry: the march's own
// attenuation, for the host's probes (dose curves) and the linear dose operator
// (host/plan/dose_operator.h). visit returns false to stop.
template <typename Visit>
DM_HD DM_INLINE void for_each_ray_segment(const MarchParams& p, const RayLattice& L, const uint16_t* material, long long r,
                                          Visit visit) {
  long long m1, m2;
  ray_lattice_indices(L, r, &m1, &m2);
  double line_t[kMaxSpectrumLines];  // host-side only: no GPU stack concern
  const LineTransmission transmission{line_t, 1};
  for (int e = 0; e < p.n_lines; ++e) transmission[e] = 1.0;
  bool entered = false;
  for (long long q = 0; q < L.n[L.dom]; ++q) {
    const int64_t v = ray_voxel(L, m1, m2, q);
    if (v < 0) {
      if (entered) return;  // the in-grid slices of a ray are contiguous
      continue;
    }
    entered = true;
    const uint16_t m = material[v];
    if (m == kVoidMaterialId) continue;
    if (!visit(v, m, transmission)) return;
    attenuate(p, m, transmission);
  }
}

// The same with the voxel's dose per unit fluence G (Gy m^2): visit(v, G).
template <typename Visit>
DM_HD DM_INLINE void for_each_dose_per_fluence(const MarchParams& p, const RayLattice& L, const uint16_t* material,
                                               long long r, Visit visit) {
  for_each_ray_segment(p, L, material, r, [&](int64_t v, uint16_t m, const LineTransmission& transmission) {
    double other;
    return visit(v, segment_dose_per_fluence(p, m, transmission, &other));
  });
}

// The dose per unit fluence to the component of slot s (of material m) in a voxel the ray
// enters with `transmission` (Gy m^2).
DM_HD DM_INLINE double slot_dose_per_fluence(const MarchParams& p, uint16_t m, int s, const LineTransmission& transmission) {
  const int64_t row = (int64_t)m * p.n_lines;
  double gc = 0;
  for (int e = 0; e < p.n_lines; ++e)
    gc += p.line_energy_J[e] * transmission[e] * p.voxel_mean_fluence[row + e] *
          p.slot_deposition_m2_kg[(int64_t)s * p.n_lines + e];
  return gc;
}

// Dose per unit fluence G of voxel `target` on ray r (0 when the ray does not reach it).
DM_HD DM_INLINE double voxel_dose_per_fluence(const MarchParams& p, const RayLattice& L, const uint16_t* material,
                                              long long r, int64_t target) {
  double g = 0;
  for_each_dose_per_fluence(p, L, material, r, [&](int64_t v, double gv) {
    if (v != target) return true;
    g = gv;
    return false;
  });
  return g;
}

// A ray's walk through one block: its fluence history summarized, where it is, and the
// energy it has deposited and removed so far (per unit fluence).
struct RayWalk {
  int64_t begin, end;  // its events in the history
  // Total fluence (photons/m^2), peak rate, and the sum of F^2/dt for the dose-weighted mean
  // rate (sum of dD^2/dt over sum of dD, each dD = G F).
  double total, peak_rate, sum_sq_rate, mean_rate;
  double first_s, last_s;  // its photons arrive between its first event's start and its last event's end
  long long m1, m2;        // lattice indices
  double deposited, other;
  bool entered;            // has reached the grid (its in-grid slices are contiguous)
};

// Starts ray r's walk through the block: reports its fluence, zeroes its energy balance and
// its transmission (p.n_lines values, LineTransmission). Returns false when the block puts
// no photons on it: nothing to march.
DM_HD DM_INLINE bool begin_ray_walk(const MarchParams& p, const RayLattice& L, const HistoryView& h, const DoseState& st,
                                    long long r, const LineTransmission& transmission, RayWalk* w) {
  w->begin = h.offset[r];
  w->end = h.offset[r + 1];
  DM_EXPECT(w->begin <= w->end);
  double* energy = st.ray_energy_J_m2 + r * 4;
  energy[0] = energy[1] = energy[2] = energy[3] = 0;
  st.ray_fluence_m2[r] = 0;
  if (w->begin == w->end) return false;
  double total = 0, peak_rate = 0, sum_sq_rate = 0;
  for (int64_t e = w->begin; e < w->end; ++e) {
    const double prev = e > w->begin ? h.cum_fluence_m2[e - 1] : 0.0;
    const double f = h.cum_fluence_m2[e] - prev;
    const double dt = h.duration_s[h.sub_exposure[e]];
    const double rate = f / dt;
    peak_rate = rate > peak_rate ? rate : peak_rate;
    sum_sq_rate += f * rate;
    total = h.cum_fluence_m2[e];
  }
  w->total = total;
  w->peak_rate = peak_rate;
  w->sum_sq_rate = sum_sq_rate;
  w->mean_rate = total > 0 ? sum_sq_rate / total : 0.0;
  st.ray_fluence_m2[r] = total;
  w->first_s = h.t_start_s[h.sub_exposure[w->begin]];
  w->last_s = h.t_start_s[h.sub_exposure[w->end - 1]] + h.duration_s[h.sub_exposure[w->end - 1]];
  ray_lattice_indices(L, r, &w->m1, &w->m2);
  for (int e = 0; e < p.n_lines; ++e) transmission[e] = 1.0;
  w->deposited = w->other = 0;
  w->entered = false;
  return true;
}

// Adds the ray's share of the block to voxel v (material m, not void), the next it crosses,
// and attenuates the ray by it.
DM_HD DM_INLINE void walk_through_voxel(const MarchParams& p, const HistoryView& h, const DoseState& st, int64_t columns,
                                        int64_t voxels, RayWalk& w, int64_t v, uint16_t m,
                                        const LineTransmission& transmission) {
  const int64_t begin = w.begin, end = w.end;
  const double total = w.total;
  double removed_other;
  const double g = segment_dose_per_fluence(p, m, transmission, &removed_other);
  const float before = st.dose_Gy[v];
  const double after = (double)before + g * total;
  const float stored = (float)after;  // what the grids hold: masks and crossings agree on it
  st.dose_Gy[v] = stored;
  const float peak = (float)(g * w.peak_rate);
  if (peak > st.rate_peak_Gy_s[v]) st.rate_peak_Gy_s[v] = peak;
  if (before == 0)
    st.rate_mean_Gy_s[v] = (float)(g * w.mean_rate);
  else if (after > 0)
    st.rate_mean_Gy_s[v] = (float)(((double)st.rate_mean_Gy_s[v] * before + g * g * w.sum_sq_rate) / after);
  w.deposited += g * p.density_kg_m3[m] * p.voxel_volume_m3;
  w.other += removed_other * p.column_area_m2;
  // A threshold is crossed in this block when the dose before is below it and the dose
  // after is not (a crossing time is set exactly when the stored dose reaches the
  // threshold, so the times already set need not be read).
  const double* material_threshold = p.threshold_Gy + (int64_t)m * p.n_thresholds;
  for (int t = 0; t < p.n_thresholds; ++t) {
    const double threshold = material_threshold[t];
    if (threshold <= stored && before < threshold && g > 0)
      st.crossing_s[t * voxels + v] = (float)crossing_time_s(h, begin, end, (threshold - before) / g);
  }
  for (int s = p.component_begin[m]; s < p.component_begin[m + 1]; ++s) {
    const double gc = slot_dose_per_fluence(p, m, s, transmission);
    float* component = st.component_dose_Gy + p.slot_grid[s] * voxels + v;
    const float component_before = *component;
    const double component_after = (double)component_before + gc * total;
    *component = (float)component_after;
    const double* component_threshold = p.component_threshold_Gy + (int64_t)p.slot_grid[s] * p.n_thresholds;
    for (int t = 0; t < p.n_thresholds; ++t) {
      const double threshold = component_threshold[t];
      if (gc > 0 && component_before < threshold && component_after >= threshold)
        atomic_min_time(st.slot_first_crossing_s + ((int64_t)s * p.n_thresholds + t) * columns + v % columns,
                        (float)crossing_time_s(h, begin, end, (threshold - component_before) / gc));
    }
  }
  for (int f = 0; f < p.n_frames; ++f) {
    const double t = p.frame_time_s[f];
    if (t <= w.first_s) continue;  // nothing of this block by then
    const double fluence = t >= w.last_s ? total : fluence_at_time(h, begin, end, t);
    float* frame = st.frame_dose_Gy + f * voxels + v;
    *frame = (float)((double)*frame + g * fluence);
  }
  attenuate(p, m, transmission);
}

// Reports ray r's energy balance per unit fluence once it has left the grid.
DM_HD DM_INLINE void end_ray_walk(const MarchParams& p, const DoseState& st, long long r, const RayWalk& w,
                                  const LineTransmission& transmission) {
  double incident = 0, transmitted = 0;
  for (int e = 0; e < p.n_lines; ++e) {
    incident += p.line_energy_J[e];
    transmitted += p.line_energy_J[e] * transmission[e];
  }
  double* energy = st.ray_energy_J_m2 + r * 4;
  energy[0] = incident * p.column_area_m2;
  energy[1] = w.deposited;
  energy[2] = transmitted * p.column_area_m2;
  energy[3] = w.other;
}

// Adds ray r's share of the block (its fluence history in h) to the state of the voxels it
// crosses, and reports the ray's energy balance per unit fluence. `transmission` holds
// p.n_lines values for this ray (LineTransmission). The GPU's march: one thread per ray.
DM_HD DM_INLINE void march_ray(const MarchParams& p, const RayLattice& L, const uint16_t* material,
                               const HistoryView& h, const DoseState& st, long long r,
                               const LineTransmission& transmission) {
  const int64_t columns = L.n[0] * L.n[1];
  const int64_t voxels = columns * L.n[2];
  RayWalk w;
  if (!begin_ray_walk(p, L, h, st, r, transmission, &w)) return;  // no photons on this ray in this block
  for (long long q = 0; q < L.n[L.dom]; ++q) {
    const int64_t v = ray_voxel(L, w.m1, w.m2, q);
    if (v < 0) {
      if (w.entered) break;  // the in-grid slices of a ray are contiguous
      continue;
    }
    w.entered = true;
    const uint16_t m = material[v];
    if (m == kVoidMaterialId) continue;
    walk_through_voxel(p, h, st, columns, voxels, w, v, m, transmission);
  }
  end_ray_walk(p, st, r, w, transmission);
}

// The CPU's march of rays [r0, r1) together, slice by slice: each slice's voxels of the
// group lie side by side (along a row of the grid for a beam along an axis), so their state
// is read and written a few cache lines at a time instead of one line per ray per voxel.
// (On the grid's columns, the CPU runs host/transport/column_group_march.h, vectorized.)
// Every ray does exactly march_ray's arithmetic in the same order: the results are the same
// bit for bit. `line_t` has room for (r1 - r0) x p.n_lines values; walks for r1 - r0.
DM_HD DM_INLINE void march_ray_group(const MarchParams& p, const RayLattice& L, const uint16_t* material,
                                     const HistoryView& h, const DoseState& st, long long r0, long long r1,
                                     double* line_t, RayWalk* walks, bool* marching) {
  const int64_t columns = L.n[0] * L.n[1];
  const int64_t voxels = columns * L.n[2];
  const int n = (int)(r1 - r0);
  int left = 0;
  for (int i = 0; i < n; ++i) {
    marching[i] = begin_ray_walk(p, L, h, st, r0 + i, LineTransmission{line_t + i, n}, &walks[i]);
    left += marching[i];
  }
  for (long long q = 0; q < L.n[L.dom] && left > 0; ++q)
    for (int i = 0; i < n; ++i) {
      if (!marching[i]) continue;
      RayWalk& w = walks[i];
      const int64_t v = ray_voxel(L, w.m1, w.m2, q);
      if (v < 0) {
        if (w.entered) {  // the in-grid slices of a ray are contiguous
          marching[i] = false;
          --left;
          end_ray_walk(p, st, r0 + i, w, LineTransmission{line_t + i, n});
        }
        continue;
      }
      w.entered = true;
      const uint16_t m = material[v];
      if (m == kVoidMaterialId) continue;
      walk_through_voxel(p, h, st, columns, voxels, w, v, m, LineTransmission{line_t + i, n});
    }
  for (int i = 0; i < n; ++i)
    if (marching[i]) end_ray_walk(p, st, r0 + i, walks[i], LineTransmission{line_t + i, n});
}

}  // namespace dosemap
