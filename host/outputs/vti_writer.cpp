#include "host/outputs/vti_writer.h"

#include <algorithm>
#include <cstdio>

#include <lz4.h>

#include "host/common/errors.h"
#include "host/outputs/checked_file.h"

namespace dosemap {

namespace {

size_t type_size(VtiArray::Type t) { return t == VtiArray::kFloat32 ? 4 : t == VtiArray::kInt32 ? 4 : 1; }
const char* type_name(VtiArray::Type t) {
  return t == VtiArray::kFloat32 ? "Float32" : t == VtiArray::kInt32 ? "Int32" : "UInt8";
}

// LZ4's acceleration: 4 compresses a run's arrays about as well as 1 (within a few per
// cent), a fifth faster where they are not runs of one value. VTK reads any.
constexpr int kLz4Acceleration = 4;

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);  // exact for voxel sizes and origins, without noise
  return buf;
}

// An appended array's offset in the header: written as a placeholder, then patched once the
// compressed sizes are known, in a field of fixed width (the attribute's value, its closing
// quote, then spaces, which XML allows between attributes).
constexpr size_t kOffsetField = 21;  // 20 digits hold any uint64_t
std::string offset_field(uint64_t offset) {
  std::string s = std::to_string(offset) + "\"";
  s.resize(kOffsetField, ' ');
  return s;
}

}  // namespace

