// The `density` grid's values (dose.vdb, the frames, the preview): the fog Blender renders
// as is, log10 of the dose mapped to [0, 1] over the four decades below the largest dose,
//   density = min(1, (log10(dose) - lo) / (hi - lo)),   lo = hi - 4,
// active where that is above 0. Done a whole 8^3 leaf at a time on the dose grid's gathered
// leaf, vectorized (AVX-512, AVX2 or SSE2, chosen when the program starts): a scalar log10
// per voxel was a fifth of the demo scene's writing instructions (callgrind).
#pragma once

#include <cstdint>

namespace dosemap {

// log10(x) for x the value of a positive float, in the arithmetic the fog leaf uses
// (vectorizable: no branch, no table). Within 2 units in the last place of log10(x), under
// 1e-14 absolute over the float range (tested against std::log10), so that the density, a
// float, is std::log10's but for rare last-bit ties.
double fog_log10(double x);

struct FogScale {
  double lo = 0, hi = 0;  // log10 of the doses mapped to 0 and 1 (hi = log10 of the largest)
  // Doses below this have no density for sure, without a logarithm (most of a cell's leaves
  // lie out of the beam); the margin is far above the logarithm's rounding.
  double surely_below_Gy = 0;
  explicit FogScale(double log10_dose_max);
};

// One leaf of kFogLeafValues voxels in place: values[n] is voxel n's dose, active where bit
// n of words (8 words of 64 bits) is set, and becomes its density (0 where inactive); the
// words become the density's: active where the dose was and its density is above 0.
constexpr int kFogLeafValues = 512;
void fog_density_leaf(const FogScale& scale, float* values, uint64_t* words);

}  // namespace dosemap
