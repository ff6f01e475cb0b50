// The unit conversions transport applies to tabulated coefficients (cm^2/g, keV) to get
// doses in Gy from fluences in photons/m^2.
#pragma once

namespace dosemap {

inline constexpr double kJoulePerKeV = 1.602176634e-16;  // exact (SI 2019)
inline constexpr double kM2KgPerCm2G = 0.1;              // 1 cm^2/g = 1e-4 m^2 / 1e-3 kg

}  // namespace dosemap
