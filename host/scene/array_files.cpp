#include "host/scene/array_files.h"

#include <hdf5.h>
#include <tiffio.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <regex>

#include "host/common/errors.h"
#include "host/common/input_file.h"
#include "host/common/text.h"

namespace dosemap {

namespace {

[[noreturn]] void fail(const std::string& shown, const std::string& what, const std::string& fix) {
  throw UserError(SourcePos{shown, 0, 0}, what, fix);
}

void check_size(const std::string& shown, int64_t rows, int64_t columns, int64_t max_values) {
  if (rows <= 0 || columns <= 0) fail(shown, "holds an empty image", "give an image with at least one pixel");
  if (rows > max_values / columns)
    fail(shown, "has " + std::to_string(rows) + " x " + std::to_string(columns) + " pixels; at most " +
                    group_digits(max_values) + " are read",
         "bin the image (and scale pixel_um to match)");
}

// libtiff reports through global handlers: the last error of this thread, for the message.
thread_local std::string tiff_error;
void on_tiff_error(const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  tiff_error = (module ? std::string(module) + ": " : std::string()) + buf;
}
void on_tiff_warning(const char*, const char*, va_list) {}

template <typename T>
double sample_at(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<double>(v);
}

// Converts one sample of `bits` bits and TIFF/NumPy kind ('u', 'i', 'f') to double.
double sample_value(const unsigned char* p, int bits, char kind) {
  switch (kind) {
    case 'u':
      return bits == 8 ? sample_at<uint8_t>(p) : bits == 16 ? sample_at<uint16_t>(p)
             : bits == 32 ? sample_at<uint32_t>(p) : sample_at<uint64_t>(p);
    case 'i':
      return bits == 8 ? sample_at<int8_t>(p) : bits == 16 ? sample_at<int16_t>(p)
             : bits == 32 ? sample_at<int32_t>(p) : sample_at<int64_t>(p);
    default:
      return bits == 32 ? sample_at<float>(p) : sample_at<double>(p);
  }
}

}  // namespace

ImageArray read_tiff_image(const std::string& path, const std::string& shown, int64_t max_values) {
  TIFFSetErrorHandler(on_tiff_error);
  TIFFSetWarningHandler(on_tiff_warning);
  tiff_error.clear();
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(TIFFOpen(path.c_str(), "r"), [](TIFF* t) {
    if (t) TIFFClose(t);
  });
  if (!tif) fail(shown, "cannot be read as TIFF" + (tiff_error.empty() ? "" : " (" + tiff_error + ")"),
                 "check the file, or give a CSV, .npy or HDF5 image");
  uint32_t width = 0, height = 0;
  uint16_t spp = 1, bits = 8, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &planar);
  if (spp != 1)
    fail(shown, "has " + std::to_string(spp) + " samples per pixel (a colour image)",
         "save the camera image as one grey channel");
  const char kind = format == SAMPLEFORMAT_UINT ? 'u' : format == SAMPLEFORMAT_INT ? 'i' : format == SAMPLEFORMAT_IEEEFP ? 'f' : '?';
  const bool bits_ok = kind == 'f' ? (bits == 32 || bits == 64) : (bits == 8 || bits == 16 || bits == 32 || bits == 64);
  if (kind == '?' || !bits_ok)
    fail(shown, "has " + std::to_string(bits) + "-bit samples of TIFF sample format " + std::to_string(format),
         "save it with 8, 16, 32 or 64-bit integer or 32/64-bit float samples");
  ImageArray a;
  a.rows = height;
  a.columns = width;
  check_size(shown, a.rows, a.columns, max_values);
  a.values.resize(static_cast<size_t>(a.rows * a.columns));
  const int bytes = bits / 8;
  auto read_error = [&](const std::string& where) {
    fail(shown, "is truncated or damaged at " + where + (tiff_error.empty() ? "" : " (" + tiff_error + ")"),
         "write the image again");
  };
  if (TIFFIsTiled(tif.get())) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif.get(), TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif.get(), TIFFTAG_TILELENGTH, &th);
    std::vector<unsigned char> tile(static_cast<size_t>(TIFFTileSize(tif.get())));
    for (uint32_t y0 = 0; y0 < height; y0 += th)
      for (uint32_t x0 = 0; x0 < width; x0 += tw) {
        if (TIFFReadTile(tif.get(), tile.data(), x0, y0, 0, 0) < 0)
          read_error("the tile at row " + std::to_string(y0) + ", column " + std::to_string(x0));
        for (uint32_t y = y0; y < std::min(height, y0 + th); ++y)
          for (uint32_t x = x0; x < std::min(width, x0 + tw); ++x)
            a.values[static_cast<size_t>(y) * width + x] =
                sample_value(tile.data() + (static_cast<size_t>(y - y0) * tw + (x - x0)) * bytes, bits, kind);
      }
  } else {
    std::vector<unsigned char> line(static_cast<size_t>(TIFFScanlineSize(tif.get())));
    if (line.size() < static_cast<size_t>(width) * bytes) read_error("its first row");
    for (uint32_t y = 0; y < height; ++y) {
      if (TIFFReadScanline(tif.get(), line.data(), y, 0) < 0) read_error("row " + std::to_string(y));
      for (uint32_t x = 0; x < width; ++x)
        a.values[static_cast<size_t>(y) * width + x] = sample_value(line.data() + static_cast<size_t>(x) * bytes, bits, kind);
    }
  }
  return a;
}

