// The run statistics' vector reductions (host/outputs/float_run_reductions.h) give what the
// voxel-by-voxel loops give, bit for bit: every length around the vectors' widths, ties of
// the largest value (and of +0 with -0), thresholds on, between and beyond floats.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "host/outputs/float_run_reductions.h"

namespace dosemap {
namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Values from a few levels (ties), with some -1 (crossing times never reached), some -0 and
// zeros (no dose), at random offsets in the array (unaligned loads).
std::vector<float> random_values(std::mt19937_64& random, int64_t n) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_real_distribution<float> level(0.0f, 4.0f);
  std::vector<float> x(n);
  for (float& v : x) {
    const int k = kind(random);
    v = k == 0 ? -1.0f : k == 1 ? -0.0f : k == 2 ? 0.0f : k < 6 ? std::floor(level(random)) : level(random);
  }
  return x;
}

TEST(FloatRunReductions, VectorsGiveTheVoxelByVoxelResults) {
  std::mt19937_64 random(20261129);
  for (int64_t n = 0; n <= 80; ++n)
    for (int c = 0; c < 40; ++c) {
      const std::vector<float> x = random_values(random, n + 3), rate = random_values(random, n + 3),
                               dose = random_values(random, n + 3);
      const int64_t at = c % 4;  // where in the array the run starts
      const float* xs = x.data() + at;
      const int64_t len = std::min<int64_t>(n, static_cast<int64_t>(x.size()) - at);
      if (len >= 1) {
        const float largest = max_of(xs, len);
        ASSERT_EQ(largest, max_of_scalar(xs, len)) << "length " << len;
        const int64_t first = first_index_of(xs, len, largest);
        int64_t expected_first = 0;  // the voxel loop: a value strictly above the running maximum
        for (int64_t i = 1; i < len; ++i)
          if (xs[i] > xs[expected_first]) expected_first = i;
        ASSERT_EQ(first, expected_first) << "length " << len;
      }
      ASSERT_EQ(first_index_of(xs, len, 1e30f), len);
      // Thresholds on floats, just above and below them in double, and beyond every float.
      for (double threshold : {-double(INFINITY), -1.0, 0.0, 1.0, 2.0, std::nextafter(2.0, 3.0), std::nextafter(2.0, 1.0),
                               2.0 + 1e-12, 1.0 / 3.0, static_cast<double>(FLT_MAX), 1e39, double(INFINITY)})
        ASSERT_EQ(count_at_least(xs, len, threshold), count_at_least_scalar(xs, len, threshold))
            << "length " << len << " threshold " << threshold;
      std::vector<float> times(xs, xs + len);  // crossing times: -1 or a time, never -0
      for (float& t : times) t = t == 0 ? 0.0f : t;
      ASSERT_TRUE(same_bits(min_non_negative(times.data(), len), min_non_negative_scalar(times.data(), len)))
          << "length " << len;
      ASSERT_TRUE(same_bits(max_scaled_rate(xs, rate.data() + at, dose.data() + at, len),
                            max_scaled_rate_scalar(xs, rate.data() + at, dose.data() + at, len)))
          << "length " << len;
    }
}

TEST(FloatRunReductions, EdgeRuns) {
  // No value at or above zero: none; only -1 and +inf: the +inf (a time, however late).
  const std::vector<float> never(37, -1.0f);
  EXPECT_EQ(min_non_negative(never.data(), 37), -1.0f);
  std::vector<float> late = never;
  late[30] = INFINITY;
  EXPECT_EQ(min_non_negative(late.data(), 37), INFINITY);
  late[5] = 0.25f;
  EXPECT_EQ(min_non_negative(late.data(), 37), 0.25f);
  // Long runs: the 32-bit lanes of the count are emptied before they overflow.
  const int64_t n = (int64_t(4) << 20) * 3 + 7;
  const std::vector<float> many(n, 2.0f);
  EXPECT_EQ(count_at_least(many.data(), n, 2.0), n);
  EXPECT_EQ(count_at_least(many.data(), n, std::nextafter(2.0, 3.0)), 0);
  // No dose anywhere: a rate of +0, never -0 or a division's NaN.
  const std::vector<float> zero(19, 0.0f), one(19, 1.0f);
  EXPECT_TRUE(same_bits(max_scaled_rate(one.data(), one.data(), zero.data(), 19), 0.0));
  EXPECT_EQ(max_scaled_rate(one.data(), one.data(), one.data(), 0), 0.0);
}

}  // namespace
}  // namespace dosemap
