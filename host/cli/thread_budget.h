// `--threads N` (and the Python functions' threads=N) for everything a run or a plan does:
// the engine's passes take N themselves (worker_threads), but OpenVDB's and the dose.vdb
// writer's TBB loops, and OpenMP loops without a thread count of their own (the previews),
// took every core. On a shared beamline server, N is a promise to the other users.
#pragma once

#include <omp.h>
#include <tbb/global_control.h>

#include <memory>

namespace dosemap {

// While it lives: TBB's parallel loops (process-wide) and the calling thread's OpenMP
// loops use at most `threads` threads; 0 leaves both as they were (every core).
class ThreadBudget {
 public:
  explicit ThreadBudget(int threads) {
    if (threads <= 0) return;
    tbb_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                 static_cast<size_t>(threads));
    omp_before_ = omp_get_max_threads();
    omp_set_num_threads(threads);
  }
  ~ThreadBudget() {
    if (omp_before_ > 0) omp_set_num_threads(omp_before_);
  }
  ThreadBudget(const ThreadBudget&) = delete;
  ThreadBudget& operator=(const ThreadBudget&) = delete;

 private:
  std::unique_ptr<tbb::global_control> tbb_;
  int omp_before_ = 0;
};

}  // namespace dosemap