void write_vti(std::ostream& f, const GridGeometry& g, const std::vector<VtiArray>& arrays, const std::string& scalars,
               const IndexBox& box) {
  const int64_t n = box.voxels();
  std::string head;
  std::string extent;
  for (int a = 0; a < 3; ++a)
    extent += (a ? " " : "") + std::to_string(box.lo[a]) + " " + std::to_string(box.hi[a]);
  head += "<?xml version=\"1.0\"?>\n<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" "
          "header_type=\"UInt64\" compressor=\"vtkLZ4DataCompressor\">\n";
  head += "  <ImageData WholeExtent=\"" + extent + "\" Origin=\"" + num(g.origin_um[0] * 1e-3) + " " +
          num(g.origin_um[1] * 1e-3) + " " + num(g.origin_um[2] * 1e-3) + "\" Spacing=\"" + num(g.voxel_um[0] * 1e-3) +
          " " + num(g.voxel_um[1] * 1e-3) + " " + num(g.voxel_um[2] * 1e-3) + "\" Direction=\"1 0 0 0 1 0 0 0 1\">\n";
  head += "    <Piece Extent=\"" + extent + "\">\n      <CellData Scalars=\"" + xml_escape(scalars) + "\">\n";
  std::vector<size_t> offset_at;  // each array's offset field, within head
  for (const VtiArray& a : arrays) {
    head += "        <DataArray type=\"" + std::string(type_name(a.type)) + "\" Name=\"" + xml_escape(a.name) +
            "\" format=\"appended\" offset=\"";
    offset_at.push_back(head.size());
    head += offset_field(0) + "/>\n";
  }
  head += "      </CellData>\n    </Piece>\n  </ImageData>\n  <AppendedData encoding=\"raw\">\n   _";
  const std::streamoff file_start = f.tellp();
  const std::streamoff data_start = file_start + static_cast<std::streamoff>(head.size());
  f.write(head.data(), static_cast<std::streamsize>(head.size()));

  // Each array as VTK's compressed blocks: a header of UInt64s (the number of blocks, a
  // block's bytes, the last block's bytes when it is shorter (else 0), each block's
  // compressed bytes), then the blocks, each LZ4 of one chunk of the box's rows (contiguous
  // runs of the grid's x) in VTK's order. A chunk is filled in a pooled megabyte (a fresh
  // buffer per file would fault its pages in again) and compressed while in the cache: most
  // of a run's arrays are runs of NaN, 0 or one material, which LZ4 passes at memory speed,
  // so that writing the file costs less than copying its raw bytes into the kernel would.
  const int64_t row = box.extent(0), rows = n > 0 ? box.extent(1) * box.extent(2) : 0;
  IoBufferPool::Borrowed pooled;
  std::vector<char> own;  // only for a row longer than the pooled buffer
  thread_local std::vector<char> compressed;
  std::vector<uint64_t> header;
  std::vector<uint64_t> offsets;
  std::streamoff at = data_start;  // where the next array starts
  for (const VtiArray& a : arrays) {
    offsets.push_back(static_cast<uint64_t>(at - data_start));
    const size_t row_bytes = static_cast<size_t>(row) * type_size(a.type);
    int64_t rows_per_chunk = static_cast<int64_t>(IoBufferPool::kBytes / std::max<size_t>(1, row_bytes));
    char* buffer = pooled.data();
    if (rows_per_chunk == 0) {
      own.resize(row_bytes);
      buffer = own.data();
      rows_per_chunk = 1;
    }
    const int64_t blocks = (rows + rows_per_chunk - 1) / rows_per_chunk;
    const size_t block_bytes = static_cast<size_t>(rows_per_chunk) * row_bytes;
    DOSEMAP_BUG_CHECK(block_bytes <= static_cast<size_t>(LZ4_MAX_INPUT_SIZE), "a VTK block LZ4 can compress");
    header.assign(static_cast<size_t>(3 + blocks), 0);
    header[0] = static_cast<uint64_t>(blocks);
    header[1] = block_bytes;
    header[2] = static_cast<uint64_t>(rows % rows_per_chunk) * row_bytes;
    const std::streamsize header_bytes = static_cast<std::streamsize>(header.size() * sizeof(uint64_t));
    f.write(reinterpret_cast<const char*>(header.data()), header_bytes);  // sizes not known yet
    compressed.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(block_bytes))));
    std::streamoff end = at + header_bytes;
    for (int64_t r0 = 0, b = 0; r0 < rows; r0 += rows_per_chunk, ++b) {
      const int64_t r1 = std::min(rows, r0 + rows_per_chunk);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t j = box.lo[1] + r % box.extent(1), k = box.lo[2] + r / box.extent(1);
        const int64_t begin = g.index(box.lo[0], j, k);
        a.fill(begin, begin + row, buffer + static_cast<size_t>(r - r0) * row_bytes);
      }
      const int bytes = LZ4_compress_fast(buffer, compressed.data(), static_cast<int>(static_cast<size_t>(r1 - r0) * row_bytes),
                                          static_cast<int>(compressed.size()), kLz4Acceleration);
      DOSEMAP_BUG_CHECK(bytes > 0, "LZ4 compresses into its bound");
      header[3 + static_cast<size_t>(b)] = static_cast<uint64_t>(bytes);
      f.write(compressed.data(), bytes);
      end += bytes;
      if (!f) return;  // a failed write (disk full): the caller reports it
    }
    f.seekp(at);
    f.write(reinterpret_cast<const char*>(header.data()), header_bytes);
    f.seekp(end);
    at = end;
  }
  f << "\n  </AppendedData>\n</VTKFile>\n";
  const std::streamoff file_end = f.tellp();
  for (size_t i = 0; i < arrays.size(); ++i) {
    f.seekp(file_start + static_cast<std::streamoff>(offset_at[i]));
    f << offset_field(offsets[i]);
  }
  f.seekp(file_end);
}

void write_pvd(std::ostream& f, const std::vector<std::pair<double, std::string>>& datasets) {
  f << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"1.0\" byte_order=\"LittleEndian\">\n  <Collection>\n";
  for (const auto& [t, file] : datasets)
    f << "    <DataSet timestep=\"" << num(t) << "\" part=\"0\" file=\"" << xml_escape(file) << "\"/>\n";
  f << "  </Collection>\n</VTKFile>\n";
}

}  // namespace dosemap
