// The density fog's leaf (host/outputs/fog_density.h) against its definition with the C
// library's log10: min(1, (log10(dose) - lo) / (hi - lo)) where above 0, active only where the
// dose was.
#include "host/outputs/fog_density.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace dosemap {
namespace {

float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

TEST(FogDensity, Log10AgreesWithTheLibraryOverEveryFloatExponent) {
  // Every positive finite float's exponent, subnormals included, with random mantissas, and
  // the powers of ten and their neighbours, where log10 is (near) an integer.
  std::mt19937 rng(7);
  double worst = 0;
  auto check = [&](float f) {
    const double x = f, want = std::log10(x), got = fog_log10(x);
    const double ulps = std::fabs(got - want) / (std::nextafter(std::fabs(want), INFINITY) - std::fabs(want));
    worst = std::max(worst, std::fabs(want) > 0 ? ulps : std::fabs(got) / 1e-300);
    ASSERT_LE(std::fabs(got - want), 1e-14) << "x = " << x;
  };
  for (uint32_t exponent = 0; exponent < 255; ++exponent)
    for (int k = 0; k < 2000; ++k) {
      const uint32_t bits = (exponent << 23) | (rng() & 0x7FFFFFu);
      if (bits == 0) continue;
      check(float_from_bits(bits));
    }
  for (int p = -44; p <= 38; ++p) {
    const float f = static_cast<float>(std::pow(10.0, p));
    check(f);
    check(std::nextafter(f, 0.0f));
    check(std::nextafter(f, INFINITY));
  }
  EXPECT_EQ(fog_log10(1.0), 0.0);
  EXPECT_LE(worst, 4.0) << "largest difference from std::log10, in units of its last place";
}

// The definition the leaf must give, voxel by voxel.
struct Fog {
  bool active;
  float density;
};
Fog fog_by_definition(double log10_dose_max, float dose, bool active) {
  const double hi = log10_dose_max, lo = hi - 4.0;
  if (!active || !(dose > 0)) return {false, 0.0f};
  const double x = (std::log10(static_cast<double>(dose)) - lo) / (hi - lo);
  if (!(x > 0)) return {false, 0.0f};
  return {true, static_cast<float>(std::min(1.0, x))};
}

TEST(FogDensity, LeafGivesTheDefinitionVoxelByVoxel) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> decades(-6.0, 1.0);  // doses from 1e-6 to 10 x the largest
  std::uniform_int_distribution<int> kind(0, 19);
  int64_t voxels = 0, different_bits = 0, active = 0;
  for (const double log10_max : {7.3, 0.0, -2.5, 35.0, -30.0}) {
    const FogScale scale(log10_max);
    for (int leaf = 0; leaf < 400; ++leaf) {
      float dose[kFogLeafValues];
      uint64_t words[kFogLeafValues / 64], out_words[kFogLeafValues / 64];
      float density[kFogLeafValues];
      for (uint64_t& w : words) w = (static_cast<uint64_t>(rng()) << 32) | rng();
      if (leaf % 4 == 0)
        for (uint64_t& w : words) w = ~uint64_t(0);  // whole leaves too
      for (int n = 0; n < kFogLeafValues; ++n) {
        const int k = kind(rng);
        dose[n] = k == 0   ? 0.0f
                  : k == 1 ? -1.0f
                  : k == 2 ? static_cast<float>(std::pow(10.0, log10_max - 4.0))  // the floor itself
                  : k == 3 ? static_cast<float>(std::pow(10.0, log10_max))        // the largest
                           : static_cast<float>(std::pow(10.0, log10_max + decades(rng)));
        // Leaves out of the beam too, wholly below the density's floor, or all but one voxel.
        if (leaf % 5 == 1 || leaf % 5 == 2) dose[n] = static_cast<float>(std::pow(10.0, log10_max - 4.5));
        if (leaf % 5 == 2 && n == leaf % kFogLeafValues) dose[n] = static_cast<float>(std::pow(10.0, log10_max - 3.9));
        if (!((words[n / 64] >> (n % 64)) & 1)) dose[n] = 0.0f;  // inactive: the background
      }
      std::copy(dose, dose + kFogLeafValues, density);
      std::copy(words, words + kFogLeafValues / 64, out_words);
      fog_density_leaf(scale, density, out_words);
      for (int n = 0; n < kFogLeafValues; ++n) {
        const Fog want = fog_by_definition(log10_max, dose[n], (words[n / 64] >> (n % 64)) & 1);
        const bool got_active = (out_words[n / 64] >> (n % 64)) & 1;
        ++voxels;
        active += want.active;
        ASSERT_EQ(got_active, want.active) << "dose " << dose[n] << " at log10 max " << log10_max;
        if (!want.active) {
          ASSERT_EQ(density[n], 0.0f);
          continue;
        }
        // The same float but for a last-bit tie of the two logarithms' roundings.
        ASSERT_LE(std::fabs(density[n] - want.density), std::numeric_limits<float>::epsilon() * want.density)
            << "dose " << dose[n];
        different_bits += density[n] != want.density;
      }
    }
  }
  EXPECT_GT(active, voxels / 8);  // the comparison saw many voxels with a density
  EXPECT_LE(different_bits, voxels / 100000) << different_bits << " of " << voxels << " voxels differ in the last bit";
}

}  // namespace
}  // namespace dosemap
