#pragma once

#include <omp.h>

#include <algorithm>

namespace dosemap {

// The threads a parallel pass uses: the count asked for (`--threads`), or every core when
// none was asked for (0). Every pass resolves 0 here, so that none runs on one thread by
// accident.
inline int worker_threads(int requested) { return requested > 0 ? requested : std::max(1, omp_get_max_threads()); }

}  // namespace dosemap
