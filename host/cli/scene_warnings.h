// What a scene that is valid may still get wrong, said before any beamtime or compute is
// spent: values far outside what experiments use (each with what was probably meant: a
// length in mm typed in um, an exponent slip in the flux) and voxels too coarse to resolve
// the beam or a layer (the peak dose is a voxel mean, so it is under-reported: a 5 um beam
// on 5 um voxels keeps 66 % of its peak when centred on a voxel and 27 % when it falls on a
// voxel corner). `check` lists them,
// `run` prints them on stderr before it runs; neither refuses the scene for them.
#pragma once

#include <vector>

#include "host/cli/scene_setup.h"
#include "host/common/errors.h"

namespace dosemap {

// Each with the place in the scene file, what is off, and what to write instead.
std::vector<Diagnostic> scene_warnings(const SceneSetup& setup);

}  // namespace dosemap
