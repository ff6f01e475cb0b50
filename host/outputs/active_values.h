// A VDB leaf's active values packed in the leaf's order: what io::writeCompressedValues
// stores of a leaf whose inactive values are all the background (dose.vdb's grids, the
// frames). Vectorized (AVX2, a permutation per eight values) where the processor has it:
// voxel by voxel, packing was a tenth of the demo scene's writing instructions (callgrind),
// most leaves at a threshold's or a density's edge being nearly all active.
#pragma once

#include <cstdint>

namespace dosemap {

constexpr int kLeafValueCount = 512;  // an 8^3 leaf

// Copies to out (room for kLeafValueCount floats) the values[n] whose bit n of `words` (8 words
// of 64 bits, bit n % 64 of word n / 64) is set, in order of n; returns how many. Past that
// count, out's floats are left undefined.
int pack_active_values(const float* values, const uint64_t* words, float* out);

// The two ways, for the tests: voxel by voxel, and with AVX2 (only where the processor has it).
int pack_active_values_scalar(const float* values, const uint64_t* words, float* out);
int pack_active_values_avx2(const float* values, const uint64_t* words, float* out);
bool processor_has_avx2();

}  // namespace dosemap
