// Reads a measured beam profile (docs/scene-format.md, "Measured beam images"): a CSV file
// (one row per y, relative intensities separated by commas or spaces, '#' starts a comment
// line), a TIFF (first page), an HDF5 dataset or a NumPy .npy file of any integer or float
// pixel type. A camera offset (image_background) is subtracted first and what ends up
// negative counts as 0; the file's first row is the lowest y unless image_first_row says
// "highest_y" (how cameras and TIFF store images).
#pragma once

#include <array>
#include <string>

#include "host/common/errors.h"
#include "host/scene/scene.h"

namespace dosemap {

struct BeamImageOptions {
  std::string dataset;             // HDF5 only: the dataset's path in the file
  double background = 0;           // subtracted from every pixel
  bool first_row_highest_y = false;
};

// The file's format from its extension: .tif/.tiff, .h5/.hdf5/.nxs, .npy, anything else CSV.
enum class BeamImageFormat { kCsv, kTiff, kHdf5, kNpy };
BeamImageFormat beam_image_format(const std::string& path);

// Fills image.nx, ny and intensity (row 0 = lowest y, normalised to sum 1). `shown_path` is
// how the file is named in messages. Problems go to `diag`: a CSV's with its own line and
// column, the others' with the file (line 0).
void read_beam_image(const std::string& file_path, const std::string& shown_path, const BeamImageOptions& options,
                     BeamImage& image, Diagnostics& diag);

// What the image says about the beam, for `dosemap check`: the intensity-weighted centre and
// the full widths at half maximum of the profiles along x and y (summed over the other axis),
// in um, relative to the beam position (the image is centred on it).
struct BeamImageShape {
  std::array<double, 2> centroid_um{}, fwhm_um{};
};
BeamImageShape measure_beam_image(const BeamImage& image);

}  // namespace dosemap
