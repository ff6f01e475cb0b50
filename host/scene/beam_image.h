// Reads a measured beam profile from a CSV file: one row per y (first row = lowest y),
// relative intensities separated by commas or spaces, '#' starts a comment line.
#pragma once

#include <string>

#include "host/common/errors.h"
#include "host/scene/scene.h"

namespace dosemap {

// Fills image.nx, ny and intensity (normalised to sum 1). `shown_path` is how the file is
// named in messages. Problems go to `diag` with the CSV's own line and column.
void read_beam_image_csv(const std::string& file_path, const std::string& shown_path, BeamImage& image,
                         Diagnostics& diag);

}  // namespace dosemap
