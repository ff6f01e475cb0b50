// The column march: the one 3-D pass of the factorized transport (docs/physics.md).
//
// For a parallel beam along +z everything factorizes: the dose a voxel (i, j, k) receives
// from an exposure is G(i,j,k) x F(i,j), where F is the photon fluence the exposure puts on
// column (i, j) (photons/m^2, from the beam profile integrated over the column's footprint)
// and G = sum over spectrum lines e of w_e E_e T_e(k) m_e(k) (c/rho)_e is the dose per unit
// fluence: T the transmission to the voxel's entry face, m = (1 - exp(-mu dz)) / (mu dz) the
// exact mean of the fluence inside a homogeneous voxel relative to its entry, c/rho the dose
// model's deposition coefficient. Every voxel of a column therefore shares the column's
// fluence history, scaled by its own G: one march along z turns the history into dose, peak
// and mean dose rate, and threshold crossing times.
//
// Plain structs and functions: compiled by g++ (CPU backend, one OpenMP thread per column)
// and by nvcc (CUDA backend, one GPU thread per column).
#pragma once

#include <stdint.h>

#include "cuda/device.h"
#include "cuda/engine_limits.h"

namespace dosemap {

constexpr uint16_t kVoidMaterialId = 0xFFFF;

// Material and beam constants, flat arrays indexed [material * n_lines + line].
struct MarchParams {
  int64_t nx = 0, ny = 0, nz = 0;
  int n_lines = 0;
  const double* line_energy_J = nullptr;  // [line] w_e E_e: photon fraction x energy (J)
  int n_materials = 0;
  const double* voxel_transmission = nullptr;  // exp(-mu dz)
  const double* voxel_mean_fluence = nullptr;  // (1 - exp(-mu dz)) / (mu dz)
  const double* deposition_m2_kg = nullptr;    // c/rho of the dose model
  const double* other_fraction = nullptr;      // (1 - exp(-mu dz)) (1 - (c/rho) / (mu/rho)): removed, not deposited
  const double* density_kg_m3 = nullptr;       // [material]
  // Components: material m has slots [component_begin[m], component_begin[m + 1]); slot s
  // adds dose to component grid slot_grid[s] with coefficient slot_deposition_m2_kg[s * n_lines + e].
  const int* component_begin = nullptr;
  const int* slot_grid = nullptr;
  const double* slot_deposition_m2_kg = nullptr;
  int n_slots = 0;
  int n_component_grids = 0;
  int n_thresholds = 0;
  const double* threshold_Gy = nullptr;  // ascending
  double column_area_m2 = 0;
  double voxel_volume_m3 = 0;
  int n_frames = 0;
  const double* frame_time_s = nullptr;  // cumulative-dose frames, ascending
};

// Every column's fluence events in time order: events [offset[c], offset[c + 1]) of column
// c, each the sub-exposure it came from and the column's cumulative fluence after it.
struct HistoryView {
  const int64_t* offset = nullptr;
  const uint32_t* sub_exposure = nullptr;
  const double* cum_fluence_m2 = nullptr;  // photons / m^2
  const double* t_start_s = nullptr;       // [sub-exposure]
  const double* duration_s = nullptr;      // [sub-exposure]
};

// Per-voxel outputs (x fastest: voxel index = k * nx * ny + column) and per-column sums.
struct MarchOutput {
  float* dose_Gy = nullptr;
  float* rate_peak_Gy_s = nullptr;
  float* rate_mean_Gy_s = nullptr;
  float* crossing_s = nullptr;          // [threshold * voxels + voxel]; -1 where never reached
  float* component_dose_Gy = nullptr;   // [grid * voxels + voxel]; 0 where the component is absent
  float* slot_first_crossing_s = nullptr;  // [(slot * n_thresholds + t) * columns + column]; -1 never
  double* column_energy_J = nullptr;    // [column * 4]: incident, deposited, transmitted, other
  float* frame_fraction = nullptr;      // [frame * columns + column]: share of the final fluence by then
};

// Time at which the column's cumulative fluence first reaches `target` (photons/m^2):
// exact inside the sub-exposure where it happens (fluence grows linearly in a static one).
// The caller guarantees the column's total reaches the target up to rounding.
DM_HD DM_INLINE double crossing_time_s(const HistoryView& h, int64_t begin, int64_t end, double target) {
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

// The column's fluence delivered by time t (events in time order, never overlapping).
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

DM_HD DM_INLINE void march_column(const MarchParams& p, const uint16_t* material, const HistoryView& h,
                                  const MarchOutput& out, int64_t column) {
  const int64_t columns = p.nx * p.ny;
  const int64_t voxels = columns * p.nz;
  const int64_t begin = h.offset[column], end = h.offset[column + 1];

  // The column's fluence history, summarized: total, peak rate, and sum of F^2/dt for the
  // dose-weighted mean rate (sum of dD^2/dt over sum of dD, each dD = G F).
  double total = 0, peak_rate = 0, sum_sq_rate = 0;
  for (int64_t e = begin; e < end; ++e) {
    const double prev = e > begin ? h.cum_fluence_m2[e - 1] : 0.0;
    const double f = h.cum_fluence_m2[e] - prev;
    const double dt = h.duration_s[h.sub_exposure[e]];
    const double rate = f / dt;
    peak_rate = rate > peak_rate ? rate : peak_rate;
    sum_sq_rate += f * rate;
    total = h.cum_fluence_m2[e];
  }
  const double mean_rate = total > 0 ? sum_sq_rate / total : 0.0;

  double transmission[kMaxSpectrumLines];
  for (int e = 0; e < p.n_lines; ++e) transmission[e] = 1.0;
  double best_slot_g[kMaxComponentSlots];
  for (int s = 0; s < p.n_slots; ++s) best_slot_g[s] = 0;

  double deposited = 0, other = 0;
  for (int64_t k = 0; k < p.nz; ++k) {
    const int64_t v = k * columns + column;
    const uint16_t m = material[v];
    if (m == kVoidMaterialId) {
      out.dose_Gy[v] = 0;
      out.rate_peak_Gy_s[v] = 0;
      out.rate_mean_Gy_s[v] = 0;
      for (int t = 0; t < p.n_thresholds; ++t) out.crossing_s[t * voxels + v] = -1.0f;
      for (int c = 0; c < p.n_component_grids; ++c) out.component_dose_Gy[c * voxels + v] = 0;
      continue;
    }
    const int64_t row = (int64_t)m * p.n_lines;
    double g = 0, removed_other = 0;
    for (int e = 0; e < p.n_lines; ++e) {
      const double w = p.line_energy_J[e] * transmission[e];
      g += w * p.voxel_mean_fluence[row + e] * p.deposition_m2_kg[row + e];
      removed_other += w * p.other_fraction[row + e];
    }
    const double dose = g * total;
    const float stored_dose = (float)dose;  // what the grids hold: masks and crossings agree on it
    out.dose_Gy[v] = stored_dose;
    out.rate_peak_Gy_s[v] = (float)(g * peak_rate);
    out.rate_mean_Gy_s[v] = (float)(g * mean_rate);
    deposited += dose * p.density_kg_m3[m] * p.voxel_volume_m3;
    other += removed_other * total * p.column_area_m2;
    for (int t = 0; t < p.n_thresholds; ++t) {
      const double threshold = p.threshold_Gy[t];
      out.crossing_s[t * voxels + v] =
          (stored_dose >= threshold && g > 0) ? (float)crossing_time_s(h, begin, end, threshold / g) : -1.0f;
    }
    for (int c = 0; c < p.n_component_grids; ++c) out.component_dose_Gy[c * voxels + v] = 0;
    for (int s = p.component_begin[m]; s < p.component_begin[m + 1]; ++s) {
      double gc = 0;
      for (int e = 0; e < p.n_lines; ++e)
        gc += p.line_energy_J[e] * transmission[e] * p.voxel_mean_fluence[row + e] *
              p.slot_deposition_m2_kg[(int64_t)s * p.n_lines + e];
      out.component_dose_Gy[p.slot_grid[s] * voxels + v] = (float)(gc * total);
      best_slot_g[s] = gc > best_slot_g[s] ? gc : best_slot_g[s];
    }
    for (int e = 0; e < p.n_lines; ++e) transmission[e] *= p.voxel_transmission[row + e];
  }

  // A component's earliest crossing in this column is at its voxel of largest G.
  for (int s = 0; s < p.n_slots; ++s)
    for (int t = 0; t < p.n_thresholds; ++t) {
      const double g = best_slot_g[s], threshold = p.threshold_Gy[t];
      out.slot_first_crossing_s[((int64_t)s * p.n_thresholds + t) * columns + column] =
          (g > 0 && g * total >= threshold) ? (float)crossing_time_s(h, begin, end, threshold / g) : -1.0f;
    }

  double incident = 0, transmitted = 0;
  for (int e = 0; e < p.n_lines; ++e) {
    incident += p.line_energy_J[e];
    transmitted += p.line_energy_J[e] * transmission[e];
  }
  // Dose at a frame time is the final dose scaled by the column's fluence by then: every
  // voxel of the column shares its history.
  for (int f = 0; f < p.n_frames; ++f)
    out.frame_fraction[(int64_t)f * columns + column] =
        total > 0 ? (float)(fluence_at_time(h, begin, end, p.frame_time_s[f]) / total) : 0.0f;

  double* energy = out.column_energy_J + column * 4;
  energy[0] = incident * total * p.column_area_m2;
  energy[1] = deposited;
  energy[2] = transmitted * total * p.column_area_m2;
  energy[3] = other;
}

}  // namespace dosemap
