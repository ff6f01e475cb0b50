// A leaf's active values packed in order (host/outputs/active_values.h): the vector path
// gives what the voxel-by-voxel one gives, for masks empty, full, and of every density.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "host/outputs/active_values.h"

namespace dosemap {
namespace {

// The values whose mask bit is set, the plain way.
std::vector<float> expected_packed(const std::array<float, kLeafValueCount>& values, const std::array<uint64_t, 8>& words) {
  std::vector<float> out;
  for (int n = 0; n < kLeafValueCount; ++n)
    if (words[n / 64] >> (n % 64) & 1) out.push_back(values[n]);
  return out;
}

TEST(ActiveValues, PackedInTheLeafsOrderByEveryPath) {
  std::mt19937_64 random(12345);
  std::array<float, kLeafValueCount> values;
  for (int n = 0; n < kLeafValueCount; ++n) values[n] = static_cast<float>(n) + 0.5f;
  // Masks empty and full, then random ones from sparse to nearly full.
  for (int c = 0; c < 402; ++c) {
    std::array<uint64_t, 8> words{};
    if (c == 1) words.fill(~uint64_t(0));
    if (c >= 2) {
      const double density = (c - 2) / 400.0;
      std::bernoulli_distribution on(density);
      for (int n = 0; n < kLeafValueCount; ++n)
        if (on(random)) words[n / 64] |= uint64_t(1) << (n % 64);
    }
    const std::vector<float> expected = expected_packed(values, words);
    std::array<float, kLeafValueCount> out;
    auto check = [&](const char* path, int count) {
      ASSERT_EQ(count, static_cast<int>(expected.size())) << path << " case " << c;
      for (int k = 0; k < count; ++k) ASSERT_EQ(out[k], expected[k]) << path << " case " << c << " value " << k;
    };
    check("scalar", pack_active_values_scalar(values.data(), words.data(), out.data()));
    check("chosen", pack_active_values(values.data(), words.data(), out.data()));
    if (processor_has_avx2()) check("avx2", pack_active_values_avx2(values.data(), words.data(), out.data()));
  }
}

}  // namespace
}  // namespace dosemap
