// One piece of the scan as transport sees it (host/transport/exposure_plan.h makes them):
// the beam on for `duration_s` at one stage angle, its centre fixed or moving in a straight
// line. Plain struct: the CUDA backend copies the list to the device as it is.
#pragma once

#include <stdint.h>

namespace dosemap {

struct SubExposure {
  double t_start_s = 0;
  double duration_s = 0;
  double x0_um = 0, y0_um = 0, x1_um = 0, y1_um = 0;  // beam centre start / end
  double angle_deg = 0;  // stage angle (fixed within a sub-exposure)
  double photons = 0;
  int32_t exposure = 0;  // index into Timeline::exposures
};

}  // namespace dosemap
