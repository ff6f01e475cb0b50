// dose.vdb: writing a run's grids (scene-format.md, "What dosemap run writes"), and reading
// them back for `dosemap info` and the tests. The only place that includes OpenVDB.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

class CheckedFile;
class Progress;

// Which 8^3 blocks of a grid hold one material (their voxels within the grid), and which
// hold the material of the block before them along x voxel for voxel: the same for every
// file of a run, so found once for them all (a block of one material and one value becomes
// a tile, a block alike its neighbour is copied; host/outputs/vdb_io.cpp).
// With the columns the march went down (DoseResults::column_marched, when known), also
// which blocks no ray reached: every array of the run holds there the value it had before
// the march (a block of one material is then one value, read nowhere).
struct VdbGridBlocks {
  std::vector<uint8_t> one_material;          // [block], blocks numbered x fastest
  std::vector<uint8_t> material_alike_left;  // [block]
  std::vector<uint8_t> unreached;            // [block]; empty: not known
};
VdbGridBlocks vdb_grid_blocks(const VoxelGrid& grid, const std::vector<uint8_t>& column_marched = {});

struct VdbWriteContext {
  const Scene& scene;
  const MaterialTable& materials;
  const VoxelGrid& grid;
  double time_s = 0;  // the time the grids describe (scan end)
  std::string version;
  Progress* progress = nullptr;  // advanced once per grid built
  const VdbGridBlocks* blocks = nullptr;  // vdb_grid_blocks(grid) when found once for several files
};

// Writes every grid of `results` into `file` (BLOSC compressed), then its integrity record
// (host/outputs/integrity_footer.h). With `release_as_written`, each dense array is released
// as soon as its grids are built, so the peak memory stays near one copy of the results.
void write_dose_vdb(CheckedFile& file, const VdbWriteContext& ctx, DoseResults& results, bool release_as_written);
inline void write_dose_vdb(CheckedFile& file, const VdbWriteContext& ctx, DoseResults&& results) {
  write_dose_vdb(file, ctx, results, /*release_as_written=*/true);
}

// The frames of one run, written one after the other on one grid: where a frame's dose is,
// bit for bit, the dose of the frame written before it (undosed matter, and wherever the beam
// has not been since), its leaves are that frame's, taken as they were compressed. Each
// series is new to the writer (a number never given before); the frames written in it must
// stay in memory, unchanged, while it goes on.
struct FrameSeries {
  FrameSeries();
  uint64_t id;
  const float* last_dose_Gy = nullptr;  // the frame written last in the series, if any
  double last_log10_dose_max = 0;       // and its density's scale
};

// A frame: the cumulative dose at `time_s` (per voxel, from the run's state) as grid `dose`,
// and `density` on the log scale of the final dose (log10 of its maximum, 4 decades) so
// that frames brighten as dose accumulates. With `series`, the frame is the series' next.
void write_frame_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* frame_dose, double time_s, int frame,
                     double log10_dose_max, FrameSeries* series = nullptr);

// dose_preview.vdb (host/outputs/viewer_grids.h) on ctx.grid, the preview grid: `dose` (the
// maximum over each preview voxel), `density`, and `t_<label>_s` (the earliest crossing;
// -1 inactive) for each label of `scale`.
void write_preview_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* dose_Gy, const ThresholdScale& scale,
                       const std::vector<const float*>& crossing_s, int factor, double log10_dose_max);

struct VdbGridSummary {
  std::string name, type, grid_class;
  std::array<int, 3> index_min{}, index_max{};  // active bounding box (inclusive)
  std::array<double, 3> voxel_mm{};
  int64_t active_voxels = 0;
  double min = 0, max = 0, mean = 0;  // over active voxels
  int64_t leaves = 0, active_tiles = 0;  // how the tree holds them (a tile: 8^3 voxels of one value, or more)
  std::map<std::string, std::string> metadata;
};

struct VdbFileSummary {
  std::map<std::string, std::string> metadata;
  std::vector<VdbGridSummary> grids;  // in file order
};

// Throws UserError when the file cannot be read, or fails its integrity record (cut off,
// altered, not written by dosemap): checked before OpenVDB parses anything.
VdbFileSummary read_vdb_summary(const std::string& path);

// A float grid of the file as a dense array on `g`, `background` where inactive.
std::vector<float> read_float_grid(const std::string& path, const std::string& grid, const GridGeometry& g,
                                   float background);
// dose.vdb's `material` grid (a float grid of whole numbers) as material indices, -1 where
// void; throws UserError when a value is not an index.
std::vector<int32_t> read_material_grid(const std::string& path, const GridGeometry& g);
// A bool grid as a dense 0/1 array (inactive = 0).
std::vector<uint8_t> read_bool_grid(const std::string& path, const std::string& grid, const GridGeometry& g);

// For the tests: the topology a float grid on g's 8^3 blocks is written with (a leaf of 512
// mask bits where leaf_masks[8 b .. 8 b + 7] is not all 0, an active tile of tile_values[b]
// where tile[b]), as the writer writes it from the blocks and as OpenVDB's
// Tree::writeTopology writes it from a tree built of them, with each tree's memUsage().
struct TopologyBytes {
  std::string ours, openvdbs;
  int64_t our_mem_bytes = 0, openvdb_mem_bytes = 0;
};
TopologyBytes value_less_topology_both_ways(const GridGeometry& g, const std::vector<uint64_t>& leaf_masks,
                                            const std::vector<uint8_t>& tile, const std::vector<float>& tile_values,
                                            float background);

}  // namespace dosemap
