#include "tests/array_writers.h"

#include <gtest/gtest.h>
#include <tiffio.h>

#include "tests/test_support.h"

namespace dosemap::test {

void write_npy(const std::filesystem::path& path, const std::string& descr, const std::string& shape, const void* data,
               size_t bytes, bool fortran) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  file += header;
  file.append(static_cast<const char*>(data), bytes);
  write_file(path, file);
}

void write_tiff_stack(const std::filesystem::path& path, const std::vector<std::vector<uint16_t>>& pages, int rows,
                      int columns, bool append) {
  TIFF* t = TIFFOpen(path.c_str(), append ? "a" : "w");
  ASSERT_NE(t, nullptr);
  for (size_t p = 0; p < pages.size(); ++p) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, columns);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 4);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(p), static_cast<uint16_t>(pages.size()));
    for (int r = 0; r < rows; ++r)
      ASSERT_GE(TIFFWriteScanline(t, const_cast<uint16_t*>(pages[p].data() + static_cast<size_t>(r) * columns), r, 0), 0);
    ASSERT_EQ(TIFFWriteDirectory(t), 1);
  }
  TIFFClose(t);
}

void write_hdf5_volume(const std::filesystem::path& path, const std::string& name, hid_t file_type,
                       const std::array<hsize_t, 3>& dims, const std::vector<int32_t>& data,
                       const std::array<hsize_t, 3>& chunk) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
  if (chunk[0] > 0) {
    H5Pset_chunk(create, 3, chunk.data());
    H5Pset_deflate(create, 4);
  }
  const hid_t space = H5Screate_simple(3, dims.data(), nullptr);
  const hid_t set = H5Dcreate2(f, name.c_str(), file_type, space, links, create, H5P_DEFAULT);
  ASSERT_GE(set, 0);
  ASSERT_GE(H5Dwrite(set, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0);
  H5Dclose(set);
  H5Sclose(space);
  H5Pclose(create);
  H5Pclose(links);
  H5Fclose(f);
}

}  // namespace dosemap::test
