#include "host/scene/array_files.h"

#include <hdf5.h>
#include <tiffio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "host/common/errors.h"
#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/scene/hdf5_files.h"

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

using TiffHandle = std::unique_ptr<TIFF, void (*)(TIFF*)>;

TiffHandle open_tiff(const std::string& path, const std::string& shown) {
  TIFFSetErrorHandler(on_tiff_error);
  TIFFSetWarningHandler(on_tiff_warning);
  tiff_error.clear();
  TiffHandle tif(TIFFOpen(path.c_str(), "r"), [](TIFF* t) {
    if (t) TIFFClose(t);
  });
  if (!tif) fail(shown, "cannot be read as TIFF" + (tiff_error.empty() ? "" : " (" + tiff_error + ")"),
                 "check the file (a .tif must be a TIFF image or stack)");
  return tif;
}

// The current page's layout: size, and one sample per pixel of a type read as double.
struct TiffPage {
  uint32_t width = 0, height = 0;
  int bits = 8;
  char kind = 'u';
  bool operator==(const TiffPage& o) const {
    return width == o.width && height == o.height && bits == o.bits && kind == o.kind;
  }
  std::string text() const {
    return std::to_string(width) + " x " + std::to_string(height) + " pixels of " + std::to_string(bits) + "-bit " +
           (kind == 'u' ? "unsigned" : kind == 'i' ? "signed" : "float") + " samples";
  }
};

TiffPage tiff_page(TIFF* tif, const std::string& shown) {
  TiffPage p;
  uint16_t spp = 1, bits = 8, format = SAMPLEFORMAT_UINT;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p.width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p.height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  if (spp != 1)
    fail(shown, "has " + std::to_string(spp) + " samples per pixel (a colour image)",
         "save it as one grey channel");
  p.kind = format == SAMPLEFORMAT_UINT ? 'u' : format == SAMPLEFORMAT_INT ? 'i' : format == SAMPLEFORMAT_IEEEFP ? 'f' : '?';
  const bool bits_ok = p.kind == 'f' ? (bits == 32 || bits == 64) : (bits == 8 || bits == 16 || bits == 32 || bits == 64);
  if (p.kind == '?' || !bits_ok)
    fail(shown, "has " + std::to_string(bits) + "-bit samples of TIFF sample format " + std::to_string(format),
         "save it with 8, 16, 32 or 64-bit integer or 32/64-bit float samples");
  p.bits = bits;
  if (p.width == 0 || p.height == 0) fail(shown, "holds an empty page", "give pages of at least one pixel");
  return p;
}

// Reads the current page (strips or tiles) into out[height * width].
void read_tiff_page(TIFF* tif, const std::string& shown, const TiffPage& p, const std::string& page_name, double* out) {
  const int bytes = p.bits / 8;
  auto read_error = [&](const std::string& where) {
    fail(shown, "is truncated or damaged at " + where + (page_name.empty() ? "" : " of " + page_name) +
                    (tiff_error.empty() ? "" : " (" + tiff_error + ")"),
         "write the file again");
  };
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0) read_error("its tile layout");
    std::vector<unsigned char> tile(static_cast<size_t>(TIFFTileSize(tif)));
    if (tile.size() < static_cast<size_t>(tw) * th * bytes) read_error("its tile layout");
    for (uint32_t y0 = 0; y0 < p.height; y0 += th)
      for (uint32_t x0 = 0; x0 < p.width; x0 += tw) {
        if (TIFFReadTile(tif, tile.data(), x0, y0, 0, 0) < 0)
          read_error("the tile at row " + std::to_string(y0) + ", column " + std::to_string(x0));
        for (uint32_t y = y0; y < std::min(p.height, y0 + th); ++y)
          for (uint32_t x = x0; x < std::min(p.width, x0 + tw); ++x)
            out[static_cast<size_t>(y) * p.width + x] =
                sample_value(tile.data() + (static_cast<size_t>(y - y0) * tw + (x - x0)) * bytes, p.bits, p.kind);
      }
  } else {
    std::vector<unsigned char> line(static_cast<size_t>(TIFFScanlineSize(tif)));
    if (line.size() < static_cast<size_t>(p.width) * bytes) read_error("its first row");
    for (uint32_t y = 0; y < p.height; ++y) {
      if (TIFFReadScanline(tif, line.data(), y, 0) < 0) read_error("row " + std::to_string(y));
      for (uint32_t x = 0; x < p.width; ++x)
        out[static_cast<size_t>(y) * p.width + x] = sample_value(line.data() + static_cast<size_t>(x) * bytes, p.bits, p.kind);
    }
  }
}

