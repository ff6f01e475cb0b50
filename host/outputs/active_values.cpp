#include "host/outputs/active_values.h"

#include <immintrin.h>

#include <array>

namespace dosemap {
namespace {

// For each byte of a mask, the positions of its set bits, lowest first (then zeros): the
// permutation that brings those eight values' active ones to the front.
struct PackTable {
  alignas(64) std::array<std::array<uint8_t, 8>, 256> positions{};
  std::array<uint8_t, 256> count{};
  constexpr PackTable() {
    for (int byte = 0; byte < 256; ++byte) {
      int k = 0;
      for (int bit = 0; bit < 8; ++bit)
        if (byte >> bit & 1) positions[byte][k++] = static_cast<uint8_t>(bit);
      count[byte] = static_cast<uint8_t>(k);
    }
  }
};
constexpr PackTable kPack;

}  // namespace

int pack_active_values_scalar(const float* values, const uint64_t* words, float* out) {
  float* at = out;
  for (int w = 0; w < kLeafValueCount / 64; ++w)
    for (uint64_t bits = words[w]; bits; bits &= bits - 1) *at++ = values[w * 64 + __builtin_ctzll(bits)];
  return static_cast<int>(at - out);
}

// Eight values at a time, each group stored whole where the next begins (no branch on the
// mask): before group g at most 8 g values are packed, so no store passes out's 512.
__attribute__((target("avx2"))) int pack_active_values_avx2(const float* values, const uint64_t* words, float* out) {
  int k = 0;
  for (int w = 0; w < kLeafValueCount / 64; ++w) {
    uint64_t word = words[w];
    for (int g = 0; g < 8; ++g, word >>= 8) {
      const unsigned byte = static_cast<unsigned>(word & 0xFF);
      const __m128i positions = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kPack.positions[byte].data()));
      const __m256 eight = _mm256_loadu_ps(values + w * 64 + g * 8);
      _mm256_storeu_ps(out + k, _mm256_permutevar8x32_ps(eight, _mm256_cvtepu8_epi32(positions)));
      k += kPack.count[byte];
    }
  }
  return k;
}

bool processor_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

int pack_active_values(const float* values, const uint64_t* words, float* out) {
  return processor_has_avx2() ? pack_active_values_avx2(values, words, out) : pack_active_values_scalar(values, words, out);
}

}  // namespace dosemap
