#pragma once

#include <omp.h>

#include <algorithm>

namespace dosemap {

// The threads a parallel pass uses: the count asked for (`--threads`), or every core when
// none was asked for (0). Every pass resolves 0 here, so that none runs on one thread by
// accident.
inline int worker_threads(int requested) { return requested > 0 ? requested : std::max(1, omp_get_max_threads()); }

// Ends OpenMP's worker threads when a run leaves its OpenMP passes for work on other threads
// (the writers' and OpenVDB's TBB loops, the file writer). GCC's libgomp keeps each worker
// spinning for the next pass, up to 300 000 rounds (about 8 ms of a core here), and on a
// machine of few cores those spinning threads took CPU from the ones with work: 7 % of the
// demo scene's writing (perf). OMP_WAIT_POLICY=passive would stop the spinning, but libgomp
// reads its environment when it is loaded, and a value set by the program before that is
// undone by the C library's own start-up. The next OpenMP pass starts its threads anew.
// Called outside any OpenMP pass; it ends the calling thread's workers (libgomp keeps a pool
// per thread that starts passes).
inline void release_openmp_threads() { omp_pause_resource_all(omp_pause_soft); }

}  // namespace dosemap
