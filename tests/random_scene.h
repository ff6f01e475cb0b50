// Random but valid scenes for tests that must hold for any scene: layers and composites,
// monochromatic beams and spectra, Gaussian, top-hat and image profiles, points, rasters,
// fly paths, waits, repetitions and frames. An image profile writes beam.csv into `dir`.
#pragma once

#include <random>
#include <string>

#include "host/scene/scene.h"
#include "tests/test_support.h"

namespace dosemap::test {

std::string random_scene(std::mt19937& rng, const ScratchDir& dir);

// The random scene of `seed`, written to dir/scene.toml and read back; `text` gets its text.
Scene load_random_scene(int seed, const ScratchDir& dir, std::string* text = nullptr);

// The same scene on a stage turning about x or y (by seed), each step held at its own angle,
// and, with `rotating`, a continuous quarter turn added at the end: every pose kind the
// march supports on any grid.
void turn_random_scene(Scene& scene, int seed, bool rotating);

}  // namespace dosemap::test
