#include "host/transport/cpu_backend.h"

#include <omp.h>

#include <algorithm>

#include "host/common/progress.h"
#include "host/transport/column_group_march.h"

namespace dosemap {

void mark_nothing_crossed_cpu(const MarchParams& p, const DoseState& st, int64_t voxels, int64_t columns, int threads) {
  const int64_t crossings = static_cast<int64_t>(p.n_thresholds) * voxels;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < crossings; ++i) st.crossing_s[i] = -1.0f;
  const int64_t planes = static_cast<int64_t>(p.n_slots) * p.n_thresholds * columns;
  for (int64_t i = 0; i < planes; ++i) st.slot_first_crossing_s[i] = -1.0f;
}

void march_rays_cpu(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                    const DoseState& st, int threads, Progress* progress) {
  // Groups of neighbouring rays of a lattice row, in blocks of groups, at least 16 blocks per
  // thread so that uneven rays (a turned lattice's short rays at its edges) balance; progress
  // is reported by thread 0 only, between blocks. On the grid's columns (every scan that
  // does not turn the sample) the vectorized column march; else march_ray_group.
  const bool columns = grid_columns_lattice(L);
  // The grid's columns are consecutive rays and voxels from one lattice row to the next, so
  // their groups run on across rows: all but the last are whole (the vector loops' leftover
  // rays, and a short group's per-slice work, were per row).
  const int64_t row_rays = columns ? ray_count(L) : L.n1, rows = columns ? 1 : L.n2;
  const int64_t groups_per_row = (row_rays + kRaysPerGroup - 1) / kRaysPerGroup;
  const int64_t groups = groups_per_row * rows;
  const int64_t block = std::max<int64_t>(2, std::min<int64_t>(128, groups / (16 * std::max(1, threads))));
  const int64_t blocks = (groups + block - 1) / block;
  if (progress) progress->start("march", blocks);
#pragma omp parallel num_threads(threads)
  {
    // A CPU thread's stack has room for every line of every ray of a group.
    double line_t[kRaysPerGroup * kMaxSpectrumLines];
    RayWalk walks[kRaysPerGroup];
    bool marching[kRaysPerGroup];
    const auto scratch = make_column_group_scratch(columns ? kRaysPerGroup : 0);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      if (progress && progress->stop_requested()) continue;  // finish() below throws
      const int64_t end = std::min(groups, (b + 1) * block);
      for (int64_t group = b * block; group < end; ++group) {
        const int64_t row = group / groups_per_row, r1 = (group % groups_per_row) * kRaysPerGroup;
        const int64_t r0 = row * row_rays + r1;
        const int n = static_cast<int>(std::min<int64_t>(kRaysPerGroup, row_rays - r1));
        if (columns)
          march_column_group(p, L, material, h, st, r0, n, *scratch);
        else
          march_ray_group(p, L, material, h, st, r0, r0 + n, line_t, walks, marching);
      }
      if (progress && omp_get_thread_num() == 0) progress->advance(omp_get_num_threads());
    }
  }
  if (progress) progress->finish();
}

}  // namespace dosemap