ImageArray read_hdf5_image(const std::string& path, const std::string& shown, const std::string& dataset,
                           int64_t max_values) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures are reported below
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_file_locking(access, false, true);  // a file the beamline may still hold open
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access);
  H5Pclose(access);
  if (file < 0) fail(shown, "cannot be read as HDF5", "check the file, or give a CSV, TIFF or .npy image");
  struct Closer {
    hid_t file, set = -1, space = -1, type = -1;
    ~Closer() {
      if (type >= 0) H5Tclose(type);
      if (space >= 0) H5Sclose(space);
      if (set >= 0) H5Dclose(set);
      H5Fclose(file);
    }
  } c{file};
  c.set = H5Lexists(file, dataset.c_str(), H5P_DEFAULT) > 0 ? H5Dopen2(file, dataset.c_str(), H5P_DEFAULT) : -1;
  if (c.set < 0) fail(shown, "has no dataset '" + dataset + "'", "set image_dataset to the path of the image in the file");
  c.type = H5Dget_type(c.set);
  const H5T_class_t cls = H5Tget_class(c.type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail(shown, "dataset '" + dataset + "' holds neither integers nor floats", "point image_dataset at the image");
  c.space = H5Dget_space(c.set);
  const int rank = H5Sget_simple_extent_ndims(c.space);
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3 || H5Sget_simple_extent_dims(c.space, dims, nullptr) != rank || (rank == 3 && dims[0] != 1))
    fail(shown, "dataset '" + dataset + "' is not one 2-D image (rank " + std::to_string(rank) + ")",
         "point image_dataset at a 2-D image (or a stack of one)");
  ImageArray a;
  a.rows = static_cast<int64_t>(dims[rank - 2]);
  a.columns = static_cast<int64_t>(dims[rank - 1]);
  check_size(shown, a.rows, a.columns, max_values);
  a.values.resize(static_cast<size_t>(a.rows * a.columns));
  if (H5Dread(c.set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
    fail(shown, "dataset '" + dataset + "' cannot be read (truncated or damaged)", "write the file again");
  return a;
}

ImageArray read_npy_image(const std::string& path, const std::string& shown, int64_t max_values) {
  std::string bytes;
  read_small_file(path, "beam image", max_values * 8 + (int64_t(1) << 20), bytes);
  const std::string fix = "save it with numpy.save (a 2-D array of numbers)";
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail(shown, "is not a NumPy .npy file", fix);
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(shown, "is truncated (in its header)", fix);
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    fail(shown, "is a .npy file of format version " + std::to_string(major) + " (1 to 3 are read)", fix);
  }
  if (bytes.size() < offset + header_len) fail(shown, "is truncated (in its header)", fix);
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  static const std::regex descr_re(R"('descr'\s*:\s*'([<>|=])([uifb])(\d+)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  if (!std::regex_search(header, m, descr_re))
    fail(shown, "holds a dtype other than integers, floats or booleans (header: " + header.substr(0, 80) + ")",
         "save the image as integers or floats");
  const char endian = m[1].str()[0];
  char kind = m[2].str()[0];
  const int item = std::stoi(m[3].str());
  if (kind == 'b') kind = 'u';
  const bool size_ok = kind == 'f' ? (item == 4 || item == 8) : (item == 1 || item == 2 || item == 4 || item == 8);
  if (!size_ok) fail(shown, "holds " + std::to_string(item) + "-byte " + m[2].str() + " values", "save it as integers or floats of 1 to 8 bytes");
  if (!std::regex_search(header, m, order_re)) fail(shown, "has no fortran_order in its header", fix);
  const bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, shape_re)) fail(shown, "has no shape in its header", fix);
  std::vector<int64_t> shape;
  static const std::regex dim_re(R"(\d+)");
  const std::string dims = m[1].str();
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), dim_re); it != std::sregex_iterator(); ++it) {
    if (it->str().size() > 15) fail(shown, "has a dimension too large to read", fix);
    shape.push_back(std::stoll(it->str()));
  }
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2)
    fail(shown, "holds a " + std::to_string(shape.size()) + "-D array", "save one 2-D image (rows = y, columns = x)");
  ImageArray a;
  a.rows = shape[0];
  a.columns = shape[1];
  check_size(shown, a.rows, a.columns, max_values);
  const size_t count = static_cast<size_t>(a.rows * a.columns);
  const size_t data = offset + header_len;
  if (bytes.size() < data + count * item)
    fail(shown, "is truncated: " + std::to_string(bytes.size() - data) + " bytes of data for " + std::to_string(count) +
                    " values of " + std::to_string(item) + " bytes",
         "write the file again");
  a.values.resize(count);
  const bool swap = endian == '>' && item > 1;  // this machine is little-endian
  unsigned char sample[8];
  for (size_t n = 0; n < count; ++n) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data()) + data + n * item;
    if (swap) {
      for (int b = 0; b < item; ++b) sample[b] = p[item - 1 - b];
      p = sample;
    }
    // Fortran order: column by column.
    const size_t at = fortran ? (n % a.rows) * a.columns + n / a.rows : n;
    a.values[at] = sample_value(p, item * 8, kind);
  }
  return a;
}

}  // namespace dosemap
