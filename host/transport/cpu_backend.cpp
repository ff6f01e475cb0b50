#include "host/transport/cpu_backend.h"

#include <omp.h>

#include "host/common/progress.h"

namespace dosemap {

void march_columns_cpu(const MarchParams& p, const uint16_t* material, const HistoryView& h, const MarchOutput& out,
                       int threads, Progress* progress) {
  const int64_t columns = p.nx * p.ny;
  // Blocks of columns: progress is reported by thread 0 only, between blocks.
  const int64_t block = 4096;
  const int64_t blocks = (columns + block - 1) / block;
  if (progress) progress->start("column march", blocks);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = (b + 1) * block < columns ? (b + 1) * block : columns;
    for (int64_t c = b * block; c < end; ++c) march_column(p, material, h, out, c);
    if (progress && omp_get_thread_num() == 0) progress->advance(omp_get_num_threads());
  }
  if (progress) progress->finish();
}

}  // namespace dosemap