// An open HDF5 dataset, closed in reverse order of opening.
struct Hdf5Dataset {
  hid_t file = -1, set = -1, space = -1, type = -1;
  Hdf5Dataset(const std::string& path, const std::string& shown, const std::string& dataset, size_t cache_bytes = 0) {
    file = open_hdf5_read_only(path);
    if (file < 0) fail(shown, "cannot be read as HDF5", "check the file (an .h5/.hdf5/.nxs must be HDF5)");
    hid_t dapl = H5P_DEFAULT;
    if (cache_bytes > 0) {
      // Slices cut across chunks: keep one read's chunks decompressed until it is done.
      dapl = H5Pcreate(H5P_DATASET_ACCESS);
      H5Pset_chunk_cache(dapl, 12421, cache_bytes, 1.0);
    }
    set = H5Lexists(file, dataset.c_str(), H5P_DEFAULT) > 0 ? H5Dopen2(file, dataset.c_str(), dapl) : -1;
    if (dapl != H5P_DEFAULT) H5Pclose(dapl);
    if (set < 0) fail(shown, "has no dataset '" + dataset + "'", "give the path of the dataset in the file, e.g. \"/entry/data/data\"");
    type = H5Dget_type(set);
    space = H5Dget_space(set);
  }
  ~Hdf5Dataset() {
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (set >= 0) H5Dclose(set);
    if (file >= 0) H5Fclose(file);
  }
  Hdf5Dataset(const Hdf5Dataset&) = delete;
  Hdf5Dataset& operator=(const Hdf5Dataset&) = delete;
};

// One slowest-axis slab [first, first + count) of a rank-2 or rank-3 dataset, as doubles.
void read_hdf5_slab(const ArrayStack& s, Hdf5Dataset& d, int64_t first, int64_t count, double* out) {
  const int rank = H5Sget_simple_extent_ndims(d.space);
  hsize_t start[3] = {0, 0, 0}, size[3] = {0, 0, 0};
  if (rank == 3) {
    start[0] = static_cast<hsize_t>(first);
    size[0] = static_cast<hsize_t>(count);
    size[1] = static_cast<hsize_t>(s.dims[1]);
    size[2] = static_cast<hsize_t>(s.dims[2]);
  } else {
    size[0] = static_cast<hsize_t>(s.dims[1]);
    size[1] = static_cast<hsize_t>(s.dims[2]);
  }
  const hid_t memory = H5Screate_simple(rank, size, nullptr);
  const bool ok = H5Sselect_hyperslab(d.space, H5S_SELECT_SET, start, nullptr, size, nullptr) >= 0 &&
                  H5Dread(d.set, H5T_NATIVE_DOUBLE, memory, d.space, H5P_DEFAULT, out) >= 0;
  H5Sclose(memory);
  if (!ok)
    fail(s.shown, "dataset '" + s.dataset + "' cannot be read" + (rank == 3 ? " at slices " + std::to_string(first) + ".." +
                                                                        std::to_string(first + count - 1)
                                                                  : std::string()) +
                      " (truncated, damaged, or compressed with a filter this HDF5 library lacks)",
         "write the dataset again, uncompressed or with gzip");
}

