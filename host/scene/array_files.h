// Numeric arrays from the files beamlines write: TIFF (libtiff), HDF5 datasets (libhdf5) and
// NumPy .npy. Every integer and float sample type is read as double. Used for measured beam
// images (host/scene/beam_image.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dosemap {

// A 2-D array: rows x columns, row-major, the file's first row first.
struct ImageArray {
  int64_t rows = 0, columns = 0;
  std::vector<double> values;
};

// Each reads one image; throws UserError naming `shown_path` (what is wrong, how to fix) for a
// file that cannot be read, is truncated, has another rank or sample type, or more than
// `max_values` values.
// TIFF: the first page, one sample per pixel (8 to 64 bits, unsigned, signed or float), strips
// or tiles, any compression libtiff reads.
ImageArray read_tiff_image(const std::string& path, const std::string& shown_path, int64_t max_values);
// HDF5: `dataset` (a path in the file) of integer or float type, rank 2 or rank 3 with one page.
ImageArray read_hdf5_image(const std::string& path, const std::string& shown_path, const std::string& dataset,
                           int64_t max_values);
// .npy (format versions 1 to 3): little- or big-endian integers (8 to 64 bits), floats (32 or
// 64 bits) or booleans, C or Fortran order, rank 2 or rank 3 with one page.
ImageArray read_npy_image(const std::string& path, const std::string& shown_path, int64_t max_values);

}  // namespace dosemap
