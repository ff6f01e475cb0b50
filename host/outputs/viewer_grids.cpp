#include "host/outputs/viewer_grids.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "host/common/float_threshold.h"
#include "host/common/simd_clones.h"

namespace dosemap {

namespace {

// Calls visit(preview voxel, full voxel) for every full voxel of the box, planes of preview
// voxels in parallel (each preview voxel is visited by one thread, its full voxels in index
// order), the full voxels in memory order: whole rows, not f values at a time.
template <typename Visit>
void for_each_covered_voxel(const GridGeometry& pg, const GridGeometry& g, const IndexBox& box, int f, Visit visit) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t pk = 0; pk < pg.dims[2]; ++pk) {
    const int64_t k0 = box.lo[2] + pk * f;
    for (int64_t k = k0; k < std::min(k0 + f, box.hi[2]); ++k)
      for (int64_t j = box.lo[1]; j < box.hi[1]; ++j) {
        const int64_t preview_row = pg.index(0, (j - box.lo[1]) / f, pk);
        const int64_t row = g.index(0, j, k);
        for (int64_t pi = 0, i = box.lo[0]; i < box.hi[0]; ++pi)
          for (const int64_t i_end = std::min(i + f, box.hi[0]); i < i_end; ++i) visit(preview_row + pi, row + i);
      }
  }
}

// Whether any voxel of a row is matter dosed at least floor_f (dosed_region's pass over
// every row), in clones for the vector widths (host/common/simd_clones.h): comparisons only.
DOSEMAP_SIMD_CLONES int any_dosed(const MaterialId* m, const float* d, float floor_f, int64_t nx) {
  int any = 0;
#pragma omp simd reduction(| : any)
  for (int64_t i = 0; i < nx; ++i) any |= (m[i] != kVoidId) & (d[i] >= floor_f);
  return any;
}

}  // namespace

bool IndexBox::whole(const GridGeometry& g) const {
  for (int a = 0; a < 3; ++a)
    if (lo[a] != 0 || hi[a] != g.dims[a]) return false;
  return true;
}

IndexBox whole_grid(const GridGeometry& g) {
  IndexBox b;
  b.hi = g.dims;
  return b;
}

IndexBox dosed_region(const GridGeometry& g, const std::vector<MaterialId>& material, const float* dose_Gy,
                      double dose_max_Gy) {
  if (!(dose_max_Gy > 0)) return whole_grid(g);
  const double floor_Gy = kDosedFraction * dose_max_Gy;
  const float floor_f = least_float_at_or_above(floor_Gy);  // (a float comparison vectorizes)
  const int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  IndexBox b;
  b.lo = g.dims;
  b.hi = {0, 0, 0};
#pragma omp parallel
  {
    IndexBox mine;
    mine.lo = g.dims;
    mine.hi = {0, 0, 0};
#pragma omp for schedule(static)
    for (int64_t k = 0; k < nz; ++k)
      for (int64_t j = 0; j < ny; ++j) {
        // A row at a time: whether any voxel is dosed (a vectorized pass), then its first
        // and last dosed voxels (most rows have none).
        const MaterialId* m = material.data() + g.index(0, j, k);
        const float* d = dose_Gy + g.index(0, j, k);
        auto dosed = [&](int64_t i) { return m[i] != kVoidId && d[i] >= floor_f; };
        if (!any_dosed(m, d, floor_f, nx)) continue;
        int64_t first = 0, last = nx - 1;
        while (!dosed(first)) ++first;
        while (!dosed(last)) --last;
        const int64_t lo[3] = {first, j, k}, hi[3] = {last + 1, j + 1, k + 1};
        for (int a = 0; a < 3; ++a) {
          mine.lo[a] = std::min(mine.lo[a], lo[a]);
          mine.hi[a] = std::max(mine.hi[a], hi[a]);
        }
      }
#pragma omp critical
    for (int a = 0; a < 3; ++a) {
      b.lo[a] = std::min(b.lo[a], mine.lo[a]);
      b.hi[a] = std::max(b.hi[a], mine.hi[a]);
    }
  }
  if (b.hi[0] <= b.lo[0]) return whole_grid(g);
  for (int a = 0; a < 3; ++a) {
    const int64_t margin = std::max<int64_t>(4, b.extent(a) / 10);
    b.lo[a] = std::max<int64_t>(0, b.lo[a] - margin);
    b.hi[a] = std::min(g.dims[a], b.hi[a] + margin);
  }
  return b;
}

int preview_factor(const IndexBox& box, int64_t limit) {
  int f = 1;
  auto voxels = [&](int64_t f) {
    int64_t n = 1;
    for (int a = 0; a < 3; ++a) n *= (box.extent(a) + f - 1) / f;
    return n;
  };
  while (voxels(f) > limit) ++f;
  return f;
}

PreviewGrid preview_grid(const GridGeometry& g, const std::vector<MaterialId>& material, const IndexBox& box,
                         int factor, const PreviewSources& sources) {
  PreviewGrid p;
  p.factor = factor;
  GridGeometry& pg = p.grid.geometry;
  for (int a = 0; a < 3; ++a) {
    pg.dims[a] = (box.extent(a) + factor - 1) / factor;
    pg.voxel_um[a] = g.voxel_um[a] * factor;
    pg.origin_um[a] = g.origin_um[a] + box.lo[a] * g.voxel_um[a];
  }
  const size_t n = static_cast<size_t>(pg.voxels());
  p.grid.material.assign(n, kVoidId);
  p.hottest.assign(n, -1);
  const float* dose = sources.dose_Gy;
  const float* rate = sources.rate_peak_Gy_s;
  if (rate) p.rate_peak_Gy_s.resize(n);  // zero
  const size_t thresholds = sources.crossing_s.size();
  p.earliest_s.resize(thresholds);
  for (auto& e : p.earliest_s) e.assign(n, -1.0f);
  // Each preview voxel lies in one preview slice, which one thread reduces: no races, and
  // its voxels are visited in index order (the first of equal maxima is the hottest).
  for_each_covered_voxel(pg, g, box, factor, [&](int64_t pv, int64_t v) {
    if (material[v] == kVoidId) return;
    const int64_t best = p.hottest[pv];
    if (best < 0 || dose[v] > dose[best]) {
      p.hottest[pv] = v;
      p.grid.material[pv] = material[v];
    }
    if (rate) p.rate_peak_Gy_s[pv] = std::max(p.rate_peak_Gy_s[pv], rate[v]);
    for (size_t t = 0; t < thresholds; ++t) {
      const float time = sources.crossing_s[t][v];
      float& first = p.earliest_s[t][pv];
      if (time >= 0 && (first < 0 || time < first)) first = time;
    }
  });
  p.dose_Gy.resize(n);  // zero
  for (size_t pv = 0; pv < n; ++pv)
    if (p.hottest[pv] >= 0) p.dose_Gy[pv] = dose[p.hottest[pv]];
  return p;
}

}  // namespace dosemap
