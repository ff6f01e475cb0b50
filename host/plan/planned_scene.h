// planned.toml: the user's scene with the plan applied, a scene `dosemap run` reads as is.
#pragma once

#include <string>

#include "host/plan/dwell_plan.h"
#include "host/plan/pattern_search.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"

namespace dosemap {

// The scene's own text with [beam] flux_ph_s set to `planned_flux` (every beam-on time scaled
// alike is the same dose as the flux scaled) and a beam image's path made absolute:
// everything else, comments included, as the user wrote it.
std::string planned_scene_scaled(const Scene& scene, double scale, double planned_flux);

struct PlannedText {
  std::string text;     // empty when no scene can carry the plan
  std::string why_not;  // then: why (a dwell below what a scene allows, a file too large)
  std::string note;     // something changed besides the scan (frames past the planned end)
};

// The scene with every raster and point step spelt as its points, in the same order, each a
// point step whose exposure_s is its planned dwell times `dwell_factor` (a margin below 1),
// the raster's moves as waits; the other steps, the repetitions and the period as written;
// the flux `planned_flux`. Written by toml++ (the user's comments are not kept) and read back
// by the scene reader before it is returned.
PlannedText planned_scene_dwell(const Scene& scene, const DwellPlan& plan,
                                double dwell_factor, double planned_flux);

// The scene with its scan replaced by `pattern`'s (host/plan/pattern_search.h: raster and
// wait steps, repeat = 1) and its flux, written and read back as above.
PlannedText planned_scene_pattern(const Scene& scene, const Scene& pattern, const std::string& description);

}  // namespace dosemap
