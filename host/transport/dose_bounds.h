// Upper bounds on the dose and dose rate a scene can produce, from the set-up alone: all of
// the scan's photons through one voxel column, no attenuation, the largest energy x
// deposition coefficient of any material and spectrum line. The results are 32-bit floats;
// a scene whose bounds exceed what a float holds is refused by `check` and `run` alike,
// naming the beam's flux and the beam-on time (finite inputs can multiply past 3.4e38).
#pragma once

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"

namespace dosemap {

struct DoseBounds {
  double dose_Gy = 0;       // >= any voxel's or component's dose
  double rate_Gy_s = 0;     // >= any peak dose rate
};

DoseBounds dose_bounds(const Scene& scene, const MaterialTable& materials, const GridGeometry& g, const Timeline& tl);

// Throws UserError at [beam] flux_ph_s when a bound does not fit a float.
void check_dose_bounds(const Scene& scene, const DoseBounds& bounds, const Timeline& tl);

}  // namespace dosemap
