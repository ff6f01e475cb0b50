#include "host/transport/fluence_history.h"

#include <omp.h>

#include <algorithm>

#include "host/common/bulk_vector.h"
#include "host/common/errors.h"
#include "host/common/progress.h"
#include "host/common/worker_threads.h"

namespace dosemap {

HistoryView FluenceHistory::view() const {
  return HistoryView{offset.data(), sub_exposure.data(), cum_fluence_m2.data(), t_start_s.data(), duration_s.data()};
}

// The builder's primitives on the host (cuda/history_builder.h): OpenMP loops whose every
// iteration writes its own elements, sequential scans, a grouping by time slices.
// Deterministic for any thread count. The arrays are the builder's.
class HostHistoryExecutor {
 public:
  HostHistoryExecutor(FluenceHistoryBuilder& b, Progress* progress)
      : b_(b), threads_(worker_threads(b.threads_)), progress_(progress) {}

  HistoryArrays sub_exposure_arrays(long long n) {
    b_.rect_.resize(n);
    b_.cells_.resize(n);
    b_.factors_.resize(n);
    b_.event_offset_.resize(n + 1);
    b_.factor_offset_.resize(n + 1);
    return arrays();
  }

  unsigned long long exclusive_scan(const unsigned long long* in, unsigned long long* out, long long n) {
    unsigned long long sum = 0;
    for (long long i = 0; i < n; ++i) {
      out[i] = sum;
      sum += in[i];
    }
    out[n] = sum;
    return sum;
  }

  HistoryArrays event_arrays(unsigned long long events, unsigned long long factors, long long rays) {
    b_.factor_.resize(factors);
    b_.history_.sub_exposure.resize(events);
    b_.history_.cum_fluence_m2.resize(events);
    b_.history_.offset.resize(rays + 1);
    return arrays();
  }

  template <class F>
  void for_each(long long n, const F& f) {
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (long long i = 0; i < n; ++i) f(i);
  }

  template <class F>
  void for_each_owned(long long n, const unsigned long long* offset, unsigned long long, const F& f) {
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 256)
    for (long long s = 0; s < n; ++s)
      for (unsigned long long k = 0; k < offset[s + 1] - offset[s]; ++k) f(s, k, offset[s] + k);
  }

  // Each time slice of the sub-exposures counts its events per ray, then writes them to
  // its own contiguous slots of each ray, in order: every ray's events are in time order,
  // whatever the thread count.
  template <class Rule>
  void group_by_ray(long long n, const ColumnRange* rect, const unsigned long long* offset, unsigned long long events,
                    long long rays, const Rule& rule) {
    const int slices = static_cast<int>(std::clamp<long long>(n, 1, threads_));
    auto slice_begin = [&](int t) { return n * t / slices; };
    BulkVector<int64_t>& count = b_.slot_count_;
    count.resize(static_cast<size_t>(slices) * rays);
#pragma omp parallel for num_threads(slices) schedule(static, 1)
    for (int t = 0; t < slices; ++t) {
      int64_t* c = count.data() + static_cast<size_t>(t) * rays;
      std::fill(c, c + rays, int64_t(0));
      for (long long s = slice_begin(t); s < slice_begin(t + 1); ++s) {
        const ColumnRange& r = rect[s];
        for (long long r2 = r.j0; r2 < r.j1; ++r2)
          for (long long r1 = r.i0; r1 < r.i1; ++r1) c[rule.ray(r1, r2)]++;
      }
    }
    int64_t* ray_offset = b_.history_.offset.data();
    int64_t total = 0;
    for (long long ray = 0; ray < rays; ++ray) {
      ray_offset[ray] = total;
      for (int t = 0; t < slices; ++t) {
        int64_t& c = count[static_cast<size_t>(t) * rays + ray];
        const int64_t k = c;
        c = total;  // becomes this slice's write cursor for the ray
        total += k;
      }
    }
    ray_offset[rays] = total;
    DOSEMAP_BUG_CHECK(static_cast<uint64_t>(total) == events && offset[n] == events,
                      "the footprints' cells and the events counted per ray differ");
    uint32_t* sub_sorted = b_.history_.sub_exposure.data();
    double* fluence_sorted = b_.history_.cum_fluence_m2.data();
    if (progress_) progress_->start("beam footprints", n);
#pragma omp parallel for num_threads(slices) schedule(static, 1)
    for (int t = 0; t < slices; ++t) {
      int64_t* cursor = count.data() + static_cast<size_t>(t) * rays;
      for (long long s = slice_begin(t); s < slice_begin(t + 1); ++s) {
        const ColumnRange& r = rect[s];
        for (long long r2 = r.j0; r2 < r.j1; ++r2)
          for (long long r1 = r.i0; r1 < r.i1; ++r1) {
            const int64_t slot = cursor[rule.ray(r1, r2)]++;
            sub_sorted[slot] = static_cast<uint32_t>(s);
            fluence_sorted[slot] = rule.fluence(s, r1, r2);
          }
        if (progress_ && t == 0) progress_->advance(slices);
        if (progress_ && progress_->stop_requested()) break;  // finish() below throws
      }
    }
    if (progress_) progress_->finish();
  }

 private:
  HistoryArrays arrays() {
    FluenceHistory& h = b_.history_;
    return HistoryArrays{b_.rect_.data(),   b_.cells_.data(),       b_.event_offset_.data(),
                         b_.factors_.data(), b_.factor_offset_.data(), b_.factor_.data(),
                         h.sub_exposure.data(), h.cum_fluence_m2.data(), h.offset.data()};
  }

  FluenceHistoryBuilder& b_;
  int threads_;
  Progress* progress_;
};

const FluenceHistory& FluenceHistoryBuilder::build(const HistoryJob& job, Progress* progress) {
  DOSEMAP_BUG_CHECK(job.n < (int64_t(1) << 32) && history_rays(job) < (int64_t(1) << 32),
                    "a block's sub-exposures or rays do not fit the histories' 32-bit indices");
  history_.t_start_s.resize(job.n);
  history_.duration_s.resize(job.n);
  for (long long s = 0; s < job.n; ++s) {
    history_.t_start_s[s] = job.subs[s].t_start_s;
    history_.duration_s[s] = job.subs[s].duration_s;
  }
  HostHistoryExecutor x(*this, progress);
  build_fluence_histories(x, job);
  return history_;
}

FluenceHistory build_fluence_history(const HistoryJob& job, int threads, Progress* progress) {
  FluenceHistoryBuilder builder(threads);
  return builder.build(job, progress);
}

FluenceHistory build_fluence_history(const SubExposure* subs, int64_t n, const BeamProfile& beam, const RayLattice& L,
                                     int threads, Progress* progress) {
  return build_fluence_history(HistoryJob{subs, n, beam, L, 0, L.n2}, threads, progress);
}

}  // namespace dosemap