// .npy header: dtype, order and shape; `file_bytes` checks the data is all there.
ArrayStack parse_npy_header(const std::string& path, const std::string& shown, const std::string& bytes,
                            int64_t file_bytes) {
  const std::string fix = "save it with numpy.save (an array of numbers)";
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
         "save it as integers or floats");
  ArrayStack s;
  s.source = ArrayStack::Source::kNpy;
  s.path = path;
  s.shown = shown;
  const char endian = m[1].str()[0];
  s.kind = m[2].str()[0];
  const int item = std::stoi(m[3].str());
  if (s.kind == 'b') s.kind = 'u';
  const bool size_ok = s.kind == 'f' ? (item == 4 || item == 8) : (item == 1 || item == 2 || item == 4 || item == 8);
  if (!size_ok) fail(shown, "holds " + std::to_string(item) + "-byte " + m[2].str() + " values", "save it as integers or floats of 1 to 8 bytes");
  s.bits = item * 8;
  s.swap_bytes = endian == '>' && item > 1;  // this machine is little-endian
  if (!std::regex_search(header, m, order_re)) fail(shown, "has no fortran_order in its header", fix);
  s.reversed = m[1] == "True";
  if (!std::regex_search(header, m, shape_re)) fail(shown, "has no shape in its header", fix);
  std::vector<int64_t> shape;
  static const std::regex dim_re(R"(\d+)");
  const std::string dims = m[1].str();
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), dim_re); it != std::sregex_iterator(); ++it) {
    if (it->str().size() > 12) fail(shown, "has a dimension too large to read", fix);
    shape.push_back(std::stoll(it->str()));
  }
  if (shape.size() < 2 || shape.size() > 3)
    fail(shown, "holds a " + std::to_string(shape.size()) + "-D array", "save a 2-D image or a 3-D volume");
  s.rank = static_cast<int>(shape.size());
  // Fortran order lies with numpy's axes reversed: dims describe the data as it lies.
  if (s.reversed) std::reverse(shape.begin(), shape.end());
  if (shape.size() == 2) shape.insert(shape.begin(), 1);
  for (int a = 0; a < 3; ++a) s.dims[a] = shape[a];
  for (int64_t d : s.dims)
    if (d <= 0) fail(shown, "holds an empty array", fix);
  s.data_offset = static_cast<int64_t>(offset + header_len);
  const double count = static_cast<double>(s.dims[0]) * s.dims[1] * s.dims[2];
  if (static_cast<double>(file_bytes - s.data_offset) < count * item)
    fail(shown, "is truncated: " + std::to_string(std::max<int64_t>(0, file_bytes - s.data_offset)) +
                    " bytes of data for " + fmt_g(count, 15) + " values of " + std::to_string(item) + " bytes",
         "write the file again");
  return s;
}

int64_t file_size(const std::string& path, const std::string& shown) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) fail(shown, "cannot be read (" + ec.message() + ")", "check the path (relative to the scene file)");
  return static_cast<int64_t>(size);
}

// .npy and raw: slices read from the file in order, converted as the header says.
void read_binary_slices(const ArrayStack& s, int64_t slices, const SliceVisitor& f) {
  std::ifstream in(s.path, std::ios::binary);
  if (!in) fail(s.shown, "cannot be opened", "check the path (relative to the scene file)");
  in.seekg(s.data_offset);
  const int item = s.bits / 8;
  const size_t n = static_cast<size_t>(s.slice_values());
  std::vector<unsigned char> raw(n * item);
  std::vector<double> values(n);
  unsigned char sample[8];
  for (int64_t k = 0; k < slices; ++k) {
    if (!in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size())))
      fail(s.shown, "is truncated at slice " + std::to_string(k) + " of " + std::to_string(s.dims[0]), "write the file again");
    for (size_t v = 0; v < n; ++v) {
      const unsigned char* p = raw.data() + v * item;
      if (s.swap_bytes) {
        for (int b = 0; b < item; ++b) sample[b] = p[item - 1 - b];
        p = sample;
      }
      values[v] = sample_value(p, s.bits, s.kind);
    }
    f(k, values.data());
  }
}

// Reads a whole stack of one slice into an image (checked against max_values first).
ImageArray one_slice_image(const ArrayStack& s, int64_t max_values) {
  if (s.dims[0] != 1)
    fail(s.shown, "holds " + std::to_string(s.dims[0]) + " images (" + std::to_string(s.dims[0]) + " x " +
                      std::to_string(s.dims[1]) + " x " + std::to_string(s.dims[2]) + ")",
         "give one 2-D image (a stack of one)");
  ImageArray a;
  a.rows = s.dims[1];
  a.columns = s.dims[2];
  check_size(s.shown, a.rows, a.columns, max_values);
  a.values.resize(static_cast<size_t>(a.rows * a.columns));
  read_stack_slices(s, 1, [&](int64_t, const double* v) { std::copy(v, v + a.values.size(), a.values.begin()); });
  return a;
}

}  // namespace

ArrayFileKind array_file_kind(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".tif" || ext == ".tiff") return ArrayFileKind::kTiff;
  if (ext == ".h5" || ext == ".hdf5" || ext == ".nxs") return ArrayFileKind::kHdf5;
  if (ext == ".npy") return ArrayFileKind::kNpy;
  if (ext == ".raw") return ArrayFileKind::kRaw;
  if (ext == ".csv") return ArrayFileKind::kCsv;
  return ArrayFileKind::kOther;
}

