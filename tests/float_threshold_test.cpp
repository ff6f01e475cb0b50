// least_float_at_or_above: float values compare with it exactly as with the double threshold
// it stands for (the VTI masks and the dosed region compare floats to vectorize).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "host/common/float_threshold.h"

namespace dosemap {
namespace {

TEST(FloatThreshold, FloatsCompareWithItAsWithTheDouble) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-40.0, 39.0);
  const float inf = std::numeric_limits<float>::infinity();
  for (int n = 0; n < 200000; ++n) {
    const double t = std::pow(10.0, exponent(rng));  // thresholds from 1e-40 to 1e39 Gy
    const float f = least_float_at_or_above(t);
    // The floats around t: those next to float(t) and to f, where the two could disagree.
    const float near = static_cast<float>(t);
    for (const float x : {near, std::nextafter(near, 0.0f), std::nextafter(near, inf), f, std::nextafter(f, 0.0f)})
      ASSERT_EQ(x >= f, static_cast<double>(x) >= t) << "t " << t << " x " << x;
  }
  // A threshold exactly a float is itself; above every float, only infinity reaches it.
  EXPECT_EQ(least_float_at_or_above(0.5), 0.5f);
  EXPECT_EQ(least_float_at_or_above(1e300), inf);
  EXPECT_EQ(least_float_at_or_above(std::numeric_limits<double>::infinity()), inf);
  EXPECT_FALSE(std::numeric_limits<float>::quiet_NaN() >= least_float_at_or_above(1.0));
}

}  // namespace
}  // namespace dosemap
