#include "host/transport/fluence_history.h"

#include <omp.h>

#include <algorithm>

#include "host/common/errors.h"
#include "host/common/progress.h"

namespace dosemap {

HistoryView FluenceHistory::view() const {
  return HistoryView{offset.data(), sub_exposure.data(), cum_fluence_m2.data(), t_start_s.data(), duration_s.data()};
}

void footprint_fluence(const SubExposure& s, const BeamProfile& beam, const RayLattice& L, const ColumnRect& r,
                       std::vector<double>& out, std::vector<double>& fx, std::vector<double>& fy) {
  const int64_t w = r.i1 - r.i0, h = r.j1 - r.j0;
  out.resize(static_cast<size_t>(std::max<int64_t>(0, w * h)));
  if (w <= 0 || h <= 0) return;
  const double per_m2 = s.photons / L.cell_area_m2;
  const bool moving = s.x0_um != s.x1_um || s.y0_um != s.y1_um;
  if (!moving && beam.kind != kBeamImage && L.aligned) {
    // Cells on lab-aligned edges: the profile's x and y factors separate.
    fx.resize(w);
    fy.resize(h);
    double x0, x1, y0, y1;
    for (int64_t i = 0; i < w; ++i) {
      ray_cell(L, r.i0 + i, r.j0, &x0, &x1, &y0, &y1);
      fx[i] = beam.kind == kBeamGaussian ? gaussian_interval_fraction(s.x0_um, beam.sigma_um[0], x0, x1)
                                         : tophat_interval_fraction(s.x0_um, beam.half_um[0], x0, x1);
    }
    for (int64_t j = 0; j < h; ++j) {
      ray_cell(L, r.i0, r.j0 + j, &x0, &x1, &y0, &y1);
      fy[j] = beam.kind == kBeamGaussian ? gaussian_interval_fraction(s.y0_um, beam.sigma_um[1], y0, y1)
                                         : tophat_interval_fraction(s.y0_um, beam.half_um[1], y0, y1);
    }
    for (int64_t j = 0; j < h; ++j)
      for (int64_t i = 0; i < w; ++i) out[j * w + i] = per_m2 * (fx[i] * fy[j]);
    return;
  }
  for (int64_t j = 0; j < h; ++j)
    for (int64_t i = 0; i < w; ++i) out[j * w + i] = per_m2 * ray_exposure_fraction(beam, L, s.x0_um, s.y0_um, s.x1_um, s.y1_um, r.i0 + i, r.j0 + j);
}

FluenceHistory build_fluence_history(const SubExposure* subs, int64_t n, const BeamProfile& beam, const RayLattice& L,
                                     int threads, Progress* progress) {
  DOSEMAP_BUG_CHECK(n < (int64_t(1) << 32), "sub-exposure index does not fit 32 bits");
  const int64_t columns = ray_count(L);
  threads = std::max(1, threads);
  const int slices = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(1, n)));

  FluenceHistory h;
  h.t_start_s.resize(n);
  h.duration_s.resize(n);
  std::vector<ColumnRect> rects(n);
  for (int64_t s = 0; s < n; ++s) {
    h.t_start_s[s] = subs[s].t_start_s;
    h.duration_s[s] = subs[s].duration_s;
    rects[s] = footprint(beam, L, subs[s]);
  }
  auto slice_begin = [&](int t) { return n * t / slices; };

  // Events per (time slice, column): each slice then writes its own contiguous slots, so
  // every column's events stay in time order whatever the thread count.
  std::vector<std::vector<int64_t>> count(slices, std::vector<int64_t>(columns, 0));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < slices; ++t)
    for (int64_t s = slice_begin(t); s < slice_begin(t + 1); ++s) {
      const ColumnRect& r = rects[s];
      for (int64_t j = r.j0; j < r.j1; ++j)
        for (int64_t i = r.i0; i < r.i1; ++i) count[t][j * L.n1 + i]++;
    }
  h.offset.assign(columns + 1, 0);
  for (int64_t c = 0; c < columns; ++c) {
    int64_t total = h.offset[c];
    for (int t = 0; t < slices; ++t) {
      const int64_t k = count[t][c];
      count[t][c] = total;  // becomes this slice's write cursor for the column
      total += k;
    }
    h.offset[c + 1] = total;
  }
  const int64_t events = h.offset[columns];
  h.sub_exposure.resize(events);
  h.cum_fluence_m2.resize(events);

  if (progress) progress->start("beam footprints", n);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < slices; ++t) {
    std::vector<double> values, fx, fy;
    std::vector<int64_t>& cursor = count[t];
    for (int64_t s = slice_begin(t); s < slice_begin(t + 1); ++s) {
      const ColumnRect& r = rects[s];
      footprint_fluence(subs[s], beam, L, r, values, fx, fy);
      const int64_t w = r.i1 - r.i0;
      for (int64_t j = r.j0; j < r.j1; ++j)
        for (int64_t i = r.i0; i < r.i1; ++i) {
          const int64_t slot = cursor[j * L.n1 + i]++;
          h.sub_exposure[slot] = static_cast<uint32_t>(s);
          h.cum_fluence_m2[slot] = values[(j - r.j0) * w + (i - r.i0)];
        }
      if (progress && t == 0) progress->advance(slices);
    }
  }
  count.clear();
  count.shrink_to_fit();

  // Fluence per event -> cumulative fluence per ray (what crossing times search).
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4096)
  for (int64_t c = 0; c < columns; ++c) {
    double sum = 0;
    for (int64_t e = h.offset[c]; e < h.offset[c + 1]; ++e) {
      sum += h.cum_fluence_m2[e];
      h.cum_fluence_m2[e] = sum;
    }
  }
  if (progress) progress->finish();
  return h;
}

}  // namespace dosemap
