// The CPU backend: the shared column march (cuda/column_march.h) run by OpenMP threads,
// one owner per column, so there are no atomics in the hot loop.
#pragma once

#include "cuda/column_march.h"

namespace dosemap {

class Progress;

void march_columns_cpu(const MarchParams& p, const uint16_t* material, const HistoryView& h, const MarchOutput& out,
                       int threads, Progress* progress);

}  // namespace dosemap
