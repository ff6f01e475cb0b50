#include "host/transport/cpu_backend.h"

#include <omp.h>

#include <algorithm>

#include "host/common/progress.h"

namespace dosemap {

void clear_state_cpu(const MarchParams& p, const DoseState& st, int64_t voxels, int64_t columns, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t v = 0; v < voxels; ++v) clear_voxel_state(p, st, voxels, v);
  const int64_t planes = static_cast<int64_t>(p.n_slots) * p.n_thresholds * columns;
  for (int64_t i = 0; i < planes; ++i) st.slot_first_crossing_s[i] = -1.0f;
}

void march_rays_cpu(const MarchParams& p, const RayLattice& L, const uint16_t* material, const HistoryView& h,
                    const DoseState& st, int threads, Progress* progress) {
  const int64_t rays = ray_count(L);
  // Blocks of rays, at least 16 per thread so that uneven rays (a turned lattice's short
  // rays at its edges) balance; progress is reported by thread 0 only, between blocks.
  const int64_t block = std::max<int64_t>(64, std::min<int64_t>(4096, rays / (16 * std::max(1, threads))));
  const int64_t blocks = (rays + block - 1) / block;
  if (progress) progress->start("march", blocks);
#pragma omp parallel num_threads(threads)
  {
    double line_t[kMaxSpectrumLines];  // a CPU thread's stack has room for every line
    const LineTransmission transmission{line_t, 1};
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t end = (b + 1) * block < rays ? (b + 1) * block : rays;
      for (int64_t r = b * block; r < end; ++r) march_ray(p, L, material, h, st, r, transmission);
      if (progress && omp_get_thread_num() == 0) progress->advance(omp_get_num_threads());
    }
  }
  if (progress) progress->finish();
}

}  // namespace dosemap