hid_t open_hdf5_read_only(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures are reported by the callers
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_file_locking(access, false, true);  // a file the beamline may still hold open
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access);
  H5Pclose(access);
  return file;
}

ArrayStack tiff_stack(const std::string& path, const std::string& shown) {
  TiffHandle tif = open_tiff(path, shown);
  const TiffPage first = tiff_page(tif.get(), shown);
  ArrayStack s;
  s.source = ArrayStack::Source::kTiff;
  s.path = path;
  s.shown = shown;
  // A stack cut short loses its last pages' directories: the chain then points past the end
  // of the file, which libtiff reports while counting (a silently thinner volume otherwise).
  tiff_error.clear();
  s.dims = {static_cast<int64_t>(TIFFNumberOfDirectories(tif.get())), first.height, first.width};
  if (!tiff_error.empty())
    fail(shown, "is truncated or damaged: its chain of pages breaks after page " + std::to_string(s.dims[0]) + " (" +
                    tiff_error + ")",
         "write the stack again");
  s.kind = first.kind;
  s.bits = first.bits;
  if (s.dims[0] < 1) fail(shown, "holds no page", "write the stack again");
  return s;
}

ArrayStack hdf5_stack(const std::string& path, const std::string& shown, const std::string& dataset) {
  Hdf5Dataset d(path, shown, dataset);
  const H5T_class_t cls = H5Tget_class(d.type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail(shown, "dataset '" + dataset + "' holds neither integers nor floats", "give the path of the numeric dataset");
  ArrayStack s;
  s.source = ArrayStack::Source::kHdf5;
  s.path = path;
  s.shown = shown;
  s.dataset = dataset;
  s.kind = cls == H5T_FLOAT ? 'f' : H5Tget_sign(d.type) == H5T_SGN_NONE ? 'u' : 'i';
  s.bits = static_cast<int>(8 * H5Tget_size(d.type));
  const int rank = H5Sget_simple_extent_ndims(d.space);
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3 || H5Sget_simple_extent_dims(d.space, dims, nullptr) != rank)
    fail(shown, "dataset '" + dataset + "' has rank " + std::to_string(rank) + " (2 or 3 are read)",
         "give a 2-D image or a 3-D volume");
  s.rank = rank;
  s.dims = rank == 3 ? std::array<int64_t, 3>{int64_t(dims[0]), int64_t(dims[1]), int64_t(dims[2])}
                     : std::array<int64_t, 3>{1, int64_t(dims[0]), int64_t(dims[1])};
  for (int64_t n : s.dims)
    if (n <= 0) fail(shown, "dataset '" + dataset + "' is empty", "give a dataset with data");
  const hid_t dcpl = H5Dget_create_plist(d.set);
  hsize_t chunk[3] = {1, 1, 1};
  if (rank == 3 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 3, chunk) == 3) {
    // A chunk is decompressed whole: read its depth of slices at once, within 256 MB.
    const int64_t fit = std::max<int64_t>(1, (int64_t(256) << 20) / (s.slice_values() * (8 + s.bits / 8)));
    s.slices_per_read = std::clamp<int64_t>(static_cast<int64_t>(chunk[0]), 1, std::min(fit, s.dims[0]));
  }
  H5Pclose(dcpl);
  return s;
}

