// VTK XML ImageData (.vti) for ParaView, which has no OpenVDB reader: every per-voxel array
// as cell data, appended binary in LZ4-compressed blocks (vtkLZ4DataCompressor, which VTK
// reads since 8.1, ParaView since 5.5), origin and spacing in millimetres; and .pvd
// collections that give a series of .vti files their real times.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/outputs/viewer_grids.h"

namespace dosemap {

// One cell-data array; `fill(begin, end, out)` writes values [begin, end) of the grid's
// x-fastest voxel order into `out` (so arrays can be derived on the fly, chunk by chunk).
struct VtiArray {
  enum Type { kFloat32, kInt32, kUInt8 };
  std::string name;
  Type type = kFloat32;
  std::function<void(int64_t begin, int64_t end, void* out)> fill;
};

// Writes the voxels of `box` to `out` (extent lo..hi in the grid's own indices, origin and
// spacing the grid's: a cropped file keeps every voxel's index and position). `out` must be
// seekable (each array's sizes and offset are written once its blocks are); the caller
// checks the stream (host/outputs/checked_file.h).
void write_vti(std::ostream& out, const GridGeometry& g, const std::vector<VtiArray>& arrays,
               const std::string& scalars, const IndexBox& box);
inline void write_vti(std::ostream& out, const GridGeometry& g, const std::vector<VtiArray>& arrays,
                      const std::string& scalars) {
  write_vti(out, g, arrays, scalars, whole_grid(g));
}

// A .pvd collection: (time in s, file relative to the .pvd).
void write_pvd(std::ostream& out, const std::vector<std::pair<double, std::string>>& datasets);

}  // namespace dosemap
