#include "host/outputs/float_run_reductions.h"

#include <emmintrin.h>  // SSE2: every x86-64 processor has it

#include <algorithm>
#include <cmath>

#include "host/common/float_threshold.h"

namespace dosemap {

namespace {

float horizontal_max(__m128 v) {
  v = _mm_max_ps(v, _mm_movehl_ps(v, v));
  v = _mm_max_ps(v, _mm_shuffle_ps(v, v, 1));
  return _mm_cvtss_f32(v);
}

// Four floats from p as two pairs of doubles.
void load_as_doubles(const float* p, __m128d& low, __m128d& high) {
  const __m128 v = _mm_loadu_ps(p);
  low = _mm_cvtps_pd(v);
  high = _mm_cvtps_pd(_mm_movehl_ps(v, v));
}

}  // namespace

float max_of_scalar(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float max_of(const float* x, int64_t n) {
  if (n < 16) return max_of_scalar(x, n);
  // Four accumulators: a max's latency is four of its issue slots.
  __m128 m0 = _mm_loadu_ps(x), m1 = m0, m2 = m0, m3 = m0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm_max_ps(m0, _mm_loadu_ps(x + i));
    m1 = _mm_max_ps(m1, _mm_loadu_ps(x + i + 4));
    m2 = _mm_max_ps(m2, _mm_loadu_ps(x + i + 8));
    m3 = _mm_max_ps(m3, _mm_loadu_ps(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) m0 = _mm_max_ps(m0, _mm_loadu_ps(x + i));
  float m = horizontal_max(_mm_max_ps(_mm_max_ps(m0, m1), _mm_max_ps(m2, m3)));
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

int64_t first_index_of(const float* x, int64_t n, float value) {
  int64_t i = 0;
  const __m128 v = _mm_set1_ps(value);
  for (; i + 4 <= n; i += 4)
    if (_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(x + i), v)) != 0) break;
  for (; i < n; ++i)
    if (x[i] == value) return i;
  return n;
}

int64_t count_at_least_scalar(const float* x, int64_t n, double threshold) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += static_cast<double>(x[i]) >= threshold;
  return count;
}

int64_t count_at_least(const float* x, int64_t n, double threshold) {
  const __m128 at_least = _mm_set1_ps(least_float_at_or_above(threshold));
  int64_t count = 0, i = 0;
  // 32-bit lanes, emptied every 2^20 vectors (well before any lane could overflow).
  while (i + 4 <= n) {
    const int64_t chunk_end = std::min(n - (n - i) % 4, i + (int64_t(4) << 20));
    __m128i lanes = _mm_setzero_si128();
    for (; i < chunk_end; i += 4)  // a true comparison is -1 in its lane
      lanes = _mm_sub_epi32(lanes, _mm_castps_si128(_mm_cmpge_ps(_mm_loadu_ps(x + i), at_least)));
    alignas(16) int32_t part[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(part), lanes);
    count += int64_t(part[0]) + part[1] + part[2] + part[3];
  }
  return count + count_at_least_scalar(x + i, n - i, threshold);
}

float min_non_negative_scalar(const float* x, int64_t n) {
  float m = -1;
  for (int64_t i = 0; i < n; ++i)
    if (x[i] >= 0 && (m < 0 || x[i] < m)) m = x[i];
  return m;
}

float min_non_negative(const float* x, int64_t n) {
  if (n < 8) return min_non_negative_scalar(x, n);
  const __m128 zero = _mm_setzero_ps(), inf = _mm_set1_ps(INFINITY);
  __m128 m = inf, any = _mm_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    const __m128 keep = _mm_cmpge_ps(v, zero);
    any = _mm_or_ps(any, keep);
    m = _mm_min_ps(m, _mm_or_ps(_mm_and_ps(keep, v), _mm_andnot_ps(keep, inf)));
  }
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ps(m, _mm_shuffle_ps(m, m, 1));
  float out = _mm_movemask_ps(any) != 0 ? _mm_cvtss_f32(m) : -1.0f;
  const float tail = min_non_negative_scalar(x + i, n - i);
  if (tail >= 0 && (out < 0 || tail < out)) out = tail;
  return out;
}

double max_scaled_rate_scalar(const float* part, const float* rate, const float* dose, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = dose[i];
    const double r = d > 0 ? part[i] * (static_cast<double>(rate[i]) / d) : 0.0;
    m = std::max(m, r);
  }
  return m;
}

double max_scaled_rate(const float* part, const float* rate, const float* dose, int64_t n) {
  __m128d m0 = _mm_setzero_pd(), m1 = _mm_setzero_pd();
  const __m128d zero = _mm_setzero_pd();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128d p0, p1, r0, r1, d0, d1;
    load_as_doubles(part + i, p0, p1);
    load_as_doubles(rate + i, r0, r1);
    load_as_doubles(dose + i, d0, d1);
    // Lanes without dose divide by zero and are then masked to 0 (no trap: exceptions masked).
    m0 = _mm_max_pd(m0, _mm_and_pd(_mm_cmpgt_pd(d0, zero), _mm_mul_pd(p0, _mm_div_pd(r0, d0))));
    m1 = _mm_max_pd(m1, _mm_and_pd(_mm_cmpgt_pd(d1, zero), _mm_mul_pd(p1, _mm_div_pd(r1, d1))));
  }
  m0 = _mm_max_pd(m0, m1);
  m0 = _mm_max_pd(m0, _mm_unpackhi_pd(m0, m0));
  // +0 rather than a -0 from the vectors, as the scalar loop's std::max(0, -0) keeps.
  const double vector_max = std::max(0.0, _mm_cvtsd_f64(m0));
  return std::max(vector_max, max_scaled_rate_scalar(part + i, rate + i, dose + i, n - i));
}

}  // namespace dosemap