ArrayStack npy_stack(const std::string& path, const std::string& shown) {
  const int64_t size = file_size(path, shown);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(shown, "cannot be opened", "check the path (relative to the scene file)");
  std::string head(static_cast<size_t>(std::min<int64_t>(size, 65536 + 12)), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return parse_npy_header(path, shown, head, size);
}

ArrayStack raw_stack(const std::string& path, const std::string& shown, const std::array<int64_t, 3>& shape, int bytes,
                     char kind) {
  ArrayStack s;
  s.source = ArrayStack::Source::kRaw;
  s.path = path;
  s.shown = shown;
  s.dims = shape;
  s.kind = kind;
  s.bits = 8 * bytes;
  const int64_t size = file_size(path, shown);
  const double need = static_cast<double>(bytes) * shape[0] * shape[1] * shape[2];
  if (static_cast<double>(size) != need)
    fail(shown, "holds " + group_digits(size) + " bytes, but shape [" + std::to_string(shape[0]) + ", " +
                    std::to_string(shape[1]) + ", " + std::to_string(shape[2]) + "] of " + std::to_string(bytes) +
                    "-byte values needs " + fmt_g(need, 15) + (static_cast<double>(size) < need ? " (truncated?)" : ""),
         "check shape (slowest axis first) and dtype against how the file was written");
  return s;
}

void read_stack_slices(const ArrayStack& s, int64_t slices, const SliceVisitor& f) {
  slices = std::min(slices, s.dims[0]);
  switch (s.source) {
    case ArrayStack::Source::kTiff: {
      TiffHandle tif = open_tiff(s.path, s.shown);
      TiffPage first;
      first.width = static_cast<uint32_t>(s.dims[2]);
      first.height = static_cast<uint32_t>(s.dims[1]);
      first.bits = s.bits;
      first.kind = s.kind;
      std::vector<double> values(static_cast<size_t>(s.slice_values()));
      for (int64_t k = 0; k < slices; ++k) {
        const std::string page = "page " + std::to_string(k + 1) + " of " + std::to_string(s.dims[0]);
        if (k > 0 && TIFFReadDirectory(tif.get()) != 1)
          fail(s.shown, "is truncated or damaged at " + page + (tiff_error.empty() ? "" : " (" + tiff_error + ")"),
               "write the stack again");
        const TiffPage p = tiff_page(tif.get(), s.shown);
        if (!(p == first))
          fail(s.shown, page + " holds " + p.text() + ", the first page " + first.text(),
               "write every page of the stack with the same size and sample type");
        read_tiff_page(tif.get(), s.shown, p, s.dims[0] > 1 ? page : std::string(), values.data());
        f(k, values.data());
      }
      return;
    }
    case ArrayStack::Source::kHdf5: {
      const size_t slab_values = static_cast<size_t>(s.slices_per_read * s.slice_values());
      Hdf5Dataset d(s.path, s.shown, s.dataset, s.slices_per_read > 1 ? size_t(s.read_buffer_bytes()) : 0);
      std::vector<double> values(slab_values);
      for (int64_t k0 = 0; k0 < slices; k0 += s.slices_per_read) {
        const int64_t n = std::min(s.slices_per_read, slices - k0);
        read_hdf5_slab(s, d, k0, n, values.data());
        for (int64_t k = 0; k < n; ++k) f(k0 + k, values.data() + k * s.slice_values());
      }
      return;
    }
    case ArrayStack::Source::kNpy:
    case ArrayStack::Source::kRaw: read_binary_slices(s, slices, f); return;
  }
}

ImageArray read_tiff_image(const std::string& path, const std::string& shown, int64_t max_values) {
  ArrayStack s = tiff_stack(path, shown);
  s.dims[0] = 1;  // a camera image: its first page
  return one_slice_image(s, max_values);
}

ImageArray read_hdf5_image(const std::string& path, const std::string& shown, const std::string& dataset,
                           int64_t max_values) {
  return one_slice_image(hdf5_stack(path, shown, dataset), max_values);
}

ImageArray read_npy_image(const std::string& path, const std::string& shown, int64_t max_values) {
  const ArrayStack s = npy_stack(path, shown);
  if (!s.reversed) return one_slice_image(s, max_values);
  // Fortran order lies column by column: numpy (r, c) as (1, c, r), (1, r, c) as (c, r, 1).
  ImageArray a;
  if (s.rank == 2 || s.dims[2] == 1) {
    a.rows = s.rank == 2 ? s.dims[2] : s.dims[1];
    a.columns = s.rank == 2 ? s.dims[1] : s.dims[0];
  } else {
    fail(shown, "holds " + std::to_string(s.dims[2]) + " images", "give one 2-D image (a stack of one)");
  }
  check_size(shown, a.rows, a.columns, max_values);
  a.values.resize(static_cast<size_t>(a.rows * a.columns));
  int64_t n = 0;  // the value's place in the file
  read_stack_slices(s, s.dims[0], [&](int64_t, const double* v) {
    for (int64_t i = 0; i < s.slice_values(); ++i, ++n) a.values[(n % a.rows) * a.columns + n / a.rows] = v[i];
  });
  return a;
}

}  // namespace dosemap
