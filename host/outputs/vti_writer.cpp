#include "host/outputs/vti_writer.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "host/outputs/checked_file.h"

namespace dosemap {

namespace {

size_t type_size(VtiArray::Type t) { return t == VtiArray::kFloat32 ? 4 : t == VtiArray::kInt32 ? 4 : 1; }
const char* type_name(VtiArray::Type t) {
  return t == VtiArray::kFloat32 ? "Float32" : t == VtiArray::kInt32 ? "Int32" : "UInt8";
}

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

}  // namespace

void write_vti(std::ostream& f, const GridGeometry& g, const std::vector<VtiArray>& arrays, const std::string& scalars,
               const IndexBox& box) {
  const int64_t n = box.voxels();
  std::ostringstream head;
  std::string extent;
  for (int a = 0; a < 3; ++a)
    extent += (a ? " " : "") + std::to_string(box.lo[a]) + " " + std::to_string(box.hi[a]);
  head << "<?xml version=\"1.0\"?>\n"
       << "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n"
       << "  <ImageData WholeExtent=\"" << extent << "\" Origin=\"" << num(g.origin_um[0] * 1e-3) << " "
       << num(g.origin_um[1] * 1e-3) << " " << num(g.origin_um[2] * 1e-3) << "\" Spacing=\"" << num(g.voxel_um[0] * 1e-3)
       << " " << num(g.voxel_um[1] * 1e-3) << " " << num(g.voxel_um[2] * 1e-3) << "\" Direction=\"1 0 0 0 1 0 0 0 1\">\n"
       << "    <Piece Extent=\"" << extent << "\">\n"
       << "      <CellData Scalars=\"" << xml_escape(scalars) << "\">\n";
  uint64_t offset = 0;
  for (const VtiArray& a : arrays) {
    head << "        <DataArray type=\"" << type_name(a.type) << "\" Name=\"" << xml_escape(a.name)
         << "\" format=\"appended\" offset=\"" << offset << "\"/>\n";
    offset += sizeof(uint64_t) + static_cast<uint64_t>(n) * type_size(a.type);
  }
  head << "      </CellData>\n    </Piece>\n  </ImageData>\n  <AppendedData encoding=\"raw\">\n   _";
  f << head.str();
  // The box's rows (contiguous runs of the grid's x) in VTK's order, a megabyte at a time in
  // a pooled buffer (a fresh one per file would fault its pages in again).
  const int64_t row = box.extent(0), rows = box.extent(1) * box.extent(2);
  IoBufferPool::Borrowed pooled;
  std::vector<char> own;  // only for a row longer than the pooled buffer
  for (const VtiArray& a : arrays) {
    const size_t size = type_size(a.type);
    const uint64_t bytes = static_cast<uint64_t>(n) * size;
    f.write(reinterpret_cast<const char*>(&bytes), sizeof bytes);
    const size_t row_bytes = static_cast<size_t>(row) * size;
    int64_t rows_per_chunk = static_cast<int64_t>(IoBufferPool::kBytes / std::max<size_t>(1, row_bytes));
    char* buffer = pooled.data();
    if (rows_per_chunk == 0) {
      own.resize(row_bytes);
      buffer = own.data();
      rows_per_chunk = 1;
    }
    for (int64_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
      const int64_t r1 = std::min(rows, r0 + rows_per_chunk);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t j = box.lo[1] + r % box.extent(1), k = box.lo[2] + r / box.extent(1);
        const int64_t begin = g.index(box.lo[0], j, k);
        a.fill(begin, begin + row, buffer + static_cast<size_t>(r - r0) * row_bytes);
      }
      f.write(buffer, static_cast<std::streamsize>(static_cast<size_t>(r1 - r0) * row_bytes));
      if (!f) return;  // a failed write (disk full): the caller reports it
    }
  }
  f << "\n  </AppendedData>\n</VTKFile>\n";
}

void write_pvd(std::ostream& f, const std::vector<std::pair<double, std::string>>& datasets) {
  f << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"1.0\" byte_order=\"LittleEndian\">\n  <Collection>\n";
  for (const auto& [t, file] : datasets)
    f << "    <DataSet timestep=\"" << num(t) << "\" part=\"0\" file=\"" << xml_escape(file) << "\"/>\n";
  f << "  </Collection>\n</VTKFile>\n";
}

}  // namespace dosemap
