// Numeric arrays from the files beamlines write: TIFF (libtiff, multi-page stacks), HDF5
// datasets (libhdf5), NumPy .npy and headerless raw files. Every integer and float sample
// type is read as double. A 3-D array is read one slice (along its slowest axis) at a time,
// so that a segmented tomogram larger than memory's spare room never needs a second full
// copy. Used for measured beam images (host/scene/beam_image.h) and label volumes
// (host/scene/label_volume.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dosemap {

// What a file holds, by its extension (any case): .tif/.tiff, .h5/.hdf5/.nxs, .npy, .raw, .csv.
enum class ArrayFileKind { kTiff, kHdf5, kNpy, kRaw, kCsv, kOther };
ArrayFileKind array_file_kind(const std::string& path);

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

// A 3-D array in a file, as its header describes it (nothing of the data read yet).
struct ArrayStack {
  enum class Source { kTiff, kHdf5, kNpy, kRaw };
  Source source = Source::kTiff;
  std::string path, shown, dataset;
  // The extents as the data lies in the file, slowest first (a 2-D array is one slice). A
  // Fortran-order .npy lies with its axes reversed: `reversed` says so, and dims are the
  // reversed shape.
  std::array<int64_t, 3> dims{};
  bool reversed = false;
  int rank = 3;  // as stored: 2 for an image (dims[0] = 1)
  char kind = 'u';  // 'u' unsigned, 'i' signed, 'f' float
  int bits = 8;
  bool swap_bytes = false;  // big-endian .npy data on this little-endian machine
  int64_t data_offset = 0;  // .npy and raw: where the values begin
  int64_t slices_per_read = 1;  // HDF5: a chunk's depth along the slowest axis (bounded)

  int64_t slice_values() const { return dims[1] * dims[2]; }
  // Bytes held while reading: the slices of one read as stored and as doubles.
  double read_buffer_bytes() const { return static_cast<double>(slices_per_read) * slice_values() * (8 + bits / 8); }
};

// Headers only; throw UserError naming the file for one that cannot be read, a rank other
// than 2 or 3, a sample type other than integers or floats, or (.npy, raw) fewer bytes than
// the header or shape says.
ArrayStack tiff_stack(const std::string& path, const std::string& shown);
ArrayStack hdf5_stack(const std::string& path, const std::string& shown, const std::string& dataset);
ArrayStack npy_stack(const std::string& path, const std::string& shown);
// raw: `shape` slowest first, `bytes` 1, 2 or 4 per value, `kind` 'u' or 'i', little-endian.
ArrayStack raw_stack(const std::string& path, const std::string& shown, const std::array<int64_t, 3>& shape,
                     int bytes, char kind);

// Calls f(slice, values) for the first `slices` slices in file order, values row-major
// (dims[1] rows of dims[2]); throws UserError for data that cannot be read (truncated,
// damaged, a TIFF page of another size or type than the first).
using SliceVisitor = std::function<void(int64_t slice, const double* values)>;
void read_stack_slices(const ArrayStack& stack, int64_t slices, const SliceVisitor& f);

}  // namespace dosemap
