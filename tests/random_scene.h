// Random but valid scenes for tests that must hold for any scene: layers and composites,
// monochromatic beams and spectra, Gaussian, top-hat and image profiles, points, rasters,
// fly paths, waits and repetitions. An image profile writes beam.csv into `dir`.
#pragma once

#include <random>
#include <string>

#include "tests/test_support.h"

namespace dosemap::test {

std::string random_scene(std::mt19937& rng, const ScratchDir& dir);

}  // namespace dosemap::test
