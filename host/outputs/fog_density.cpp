#include "host/outputs/fog_density.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "host/common/simd_clones.h"

namespace dosemap {
namespace {

// log10(x) = (e ln 2 + ln m) / ln 10 for x = m 2^e, m in [sqrt(1/2), sqrt(2)), with
// ln m = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...), t = (m - 1) / (m + 1), |t| <= 0.1716:
// the series to t^23 leaves under 1e-18 of ln m. ln 2 is split (fdlibm's ln2_hi has 11 zero
// low bits) so that e ln2_hi is exact. The file is compiled without FMA contraction
// (CMakeLists.txt), so that every clone gives the same bits.
inline double log10_of_positive(double x) {
  // Bit casts, not memcpy: GCC vectorizes no loop that takes a local's address. The biased
  // exponent becomes a double as the low bits of 2^52 + it (no int64 conversion in AVX2).
  const uint64_t bits = __builtin_bit_cast(uint64_t, x);
  double e = __builtin_bit_cast(double, (bits >> 52) | 0x4330000000000000ull) - (4503599627370496.0 + 1023.0);
  double m = __builtin_bit_cast(double, (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  const bool above = m > 1.4142135623730951;
  m = above ? m * 0.5 : m;
  e = above ? e + 1.0 : e;
  const double t = (m - 1.0) / (m + 1.0), s = t * t;
  double series = 1.0 / 23;
  series = 1.0 / 21 + s * series;
  series = 1.0 / 19 + s * series;
  series = 1.0 / 17 + s * series;
  series = 1.0 / 15 + s * series;
  series = 1.0 / 13 + s * series;
  series = 1.0 / 11 + s * series;
  series = 1.0 / 9 + s * series;
  series = 1.0 / 7 + s * series;
  series = 1.0 / 5 + s * series;
  series = 1.0 / 3 + s * series;
  const double two_t = 2.0 * t;
  const double ln_m = two_t + two_t * (s * series);
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kInvLn10 = 0.43429448190325182765;
  return (e * kLn2Hi + (e * kLn2Lo + ln_m)) * kInvLn10;
}

}  // namespace

double fog_log10(double x) { return log10_of_positive(x); }

FogScale::FogScale(double log10_dose_max)
    : lo(log10_dose_max - 4.0), hi(log10_dose_max), surely_below_Gy(std::pow(10.0, lo) * (1.0 - 1e-9)) {}

DOSEMAP_SIMD_CLONES void fog_density_leaf(const FogScale& scale, float* __restrict values, uint64_t* __restrict words) {
  float largest = 0;  // of the leaf's doses (inactive ones are 0)
#pragma omp simd reduction(max : largest)
  for (int n = 0; n < kFogLeafValues; ++n) largest = values[n] > largest ? values[n] : largest;
  if (!(largest >= scale.surely_below_Gy)) {
    std::fill(values, values + kFogLeafValues, 0.0f);
    std::fill(words, words + kFogLeafValues / 64, uint64_t(0));
    return;
  }
  // The mask's bits as bytes of 0 or 1, eight at a time: bit i of b kept in byte i of b
  // repeated, then each byte (0 or 2^i) carried to 0 or 1 without reaching the next.
  alignas(64) unsigned char on[kFogLeafValues];
  for (int g = 0; g < kFogLeafValues / 8; ++g) {
    const uint64_t eight_bits = (words[g / 8] >> (8 * (g % 8))) & 0xFF;
    const uint64_t kept = (eight_bits * 0x0101010101010101ull) & 0x8040201008040201ull;
    const uint64_t bytes = ((kept + 0x7F7F7F7F7F7F7F7Full) >> 7) & 0x0101010101010101ull;
    std::memcpy(on + 8 * g, &bytes, sizeof bytes);
  }
  const double lo = scale.lo, range = scale.hi - scale.lo;
#pragma omp simd
  for (int n = 0; n < kFogLeafValues; ++n) {
    const double dose = values[n];
    const double x = (log10_of_positive(dose) - lo) / range;
    const bool active = on[n] != 0 && dose > 0 && x > 0;
    values[n] = active ? static_cast<float>(x < 1.0 ? x : 1.0) : 0.0f;
    on[n] = active;
  }
  // And back: the product gathers byte i's bit into bit 56 + i, with no carries between them.
  for (int w = 0; w < kFogLeafValues / 64; ++w) {
    uint64_t word = 0;
    for (int g = 0; g < 8; ++g) {
      uint64_t eight;
      std::memcpy(&eight, on + 64 * w + 8 * g, sizeof eight);
      word |= ((eight * 0x0102040810204080ull) >> 56) << (8 * g);
    }
    words[w] = word;
  }
}

}  // namespace dosemap
