// Writers of the array files dosemap reads (TIFF stacks, HDF5 datasets, NumPy .npy), for
// tests that make their own beam images and label volumes.
#pragma once

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dosemap::test {

// A .npy file (format 1) of `descr` values ("<u2", "<f8"), `shape` as numpy writes it
// ("(96, 128)"), `data` the raw bytes in the file's order.
void write_npy(const std::filesystem::path& path, const std::string& descr, const std::string& shape, const void* data,
               size_t bytes, bool fortran = false);

// A multi-page TIFF of 16-bit unsigned pages, each rows x columns, one strip per 4 rows,
// deflate-compressed; `pages[p][r * columns + c]`; `append`: after the pages already there.
void write_tiff_stack(const std::filesystem::path& path, const std::vector<std::vector<uint16_t>>& pages, int rows,
                      int columns, bool append = false);

// An HDF5 file holding one rank-3 dataset `name` (groups made on the way) of file type
// `file_type` from int32 values `data` (dims slowest first); chunked and gzip-compressed
// when `chunk` is given (all non-zero).
void write_hdf5_volume(const std::filesystem::path& path, const std::string& name, hid_t file_type,
                       const std::array<hsize_t, 3>& dims, const std::vector<int32_t>& data,
                       const std::array<hsize_t, 3>& chunk = {0, 0, 0});

}  // namespace dosemap::test
