// Counting work before it is done (voxels, exposures, sub-steps, events): non-negative
// counts that saturate at INT64_MAX instead of wrapping, so that a count too large to
// represent still compares as "too large" with every limit.
#pragma once

#include <cstdint>
#include <limits>

namespace dosemap {

inline constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? kSaturated : r;
}

inline int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? kSaturated : r;
}

// A non-negative double as a count, saturating (NaN counts as too large).
inline int64_t saturating_count(double x) {
  if (!(x < 9.2e18)) return kSaturated;
  return x <= 0 ? 0 : static_cast<int64_t>(x);
}

}  // namespace dosemap
