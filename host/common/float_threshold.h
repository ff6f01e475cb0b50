// A double threshold as a float that float values compare with exactly as with the double:
// for a float x, x >= least_float_at_or_above(t) exactly when double(x) >= t (NaN never),
// so that loops over float arrays compare floats and vectorize.
#pragma once

#include <cmath>
#include <limits>

namespace dosemap {

// The least float at or above t (infinity above the largest float).
inline float least_float_at_or_above(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) < t) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

}  // namespace dosemap
