// --threads N bounds TBB's loops (OpenVDB's, the dose.vdb writer's) and OpenMP's loops without
// a thread count of their own while a run lives (host/cli/thread_budget.h), then lets go.
#include "host/cli/thread_budget.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace dosemap {
namespace {

size_t tbb_parallelism() { return tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism); }

// The threads a TBB loop of slow items ran on.
size_t threads_of_a_tbb_loop() {
  std::mutex mutex;
  std::set<std::thread::id> ids;
  tbb::parallel_for(0, 64, [&](int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
  });
  return ids.size();
}

int threads_of_an_openmp_region() {
  int n = 0;
#pragma omp parallel
  {
#pragma omp single
    n = omp_get_num_threads();
  }
  return n;
}

TEST(ThreadBudget, BoundsTbbAndOpenMpWhileItLivesThenRestoresThem) {
  const size_t tbb_before = tbb_parallelism();
  const int omp_before = omp_get_max_threads();
  {
    const ThreadBudget budget(1);
    EXPECT_EQ(tbb_parallelism(), 1u);
    EXPECT_EQ(omp_get_max_threads(), 1);
    EXPECT_EQ(threads_of_a_tbb_loop(), 1u);
    EXPECT_EQ(threads_of_an_openmp_region(), 1);
  }
  EXPECT_EQ(tbb_parallelism(), tbb_before);
  EXPECT_EQ(omp_get_max_threads(), omp_before);
  if (tbb_before > 1) {
    const ThreadBudget budget(2);
    EXPECT_EQ(tbb_parallelism(), 2u);
    EXPECT_EQ(omp_get_max_threads(), 2);
  }
}

TEST(ThreadBudget, NoneAskedForLeavesEveryCore) {
  const size_t tbb_before = tbb_parallelism();
  const int omp_before = omp_get_max_threads();
  const ThreadBudget budget(0);
  EXPECT_EQ(tbb_parallelism(), tbb_before);
  EXPECT_EQ(omp_get_max_threads(), omp_before);
}

}  // namespace
}  // namespace dosemap
