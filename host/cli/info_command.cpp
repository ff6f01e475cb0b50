// `dosemap info FILE.vdb`: what is in a dose file: grids, dimensions, units, value ranges,
// metadata.
#include "host/cli/commands.h"
#include "host/common/text.h"
#include "host/outputs/vdb_io.h"

namespace dosemap {

int info_command(const InfoOptions& o, std::ostream& out) {
  const VdbFileSummary f = read_vdb_summary(o.file);
  out << o.file << "\n";
  for (const auto& [k, v] : f.metadata) out << "  " << k << ": " << v << "\n";
  TextTable t({"grid", "type", "active voxels", "index box", "units", "min", "max", "mean"});
  for (const auto& g : f.grids) {
    const std::string box = g.active_voxels == 0 ? "-"
                                                 : std::to_string(g.index_max[0] - g.index_min[0] + 1) + " x " +
                                                       std::to_string(g.index_max[1] - g.index_min[1] + 1) + " x " +
                                                       std::to_string(g.index_max[2] - g.index_min[2] + 1);
    auto units = g.metadata.count("units") ? g.metadata.at("units") : "";
    t.add_row({g.name, g.type + (g.grid_class == "fog volume" ? " (fog)" : ""), group_digits(g.active_voxels), box, units,
               fmt_g(g.min, 4), fmt_g(g.max, 4), fmt_g(g.mean, 4)});
  }
  out << "\n";
  t.print(out);
  if (!f.grids.empty()) {
    const auto& g0 = f.grids.front();
    out << "\n  voxel " << fmt_g(g0.voxel_mm[0] * 1e3, 6) << " x " << fmt_g(g0.voxel_mm[1] * 1e3, 6) << " x "
        << fmt_g(g0.voxel_mm[2] * 1e3, 6) << " um (world units: mm, index (i,j,k) at the voxel centre)\n";
  }
  out << "\nGrid metadata\n";
  for (const auto& g : f.grids) {
    out << "  " << g.name << ":";
    for (const auto& [k, v] : g.metadata)
      if (k != "units" && k != "class" && k != "name" && k != "file_compression" && k != "file_bbox_min" &&
          k != "file_bbox_max" && k != "file_mem_bytes" && k != "file_voxel_count" && k != "is_local_space" &&
          k != "is_saved_as_half_float" && k != "vector_type" && k != "value_type")
        out << " " << k << "=" << v << ";";
    out << "\n";
  }
  return 0;
}

}  // namespace dosemap
