#include "host/outputs/vdb_io.h"

#include <openvdb/openvdb.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "host/common/errors.h"
#include "host/common/float_threshold.h"
#include "host/common/progress.h"
#include "host/common/simd_clones.h"
#include "host/common/text.h"
#include "host/common/xxhash_dispatch.h"
#include "host/outputs/active_values.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/float_run_reductions.h"
#include "host/outputs/fog_density.h"
#include "host/outputs/integrity_footer.h"
#include "host/outputs/leaf_value_encoder.h"
#include "host/outputs/staged_stream.h"

namespace dosemap {

namespace {

void init_openvdb() {
  static std::once_flag once;
  std::call_once(once, [] { openvdb::initialize(); });
}

// Index (i, j, k) sits at the voxel centre; world units are millimetres.
openvdb::math::Transform::Ptr voxel_transform(const GridGeometry& g) {
  auto xf = openvdb::math::Transform::createLinearTransform(1.0);
  xf->preScale(openvdb::Vec3d(g.voxel_um[0], g.voxel_um[1], g.voxel_um[2]) * 1e-3);
  xf->postTranslate(openvdb::Vec3d(g.origin_um[0] + 0.5 * g.voxel_um[0], g.origin_um[1] + 0.5 * g.voxel_um[1],
                                   g.origin_um[2] + 0.5 * g.voxel_um[2]) *
                    1e-3);
  return xf;
}

// ---- writing grids straight from the dense per-voxel arrays ----
//
// OpenVDB's Archive::write needs every grid built whole (a leaf buffer per 8^3 block: a
// second copy of the results, all of it fresh memory to fault in) and compresses each leaf
// twice (once in parallel for the delayed-load metadata, once serially as it writes). Here a
// float grid's tree is never built: its topology is written from the blocks' masks and tiles
// (write_value_less_topology), and each leaf's values are gathered from the arrays and
// compressed once, in parallel, in the layout io::writeCompressedValues (a leaf's
// writeBuffers) writes, by a LeafValueEncoder that keeps its LZ4 state from leaf to leaf: the
// file reads back exactly as the whole grid written by OpenVDB would (tested), without its
// delayed-load metadata.

using LeafMask = openvdb::FloatTree::LeafNodeType::NodeMaskType;
constexpr int64_t kLeafDim = openvdb::FloatTree::LeafNodeType::DIM;
constexpr openvdb::Index kLeafValues = openvdb::FloatTree::LeafNodeType::SIZE;

// One order of leaves serves every value type: the trees share their node layout.
template <typename TreeT>
constexpr bool kSameLayoutAsFloatTree =
    TreeT::LeafNodeType::LOG2DIM == openvdb::FloatTree::LeafNodeType::LOG2DIM &&
    TreeT::RootNodeType::ChildNodeType::LOG2DIM == openvdb::FloatTree::RootNodeType::ChildNodeType::LOG2DIM &&
    TreeT::RootNodeType::ChildNodeType::ChildNodeType::LOG2DIM ==
        openvdb::FloatTree::RootNodeType::ChildNodeType::ChildNodeType::LOG2DIM;

// The grid cut into 8^3 blocks, numbered x fastest like the voxels: block (bi, bj, bk) is
// (bk * by + bj) * bx + bi and holds voxels from (8 bi, 8 bj, 8 bk).
struct LeafBlocks {
  int64_t bx = 0, by = 0, bz = 0;
  explicit LeafBlocks(const GridGeometry& g)
      : bx((g.dims[0] + kLeafDim - 1) / kLeafDim), by((g.dims[1] + kLeafDim - 1) / kLeafDim),
        bz((g.dims[2] + kLeafDim - 1) / kLeafDim) {}
  int64_t count() const { return bx * by * bz; }
  int64_t rows() const { return by * bz; }  // rows of blocks along x
  openvdb::Coord origin(int64_t b) const {
    return openvdb::Coord(int((b % bx) * kLeafDim), int(((b / bx) % by) * kLeafDim), int((b / (bx * by)) * kLeafDim));
  }
};

// Line yz of row `row` of blocks (the voxels along x at y = yz >> 3, z = yz & 7 within the
// row's blocks): the index of its first voxel, or -1 for a line beyond the grid (the row's
// blocks cut by the grid's end along y or z).
int64_t block_row_line(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, int yz) {
  const int64_t j = (row % blocks.by) * kLeafDim + (yz >> 3), k = (row / blocks.by) * kLeafDim + (yz & 7);
  return j < g.dims[1] && k < g.dims[2] ? g.index(0, j, k) : -1;
}

// ---- blocks that need no gathering ----
//
// Much of a grid is often one value over whole 8^3 blocks: undosed matter (a frame's dose,
// the rates and component doses are 0 wherever the beam never went) and one material's layer
// (the material grid). OpenVDB keeps such a block as a tile, one value and an active flag in
// the node above the leaves (as tools::prune and tools::copyFromDense make them), which reads
// back as the same 8^3 voxels. A grid whose value(v) depends on material[v] and one dense
// array's data[v] alone is one value, active or not, over every block where both arrays are
// (bit for bit): such blocks are found by reading the two arrays in memory order, and the
// grid's value at the block's first voxel stands for the whole block, which is then neither
// gathered nor compressed.

// A value's bits: blocks are uniform bit for bit (0 and -0, or two NaNs, are not one value).
template <typename T>
auto bits_of(T x) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4, "materials and 4-byte values");
  std::conditional_t<sizeof(T) == 2, uint16_t, uint32_t> b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// One line of a row of blocks compared over voxels [from, to) along x
// (compare_blocks_of_row): differ[i] |= the bits of line[i] ^ first[i], and differ_left[i]
// |= those of line[i] ^ line[i - 8], each when given.
template <typename T, typename Bits>
inline void compare_line_bits(const T* __restrict line, const Bits* __restrict first, Bits* __restrict differ,
                              Bits* __restrict differ_left, int64_t from, int64_t to) {
  if (differ)
    for (int64_t i = from; i < to; ++i) differ[i] |= bits_of(line[i]) ^ first[i];
  if (differ_left)
    for (int64_t i = std::max<int64_t>(from, kLeafDim); i < to; ++i)
      differ_left[i] |= bits_of(line[i]) ^ bits_of(line[i - kLeafDim]);
}
// The same for the grids' float arrays and the material, in clones for the vector widths
// (host/common/simd_clones.h): integer work, alike in each.
DOSEMAP_SIMD_CLONES void compare_line(const float* line, const uint32_t* first, uint32_t* differ, uint32_t* differ_left,
                                      int64_t from, int64_t to) {
  compare_line_bits(line, first, differ, differ_left, from, to);
}
DOSEMAP_SIMD_CLONES void compare_line(const uint16_t* line, const uint16_t* first, uint16_t* differ,
                                      uint16_t* differ_left, int64_t from, int64_t to) {
  compare_line_bits(line, first, differ, differ_left, from, to);
}

// The runs of consecutive blocks of a row that have a flag set in `a` or `b` (either may be
// null): [x0, x1) in voxels along x, the grid's end cutting the last.
void flagged_spans(const GridGeometry& g, const LeafBlocks& blocks, const uint8_t* a, const uint8_t* b,
                   std::vector<std::pair<int64_t, int64_t>>& spans) {
  spans.clear();
  for (int64_t bi = 0; bi < blocks.bx; ++bi) {
    if (!((a && a[bi]) || (b && b[bi]))) continue;
    const int64_t x0 = bi * kLeafDim, x1 = std::min<int64_t>(g.dims[0], x0 + kLeafDim);
    if (!spans.empty() && spans.back().second == x0)
      spans.back().second = x1;
    else
      spans.emplace_back(x0, x1);
  }
}

// compare_blocks_of_row's memory, kept from row to row.
template <typename Bits>
struct CompareScratch {
  std::vector<Bits> first, differ, differ_left;  // [voxel along x]
  std::vector<uint8_t> aside;                    // [bi]: flags of unreached blocks set aside
  std::vector<std::pair<int64_t, int64_t>> spans;
};

// Compares the blocks of row `row` of `data` (dense on g) in one pass over the row's lines,
// along x in memory order (vectorized): clears uniform[bi] for each block bi whose voxels
// within the grid do not all hold the bits of its first voxel, and alike_left[bi] (when
// given) for each block whose voxels are not, bit for bit, those of block bi - 1 (blocks
// that may be alike are flagged by the caller: not the first, nor one cut by the grid's end
// along x). Only blocks still flagged are read, and it stops reading once no flag is left:
// a dosed block differs within its first lines (the dose falls along the beam). Run just
// before the row is gathered, it brings the lines the gather reads into the cache.
template <typename T, typename Bits>
void compare_flagged_blocks(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, const T* data,
                            uint8_t* uniform, uint8_t* alike_left, CompareScratch<Bits>& s) {
  flagged_spans(g, blocks, uniform, alike_left, s.spans);
  if (s.spans.empty()) return;
  const int64_t nx = g.dims[0];
  s.first.resize(static_cast<size_t>(nx));
  s.differ.assign(static_cast<size_t>(nx), 0);
  s.differ_left.assign(static_cast<size_t>(nx), 0);
  const T* first_line = data + block_row_line(g, blocks, row, 0);
  for (const auto& [x0, x1] : s.spans)
    for (int64_t i = x0; i < x1; ++i) s.first[static_cast<size_t>(i)] = bits_of(first_line[i & ~(kLeafDim - 1)]);
  // Folds the differences into the flags; false once none is left.
  auto fold = [nx, &blocks](const Bits* d, uint8_t* flags) {
    bool left = false;
    for (int64_t bi = 0; bi < blocks.bx; ++bi) {
      if (!flags[bi]) continue;
      Bits any = 0;
      if ((bi + 1) * kLeafDim <= nx) {
        for (int x = 0; x < kLeafDim; ++x) any |= d[bi * kLeafDim + x];  // (a fixed count: unrolled)
      } else {
        for (int64_t i = bi * kLeafDim; i < nx; ++i) any |= d[i];
      }
      flags[bi] = any == 0;
      left |= any == 0;
    }
    return left;
  };
  auto none = [&](const uint8_t* flags) {
    return !flags || std::none_of(flags, flags + blocks.bx, [](uint8_t x) { return x != 0; });
  };
  // Which comparisons still matter: a row without blocks of one material has no uniform
  // block to find, and the flags only ever clear.
  bool uniform_left = !none(uniform), alike_to_find = !none(alike_left);
  auto any_left = [&] {
    if (uniform_left) uniform_left = fold(s.differ.data(), uniform);
    if (alike_to_find) alike_to_find = fold(s.differ_left.data(), alike_left);
    return uniform_left || alike_to_find;
  };
  for (int yz = 0; yz < kLeafDim * kLeafDim; ++yz) {
    const int64_t at = block_row_line(g, blocks, row, yz);
    if (at < 0) continue;
    const T* line = data + at;
    Bits* d = uniform_left ? s.differ.data() : nullptr;
    Bits* dl = alike_to_find ? s.differ_left.data() : nullptr;
    for (const auto& [x0, x1] : s.spans) compare_line(line, s.first.data(), d, dl, x0, x1);
    if ((yz == 1 || (yz & 15) == 15) && !any_left()) return;
  }
  any_left();
}

// compare_flagged_blocks, knowing which blocks no ray reached (`unreached`, null: none
// known): their voxels hold the array's value before the march, one value, so such a block
// is uniform wherever it is of one material, and alike an unreached block before it wherever
// their materials are alike: those flags stand as they are, unread.
template <typename T, typename Bits = decltype(bits_of(T{}))>
void compare_blocks_of_row(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, const T* data,
                           uint8_t* uniform, uint8_t* alike_left, const uint8_t* unreached, CompareScratch<Bits>& s) {
  if (!unreached) return compare_flagged_blocks(g, blocks, row, data, uniform, alike_left, s);
  enum : uint8_t { kUniformAside = 1, kAlikeAside = 2 };
  s.aside.assign(static_cast<size_t>(blocks.bx), 0);
  for (int64_t bi = 0; bi < blocks.bx; ++bi) {
    if (!unreached[bi]) continue;
    if (uniform[bi]) s.aside[bi] |= kUniformAside;
    if (alike_left && bi > 0 && unreached[bi - 1] && alike_left[bi]) s.aside[bi] |= kAlikeAside;
    uniform[bi] &= !(s.aside[bi] & kUniformAside);
    if (alike_left) alike_left[bi] &= !(s.aside[bi] & kAlikeAside);
  }
  compare_flagged_blocks(g, blocks, row, data, uniform, alike_left, s);
  for (int64_t bi = 0; bi < blocks.bx; ++bi) {
    uniform[bi] |= (s.aside[bi] & kUniformAside) != 0;
    if (alike_left) alike_left[bi] |= (s.aside[bi] & kAlikeAside) != 0;
  }
}

// Which blocks of a grid's data array are uniform and alike their neighbour, in material and
// data (VdbGridBlocks and compare_blocks_of_row): found by the first grid of the array in a
// file and taken by the next ones.
struct DataBlocks {
  bool found = false;
  std::vector<uint8_t> uniform, alike_left;
};

}  // namespace

// The alike blocks never include the first of a row, nor one cut by the grid's end along x
// (it has fewer voxels).
VdbGridBlocks vdb_grid_blocks(const VoxelGrid& grid, const std::vector<uint8_t>& column_marched) {
  const GridGeometry& g = grid.geometry;
  const LeafBlocks blocks(g);
  VdbGridBlocks m;
  m.one_material.assign(static_cast<size_t>(blocks.count()), 1);
  m.material_alike_left.assign(m.one_material.size(), 1);
  for (int64_t row = 0; row < blocks.rows(); ++row) {
    m.material_alike_left[static_cast<size_t>(row * blocks.bx)] = 0;
    if (g.dims[0] % kLeafDim != 0) m.material_alike_left[static_cast<size_t>(row * blocks.bx + blocks.bx - 1)] = 0;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks.rows()), [&](const tbb::blocked_range<int64_t>& r) {
    CompareScratch<uint16_t> s;
    for (int64_t row = r.begin(); row != r.end(); ++row)
      compare_blocks_of_row(g, blocks, row, grid.material.data(), m.one_material.data() + row * blocks.bx,
                            m.material_alike_left.data() + row * blocks.bx, nullptr, s);
  });
  if (!column_marched.empty()) {
    DOSEMAP_BUG_CHECK(static_cast<int64_t>(column_marched.size()) == g.columns(), "the marched columns of another grid");
    // A block is unreached when no column through it was marched: one row of blocks
    // (k = 0) found, the others along z the same.
    m.unreached.assign(m.one_material.size(), 1);
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i)
        if (column_marched[static_cast<size_t>(j * g.dims[0] + i)])
          m.unreached[static_cast<size_t>((j / kLeafDim) * blocks.bx + i / kLeafDim)] = 0;
    const size_t plane = static_cast<size_t>(blocks.bx * blocks.by);
    for (int64_t bk = 1; bk < blocks.bz; ++bk)
      std::copy_n(m.unreached.begin(), plane, m.unreached.begin() + static_cast<ptrdiff_t>(bk * plane));
  }
  return m;
}

namespace {

// The level of the tree's nodes whose tiles are a leaf's 8^3 voxels (leaves are level 0).
constexpr openvdb::Index kTileLevel = 1;

// What a block of a grid is, decided before gathering: a uniform block is a tile when the
// grid's value there is active and the block lies whole in the grid (a tile covers 8^3
// voxels), empty when inactive; any other block is gathered.
// A repeated block is gathered as another (see mark_repeated_blocks).
enum BlockKind : uint8_t { kGatherBlock = 0, kEmptyBlock = 1, kTileBlock = 2, kRepeatedBlock = 3 };

// The kinds of the blocks of row `row` (kind[bi], and the value of each tile) of a grid
// valued value(v, out) where uniform[bi] says the block's material and data are one value.
template <typename ValueT, typename ValueF>
void classify_block_row(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, const uint8_t* uniform,
                        ValueF& value, const ValueT background, uint8_t* kind, ValueT* tile_value) {
  const int64_t j0 = (row % blocks.by) * kLeafDim, k0 = (row / blocks.by) * kLeafDim;
  const bool whole_yz = j0 + kLeafDim <= g.dims[1] && k0 + kLeafDim <= g.dims[2];
  for (int64_t bi = 0; bi < blocks.bx; ++bi) {
    kind[bi] = kGatherBlock;
    if (!uniform[bi]) continue;
    ValueT v = background;
    if (!value(g.index(bi * kLeafDim, j0, k0), v)) {
      kind[bi] = kEmptyBlock;
    } else if (whole_yz && (bi + 1) * kLeafDim <= g.dims[0]) {
      kind[bi] = kTileBlock;
      tile_value[bi] = v;
    }
  }
}

// Blocks whose leaves are another's: a block to be gathered whose material and data are,
// voxel for voxel and bit for bit, those of the block before it in the row (alike_left[bi])
// holds that block's leaf (a grid's value depends on material and data alone): kind[bi]
// becomes kRepeatedBlock, copied from block repeats[bi] (the first of the alike run) once
// that is gathered. A stack of layers and a top-hat beam make them: every block across a
// layer boundary, every block within the beam's footprint at one depth, is alike.
void mark_repeated_blocks(int64_t bx, const uint8_t* alike_left, uint8_t* kind, int64_t* repeats) {
  for (int64_t bi = 1; bi < bx; ++bi) {
    if (kind[bi] != kGatherBlock || !alike_left[bi]) continue;
    if (kind[bi - 1] == kGatherBlock) {
      kind[bi] = kRepeatedBlock;
      repeats[bi] = bi - 1;
    } else if (kind[bi - 1] == kRepeatedBlock) {
      kind[bi] = kRepeatedBlock;
      repeats[bi] = repeats[bi - 1];
    }
  }
}

// The blocks in the order a tree holding all of them iterates (and writes) its leaves,
// asked of a tree of value-less leaves rather than re-derived from OpenVDB's node layout.
std::vector<int64_t> blocks_in_tree_order(const GridGeometry& g) {
  using LeafT = openvdb::FloatTree::LeafNodeType;
  const LeafBlocks blocks(g);
  openvdb::FloatTree order(0.0f);
  for (int64_t b = 0; b < blocks.count(); ++b)
    order.addLeaf(new LeafT(openvdb::PartialCreate(), blocks.origin(b), 0.0f, false));
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(blocks.count()));
  for (auto leaf = order.cbeginLeaf(); leaf; ++leaf) {
    const openvdb::Coord o = leaf->origin();
    out.push_back((o.z() / kLeafDim * blocks.by + o.y() / kLeafDim) * blocks.bx + o.x() / kLeafDim);
  }
  DOSEMAP_BUG_CHECK(static_cast<int64_t>(out.size()) == blocks.count(), "a block lost in the tree");
  return out;
}

static_assert(kLeafDim == 8, "a leaf's offset is (x << 6) | (y << 3) | z within its 8^3 block");

// A thread's memory for gathering rows of blocks, kept from row to row and grid to grid:
// allocated per task, it was cleared (80 kB) every few rows.
template <typename ValueT>
struct GatherScratch {
  std::vector<ValueT> values;                      // a row of blocks' leaves, values[i * 64 + yz]
  std::vector<LeafMask::Word> words;               // their mask words, words[i]
  std::vector<uint8_t> kind;                       // [bi]: BlockKind
  std::vector<ValueT> tile_value;                  // [bi]: a tile's value
  std::vector<std::pair<int64_t, int64_t>> runs;   // blocks to gather, [begin, end) in voxels along x
  std::vector<uint8_t> uniform;                    // [bi]: one material and one value of the grid's array
  std::vector<uint8_t> alike_left;                 // [bi]: material and values those of block bi - 1
  std::vector<int64_t> repeats;                    // [bi]: the block a kRepeatedBlock is gathered as
  CompareScratch<uint32_t> compare;                // compare_blocks_of_row's

  static GatherScratch& of_this_thread(const LeafBlocks& blocks) {
    thread_local GatherScratch s;
    const size_t n = static_cast<size_t>(blocks.bx * kLeafDim);
    if (s.words.size() < n) {
      s.values.resize(n * kLeafDim * kLeafDim);
      s.words.resize(n);
      s.kind.resize(static_cast<size_t>(blocks.bx));
      s.tile_value.resize(static_cast<size_t>(blocks.bx));
      s.uniform.resize(static_cast<size_t>(blocks.bx));
      s.alike_left.resize(static_cast<size_t>(blocks.bx));
      s.repeats.resize(static_cast<size_t>(blocks.bx));
    }
    return s;
  }
};

// The rule of most dense grids: data[v] where voxel v is matter (and, with `present`, where
// present[material] is not 0: a table per material id, void's entry last, at void_at; with
// at_least_zero, where data[v] >= 0), else inactive. Voxel by voxel (classifying blocks) and a
// run of a line at once (gather_block_row: a loop that keeps its pointers in registers,
// instead of a call per voxel through a lambda's captures).
struct MatterValue {
  const MaterialId* material;
  const float* data;
  const uint8_t* present = nullptr;
  MaterialId void_at = 0;
  bool at_least_zero = false;

  bool operator()(int64_t v, float& value) const {
    const MaterialId m = material[v];
    const float x = data[v];
    if (!on(m, x)) return false;
    value = x;
    return true;
  }
  // Voxels first + i, i in [i0, i1), of line yz of a row of blocks (gather_block_row).
  void line(int64_t first, int64_t i0, int64_t i1, int yz, LeafMask::Word* words, float* values, float background) const {
    constexpr int kRows = kLeafDim * kLeafDim;
    const MaterialId* line_material = material + first;
    const float* line_data = data + first;
    if (!present && !at_least_zero) {
      for (int64_t i = i0; i < i1; ++i) {
        const bool active = line_material[i] != kVoidId;
        values[i * kRows + yz] = active ? line_data[i] : background;
        words[i] |= LeafMask::Word(active) << yz;
      }
      return;
    }
    for (int64_t i = i0; i < i1; ++i) {
      const float x = line_data[i];
      const bool active = on(line_material[i], x);
      values[i * kRows + yz] = active ? x : background;
      words[i] |= LeafMask::Word(active) << yz;
    }
  }

 private:
  bool on(MaterialId m, float x) const {
    return m != kVoidId && (!present || present[std::min(m, void_at)] != 0) && (!at_least_zero || x >= 0);
  }
};

// Whether a grid's value rule has MatterValue's line().
template <typename F, typename ValueT, typename = void>
struct HasLine : std::false_type {};
template <typename F, typename ValueT>
struct HasLine<F, ValueT,
               std::void_t<decltype(std::declval<const F&>().line(int64_t{}, int64_t{}, int64_t{}, int{},
                                                                  static_cast<LeafMask::Word*>(nullptr),
                                                                  static_cast<ValueT*>(nullptr), ValueT{}))>>
    : std::true_type {};

// A threshold's mask (dose.vdb's dose_gt_*): on where dose[v] >= the threshold of voxel v's
// material (`at`, a table per material id, void's entry last at void_at, never reached), as
// a byte voxel by voxel and as a line's mask bits at once (a bool leaf is its mask: no
// values), comparing floats with the thresholds as least_float_at_or_above (`at_float`).
struct ReachedMask {
  const float* dose;
  const MaterialId* material;
  const double* at;
  const float* at_float;
  MaterialId void_at;

  bool operator()(int64_t v, uint8_t& out) const {
    out = dose[v] >= at[std::min(material[v], void_at)];
    return out != 0;
  }
  void line(int64_t first, int64_t i0, int64_t i1, int yz, LeafMask::Word* words) const {
    const float* line_dose = dose + first;
    const MaterialId* line_material = material + first;
    for (int64_t i = i0; i < i1; ++i)
      words[i] |= LeafMask::Word(line_dose[i] >= at_float[std::min(line_material[i], void_at)]) << yz;
  }
};

// Whether a grid's rule has ReachedMask's line() (its mask bits only).
template <typename F, typename = void>
struct HasLineBits : std::false_type {};
template <typename F>
struct HasLineBits<F, std::void_t<decltype(std::declval<const F&>().line(int64_t{}, int64_t{}, int64_t{}, int{},
                                                                         static_cast<LeafMask::Word*>(nullptr)))>>
    : std::true_type {};

// Gathers the row of blocks `row` (8 x 8 rows of voxels across the grid along x) into its
// leaves, the blocks whose s.kind[bi] is kGatherBlock only (the others' masks are off and
// their values unset). value(v, out) says whether voxel v of the dense arrays is active and
// sets its value; inactive voxels, and those beyond the grid, hold `background`. Voxel
// (i, y, z) of the row is at offset ((i & 7) << 6 | y << 3 | z) of leaf i >> 3, that is at
// s.values[i * 64 + yz] (yz = y << 3 | z), and is bit yz of its leaf's mask word i & 7, that
// is of s.words[i]: each row of voxels is read in memory order and written a column of this
// 64-wide transpose. The words are then the leaves' masks.
//
// A rule with a line() (MatterValue, ReachedMask) is asked for a run of a line at once
// instead of voxel by voxel; one whose line() gives mask bits only leaves the values unset (a
// bool grid's leaves are their masks).
template <typename ValueT, typename ValueF>
void gather_block_row(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, ValueF& value,
                      const ValueT background, GatherScratch<ValueT>& s, LeafMask* masks) {
  constexpr bool kValues = !HasLineBits<std::remove_cv_t<ValueF>>::value;
  constexpr int kRows = kLeafDim * kLeafDim;
  const int64_t nx = g.dims[0], n_padded = blocks.bx * kLeafDim;
  ValueT* values = s.values.data();
  LeafMask::Word* words = s.words.data();
  std::fill(words, words + n_padded, LeafMask::Word(0));
  s.runs.clear();
  for (int64_t bi = 0; bi < blocks.bx;) {
    if (s.kind[bi] != kGatherBlock) {
      ++bi;
      continue;
    }
    const int64_t b0 = bi;
    while (bi < blocks.bx && s.kind[bi] == kGatherBlock) ++bi;
    s.runs.emplace_back(b0 * kLeafDim, std::min(nx, bi * kLeafDim));
  }
  for (int yz = 0; yz < kRows; ++yz) {
    const int64_t first = block_row_line(g, blocks, row, yz);
    if (first < 0) {
      if constexpr (kValues)
        for (const auto& [i0, i1] : s.runs)
          for (int64_t i = i0; i < i1; ++i) values[i * kRows + yz] = background;
      continue;
    }
    for (const auto& [i0, i1] : s.runs) {
      if constexpr (!kValues) {
        value.line(first, i0, i1, yz, words);
        continue;
      }
      if constexpr (HasLine<std::remove_cv_t<ValueF>, ValueT>::value) {
        value.line(first, i0, i1, yz, words, values, background);
        continue;
      }
      for (int64_t i = i0; i < i1; ++i) {
        ValueT v = background;
        const bool on = value(first + i, v);
        values[i * kRows + yz] = on ? v : background;
        words[i] |= LeafMask::Word(on) << yz;
      }
    }
  }
  if constexpr (kValues) std::fill(values + nx * kRows, values + n_padded * kRows, background);
  for (int64_t bi = 0; bi < blocks.bx; ++bi) {
    if (s.kind[bi] != kRepeatedBlock) continue;
    const int64_t from = s.repeats[bi];
    if constexpr (kValues)
      std::copy_n(values + from * kLeafDim * kRows, kLeafDim * kRows, values + bi * kLeafDim * kRows);
    std::copy_n(words + from * kLeafDim, kLeafDim, words + bi * kLeafDim);
  }
  for (int64_t bi = 0; bi < blocks.bx; ++bi)
    for (int x = 0; x < kLeafDim; ++x)
      masks[bi].template getWord<LeafMask::Word>(static_cast<openvdb::Index>(x)) = words[bi * kLeafDim + x];
}

// The leaves derived last (a frame's density from its dose leaves) with their sources, for
// one derivation: the leaves a top-hat beam and a stack of layers make alike (see
// leaf_value_encoder.h) are derived once. A thread's, kept from grid to grid, its slots
// valid for the derivation (`epoch`) that filled them; compared directly, newest first.
template <typename ValueT>
struct DerivedLeafMemo {
  struct Slot {
    uint64_t epoch = 0;  // 0: empty
    LeafMask source_mask, mask;
    std::array<ValueT, kLeafDim * kLeafDim * kLeafDim> source, values;
  };
  std::array<Slot, 4> slots;
  size_t newest = 0;

  static uint64_t next_epoch() {
    static std::atomic<uint64_t> epochs{0};
    return ++epochs;
  }
  static DerivedLeafMemo& of_this_thread() {
    thread_local DerivedLeafMemo m;
    return m;
  }
  // out and out_mask: derive(values, mask) of a copy of `source` and `mask`.
  template <typename DeriveF>
  void derive(uint64_t epoch, const ValueT* source, const LeafMask& source_mask, DeriveF& derive, ValueT* out,
              LeafMask& out_mask) {
    constexpr size_t kBytes = sizeof(ValueT) * kLeafDim * kLeafDim * kLeafDim;
    for (size_t age = 0; age < slots.size(); ++age) {
      const Slot& s = slots[(newest + slots.size() - age) % slots.size()];
      if (s.epoch == epoch && s.source_mask == source_mask && std::memcmp(s.source.data(), source, kBytes) == 0) {
        std::copy(s.values.begin(), s.values.end(), out);
        out_mask = s.mask;
        return;
      }
    }
    std::copy(source, source + kLeafValues, out);
    out_mask = source_mask;
    derive(out, out_mask);
    newest = (newest + 1) % slots.size();
    Slot& s = slots[newest];
    s.epoch = epoch;
    s.source_mask = source_mask;
    std::copy(source, source + kLeafValues, s.source.begin());
    s.mask = out_mask;
    std::copy(out, out + kLeafValues, s.values.begin());
  }
};

// The statistics GridBase::addStatsMetadata adds to a grid written with them, and the
// compression Archive::writeGrid then names, from the active voxels' count and bounding box
// of each row of blocks (which the writer finds as it gathers them: OpenVDB walks the tree)
// and the tree's memory once read.
void insert_file_statistics(openvdb::GridBase& grid, const std::vector<int64_t>& row_active,
                            const std::vector<openvdb::CoordBBox>& row_bounds, int64_t mem_bytes,
                            uint32_t compression) {
  int64_t active = 0;
  openvdb::CoordBBox bounds;
  for (size_t row = 0; row < row_active.size(); ++row) {
    active += row_active[row];
    bounds.expand(row_bounds[row]);
  }
  grid.insertMeta(openvdb::GridBase::META_FILE_BBOX_MIN, openvdb::Vec3IMetadata(bounds.min().asVec3i()));
  grid.insertMeta(openvdb::GridBase::META_FILE_BBOX_MAX, openvdb::Vec3IMetadata(bounds.max().asVec3i()));
  grid.insertMeta(openvdb::GridBase::META_FILE_MEM_BYTES, openvdb::Int64Metadata(mem_bytes));
  grid.insertMeta(openvdb::GridBase::META_FILE_VOXEL_COUNT, openvdb::Int64Metadata(active));
  grid.insertMeta(openvdb::GridBase::META_FILE_COMPRESSION,
                  openvdb::StringMetadata(openvdb::io::compressionToString(compression)));
}

// ---- a grid's topology without its tree ----
//
// OpenVDB writes a grid's topology (Tree::writeTopology) from a tree: one built of value-less
// leaves and tiles only to be written cost more than the writing (a level-2 node's 32 768
// and each level-1 node's 4 096 table entries made, cleared and walked), and its memUsage()
// walked it again. The same bytes are written here from the blocks' masks and tiles: the
// nodes a tree holding them would have, in the order it would write them (RootNode's map
// of level-2 nodes by origin, then each node's children by table offset), each node's masks
// saved and its table values written by OpenVDB's own io::writeCompressedValues, as
// InternalNode::writeTopology does. Tested byte for byte against OpenVDB's.

// The tree's memUsage() (tools::memUsage: MemUsageOp over the nodes, plus the tree) for a
// tree of n2 level-2 nodes, n1 level-1 nodes and `leaves` value-less leaves.
template <typename TreeT>
int64_t value_less_tree_mem_bytes(int64_t n2, int64_t n1, int64_t leaves) {
  using RootT = typename TreeT::RootNodeType;
  using Node2 = typename RootT::ChildNodeType;
  using Node1 = typename Node2::ChildNodeType;
  using LeafT = typename TreeT::LeafNodeType;
  auto node = [](auto* n) {
    using NodeT = std::remove_pointer_t<decltype(n)>;
    return static_cast<int64_t>(NodeT::NUM_VALUES * sizeof(typename NodeT::UnionType) +
                                typename NodeT::NodeMaskType().memUsage() * 2 + sizeof(openvdb::Coord));
  };
  // A leaf without values holds its buffer object only: sizeof(LeafT) (LeafNode::memUsage).
  return static_cast<int64_t>(sizeof(TreeT) + sizeof(RootT)) + n2 * node(static_cast<Node2*>(nullptr)) +
         n1 * node(static_cast<Node1*>(nullptr)) + leaves * static_cast<int64_t>(sizeof(LeafT));
}

// Writes the topology of a tree of TreeT (background `background`, values not saved as half)
// holding a value-less leaf of mask masks[b] for each block b whose mask is not off, and an
// active tile of value tile_bits[b] (at level 1) where tile[b]; returns the memUsage() of
// that tree, and its leaves in *leaves_out when given.
template <typename TreeT>
int64_t write_value_less_topology(std::ostream& os, const LeafBlocks& blocks, const std::vector<LeafMask>& masks,
                                  const std::vector<uint8_t>& tile, const std::vector<uint32_t>& tile_bits,
                                  const typename TreeT::ValueType& background, int64_t* leaves_out = nullptr) {
  using ValueT = typename TreeT::ValueType;
  using RootT = typename TreeT::RootNodeType;
  using Node2 = typename RootT::ChildNodeType;
  using Node1 = typename Node2::ChildNodeType;
  static_assert(kSameLayoutAsFloatTree<TreeT> && sizeof(ValueT) == sizeof(uint32_t), "the blocks' tree, 4-byte values");
  struct Level1 {
    typename Node1::NodeMaskType children, tiles;
    std::vector<std::pair<openvdb::Index, int64_t>> leaves;  // (offset, block)
    std::vector<std::pair<openvdb::Index, ValueT>> tile_values;
  };
  struct Level2 {
    typename Node2::NodeMaskType children;
    std::map<openvdb::Index, Level1> nodes;  // by offset: the order a node writes its children
  };
  std::map<openvdb::Coord, Level2> roots;  // RootNode's table order
  int64_t n1 = 0, leaves = 0;
  for (int64_t b = 0; b < blocks.count(); ++b) {
    const bool is_leaf = !masks[b].isOff();
    if (!is_leaf && !tile[b]) continue;
    const openvdb::Coord o = blocks.origin(b);
    Level2& l2 = roots[o & ~static_cast<openvdb::Int32>(Node2::DIM - 1)];  // RootNode::coordToKey
    const openvdb::Index at2 = Node2::coordToOffset(o);
    l2.children.setOn(at2);
    auto [it, added] = l2.nodes.try_emplace(at2);
    n1 += added;
    Level1& l1 = it->second;
    const openvdb::Index at1 = Node1::coordToOffset(o);
    if (is_leaf) {
      l1.children.setOn(at1);
      l1.leaves.emplace_back(at1, b);
      ++leaves;
    } else {
      ValueT value;
      std::memcpy(&value, &tile_bits[b], sizeof value);
      l1.tiles.setOn(at1);
      l1.tile_values.emplace_back(at1, value);
    }
  }

  // Tree::writeTopology: one buffer, then the root's background, its tiles (none) and children.
  const int32_t buffer_count = 1;
  os.write(reinterpret_cast<const char*>(&buffer_count), sizeof buffer_count);
  os.write(reinterpret_cast<const char*>(&background), sizeof background);
  openvdb::io::setGridBackgroundValuePtr(os, &background);  // writeCompressedValues' background
  const openvdb::Index root_tiles = 0, root_children = static_cast<openvdb::Index>(roots.size());
  os.write(reinterpret_cast<const char*>(&root_tiles), sizeof root_tiles);
  os.write(reinterpret_cast<const char*>(&root_children), sizeof root_children);
  const ValueT zero = openvdb::zeroVal<ValueT>();
  std::vector<ValueT> table2, table1(Node1::NUM_VALUES);
  for (auto& [origin, l2] : roots) {
    os.write(reinterpret_cast<const char*>(origin.asPointer()), 3 * sizeof(openvdb::Int32));
    // InternalNode::writeTopology: the masks, the table's values (a child's entry 0, others
    // the background), then the children. A level-2 node's part is a function of its
    // children, the background and the compression alone, and most grids of a file share it
    // (a grid of one background after another): the last one's bytes are kept.
    thread_local struct {
      uint32_t background_bits = 0, compression = 0;
      typename Node2::NodeMaskType children;
      std::string bytes;  // empty: none yet
    } last2;
    const uint32_t compression = openvdb::io::getDataCompression(os);
    if (last2.bytes.empty() || last2.background_bits != bits_of(background) || last2.compression != compression ||
        last2.children != l2.children) {
      std::ostringstream part;
      part.copyfmt(os);  // (the compression and background writeCompressedValues reads)
      const typename Node2::NodeMaskType no_tiles2;
      l2.children.save(part);
      no_tiles2.save(part);
      table2.resize(Node2::NUM_VALUES);
      for (openvdb::Index i = 0; i < Node2::NUM_VALUES; ++i) table2[i] = l2.children.isOn(i) ? zero : background;
      openvdb::io::writeCompressedValues(part, table2.data(), Node2::NUM_VALUES, no_tiles2, l2.children, false);
      last2.bytes = std::move(part).str();
      last2.background_bits = bits_of(background);
      last2.compression = compression;
      last2.children = l2.children;
    }
    os.write(last2.bytes.data(), static_cast<std::streamsize>(last2.bytes.size()));
    for (auto& [at2, l1] : l2.nodes) {
      l1.children.save(os);
      l1.tiles.save(os);
      std::fill(table1.begin(), table1.end(), background);
      for (const auto& [at1, b] : l1.leaves) table1[at1] = zero;
      for (const auto& [at1, value] : l1.tile_values) table1[at1] = value;
      openvdb::io::writeCompressedValues(os, table1.data(), Node1::NUM_VALUES, l1.tiles, l1.children, false);
      std::sort(l1.leaves.begin(), l1.leaves.end());
      for (const auto& [at1, b] : l1.leaves) masks[b].save(os);  // LeafNode::writeTopology
    }
  }
  openvdb::io::setGridBackgroundValuePtr(os, nullptr);  // `background` is about to go
  if (leaves_out) *leaves_out = leaves;
  return value_less_tree_mem_bytes<TreeT>(static_cast<int64_t>(roots.size()), n1, leaves);
}

// A thread's leaf encoder and one leaf's active values, kept likewise (a fresh LZ4 state is
// 16 kB to clear): 12 % of a frame's instructions (callgrind) when made per task.
template <typename ValueT>
struct EncodeScratch {
  std::array<ValueT, kLeafValueCount> active;
  LeafValueEncoder encoder;

  static EncodeScratch& of_this_thread() {
    thread_local EncodeScratch s;
    return s;
  }
};

// The bounding box of a leaf's active voxels (its mask not empty): bit n of the mask is
// voxel (x, y, z) = (n >> 6, (n >> 3) & 7, n & 7) from the leaf's origin, one 64-bit word
// per x.
openvdb::CoordBBox active_bounds(const LeafMask& mask, const openvdb::Coord& origin) {
  int x0 = 8, x1 = -1;
  uint64_t any = 0;
  for (int x = 0; x < 8; ++x) {
    const uint64_t w = mask.template getWord<uint64_t>(x);
    if (!w) continue;
    x0 = std::min(x0, x);
    x1 = x;
    any |= w;
  }
  uint32_t ys = 0, zs = 0;  // bit y: some voxel in row y; bit z: some voxel at height z
  for (int y = 0; y < 8; ++y) {
    const uint32_t row = static_cast<uint32_t>((any >> (8 * y)) & 0xFF);
    if (row) ys |= 1u << y;
    zs |= row;
  }
  const int y0 = __builtin_ctz(ys), y1 = 31 - __builtin_clz(ys), z0 = __builtin_ctz(zs), z1 = 31 - __builtin_clz(zs);
  return openvdb::CoordBBox(origin.offsetBy(x0, y0, z0), origin.offsetBy(x1, y1, z1));
}

// One grid's leaves compressed: each row of blocks' bytes, and each block's mask and place
// in its row's bytes, or its tile; the active voxels' count and bounding box per row of blocks.
struct CompressedGrid {
  std::vector<LeafMask> masks;                   // [block]: off for a tile
  std::vector<uint32_t> bytes_begin, bytes_end;  // [block]: its leaf in its row's bytes
  std::vector<uint8_t> tile;                     // [block]: an active tile, no leaf
  std::vector<uint32_t> tile_bits;               // [block]: the tile's value (4-byte values)
  std::vector<std::string> row_bytes;            // [row of blocks]
  std::vector<int64_t> row_active;               // [row of blocks]
  std::vector<openvdb::CoordBBox> row_bounds;    // [row of blocks]

  void prepare(const LeafBlocks& blocks) {
    masks.resize(static_cast<size_t>(blocks.count()));
    bytes_begin.resize(masks.size());
    bytes_end.resize(masks.size());
    tile.resize(masks.size());
    tile_bits.resize(masks.size());
    row_bytes.resize(static_cast<size_t>(blocks.rows()));
    row_active.resize(row_bytes.size());
    row_bounds.resize(row_bytes.size());
  }
};

// Memory a writer reuses: two grids' compressed leaves (one compressed while the other is
// written) and the order of the leaves. Kept for the whole run, so that its pages are
// faulted in once, not per grid and per file (in a VM a fresh page costs more than
// compressing it); one file at a time.
struct WriterScratch {
  std::mutex busy;
  std::array<int64_t, 3> dims{};
  std::vector<int64_t> tree_order;  // blocks_in_tree_order(dims)
  std::array<CompressedGrid, 2> grids;
  // What grids hold when a frame of a series filled both last and nothing has used them
  // since: the dose and density of `data`, a frame of the series numbered `series` on `grid`,
  // its density on the scale of log10 of the final dose's maximum `log10_dose_max`.
  // series 0: nothing known.
  struct FramePair {
    uint64_t series = 0;
    const VoxelGrid* grid = nullptr;
    const float* data = nullptr;
    double log10_dose_max = 0;
    bool operator==(const FramePair& o) const {
      return series == o.series && grid == o.grid && data == o.data && log10_dose_max == o.log10_dose_max;
    }
  } frame_pair;

  // The topologies of the last grids written (write_value_less_topology's bytes; building
  // and writing a tree for them took a fifth of the demo scene's writing instructions
  // before it): a frame's dose grid mostly has the topology of the
  // frame before, a rate grid that of the dose. Each is kept with everything it was written
  // from, compared whole (after a hash) before its bytes are written again.
  struct Topology {
    uint64_t hash = 0;
    std::string what;  // the grid's type, background, compression, half floats, dims
    std::vector<LeafMask> masks;
    std::vector<uint8_t> tile;
    std::vector<uint32_t> tile_bits;  // 0 where no tile
    std::string bytes;
    int64_t mem_bytes = 0;  // the tree's memory once read (META_FILE_MEM_BYTES)
  };
  std::array<Topology, 4> topologies;
  size_t next_topology = 0;

  void prepare(const GridGeometry& g) {
    if (g.dims != dims || tree_order.empty()) {
      tree_order = blocks_in_tree_order(g);
      dims = g.dims;
      frame_pair = {};
    }
    const LeafBlocks blocks(g);
    for (CompressedGrid& c : grids) c.prepare(blocks);
  }
};

// Whether row `row` of blocks of `data` holds, bit for bit, the values of `before` there
// (both dense on g): read line by line, it stops at the first that differs.
// Blocks no ray reached (`unreached`, the row's, null: none known) hold the same values in
// both and are not read.
bool block_row_unchanged(const GridGeometry& g, const LeafBlocks& blocks, int64_t row, const float* data,
                         const float* before, const uint8_t* unreached,
                         std::vector<std::pair<int64_t, int64_t>>& spans) {
  spans.assign(1, {0, g.dims[0]});
  if (unreached) {
    thread_local std::vector<uint8_t> reached;
    reached.resize(static_cast<size_t>(blocks.bx));
    for (int64_t bi = 0; bi < blocks.bx; ++bi) reached[static_cast<size_t>(bi)] = !unreached[bi];
    flagged_spans(g, blocks, reached.data(), nullptr, spans);
  }
  for (int yz = 0; yz < kLeafDim * kLeafDim; ++yz) {
    const int64_t at = block_row_line(g, blocks, row, yz);
    if (at < 0) continue;
    for (const auto& [x0, x1] : spans)
      if (std::memcmp(data + at + x0, before + at + x0, static_cast<size_t>(x1 - x0) * sizeof(float)) != 0)
        return false;
  }
  return true;
}

WriterScratch& writer_scratch() {
  static WriterScratch scratch;
  return scratch;
}

// One grid's write to its file at a time, beside the compressing of the next: a task for an
// idle TBB worker, or, if none has begun it when its end is awaited, run by the thread that
// waits. A thread that waits for a worker's write sleeps: TBB's own wait spins.
class GridWrite {
 public:
  GridWrite() = default;
  GridWrite(const GridWrite&) = delete;
  GridWrite& operator=(const GridWrite&) = delete;
  ~GridWrite() {
    if (!job_) return;
    try {  // unwinding: the task must not outlive us; what stopped the run is on its way
      wait();
    } catch (...) {
    }
  }

  // Starts `write`; the one before must have been waited for.
  void start(std::function<void()> write) {
    DOSEMAP_BUG_CHECK(!job_, "one grid written to a file at a time");
    job_ = std::make_shared<Job>();
    job_->write = std::move(write);
    done_ = job_->finished.get_future();
    group_.run([job = job_] { job->run_once(); });
  }

  // Returns once the write has ended (at once if none was started); rethrows what stopped it.
  void wait() {
    if (!job_) return;
    const std::shared_ptr<Job> job = std::move(job_);
    job->run_once();  // (unless a worker has begun it)
    done_.wait();     // asleep while a worker writes
    group_.wait();    // the task has ended, or only finds the write done
    done_.get();
  }

 private:
  struct Job {
    std::function<void()> write;
    std::atomic<bool> claimed{false};
    std::promise<void> finished;
    void run_once() {
      if (claimed.exchange(true)) return;
      try {
        write();
        finished.set_value();
      } catch (...) {
        finished.set_exception(std::current_exception());
      }
    }
  };
  tbb::task_group group_;
  std::shared_ptr<Job> job_;  // started, not waited for
  std::future<void> done_;
};

// A .vdb file written grid by grid: the header and the file's metadata (naming the grids in
// the order they will come), then each grid as OpenVDB's Archive::writeGrid lays it out.
// A float or int grid is written to the file by a thread of its own while the caller goes
// on to compress the next one: the file's bytes are written by one thread at a time, in
// order, and compressing (parallel) overlaps writing (serial).
class VdbFileWriter : private openvdb::io::Archive {
 public:
  // The material (dense on ctx.grid) is what the grids' values depend on besides the array
  // each names.
  VdbFileWriter(CheckedFile& file, const VdbWriteContext& ctx, openvdb::MetaMap meta, std::vector<std::string> grid_names)
      : file_(file), os_(file.stream()), geometry_(ctx.grid.geometry), names_(std::move(grid_names)),
        material_(ctx.blocks ? *ctx.blocks : vdb_grid_blocks(ctx.grid)),
        lock_(writer_scratch().busy) {
    const size_t n_blocks = static_cast<size_t>(LeafBlocks(geometry_).count());
    DOSEMAP_BUG_CHECK(material_.one_material.size() == n_blocks && material_.material_alike_left.size() == n_blocks &&
                          (material_.unreached.empty() || material_.unreached.size() == n_blocks),
                      "the blocks found for another grid");
    setCompression(openvdb::io::COMPRESS_BLOSC | openvdb::io::COMPRESS_ACTIVE_MASK);
    // Every byte goes to the file once, in order (the grids' patched offsets are staged, see
    // write_staged): the integrity record's hash is taken as the file is written.
    file_.hash_as_written();
    writer_scratch().prepare(geometry_);
    file_meta_ = std::make_shared<openvdb::io::StreamMetadata>();
    openvdb::io::setStreamMetadataPtr(os_, file_meta_, /*transfer=*/false);
    openvdb::io::setDataCompression(os_, compression());
    openvdb::io::setWriteGridStatsMetadata(os_, isGridStatsMetadataEnabled());
    writeHeader(os_, /*seekable=*/true);
    std::string listed;
    for (const auto& n : names_) listed += (listed.empty() ? "" : ",") + n;
    meta.insertMeta("grids", openvdb::StringMetadata(listed));
    meta.writeMeta(os_);
    const int32_t count = static_cast<int32_t>(names_.size());
    os_.write(reinterpret_cast<const char*>(&count), sizeof count);
  }
  // The blocks of one material and value, and alike their neighbour, found for the grids
  // of `data` (null: none) written so far: dose.vdb's dose, masks and density share them.
  // The array must not change, nor its memory go to another array, while this file is
  // written (forget() it first).
  DataBlocks* data_blocks(const float* data) {
    if (!data) return nullptr;
    auto [at, added] = data_blocks_.try_emplace(data);
    if (added) {
      const size_t n = material_.one_material.size();
      at->second.uniform.resize(n);
      at->second.alike_left.resize(n);
    }
    return &at->second;
  }
  // The flags of row `row`'s blocks that no ray reached, or null when not known. Every array
  // a grid of this writer is made of is the run's state (or null), which holds its value
  // before the march in those blocks.
  const uint8_t* unreached_row(int64_t row) const {
    return material_.unreached.empty() ? nullptr : material_.unreached.data() + row * LeafBlocks(geometry_).bx;
  }
  // Drops what was found of the arrays within [begin, begin + n), about to be released.
  void forget(const float* begin, size_t n) {
    const auto lo = reinterpret_cast<uintptr_t>(begin), hi = reinterpret_cast<uintptr_t>(begin + n);
    for (auto it = data_blocks_.begin(); it != data_blocks_.end();) {
      const auto at = reinterpret_cast<uintptr_t>(it->first);
      it = at >= lo && at < hi ? data_blocks_.erase(it) : std::next(it);
    }
  }

  ~VdbFileWriter() override {
    writing_.reset();  // unwinding: the grid's write must not outlive us
    openvdb::io::StreamMetadata::Ptr none;
    openvdb::io::setStreamMetadataPtr(os_, none, /*transfer=*/false);  // ours is about to go
  }

  // Row `row` of a grid whose value(v, out) depends on material[v] and data[v] alone (data
  // null: on material[v] alone): its blocks of one value found and classified (s.kind,
  // s.tile_value), the others gathered into s.values and masks[bi] (a block that repeats an
  // earlier one of the row copied from it).
  // `of_data`: data_blocks(data), whose rows a grid of the same array found before are
  // taken as they are, and the others' are kept.
  template <typename ValueT, typename ValueF>
  void gather_row(int64_t row, const float* data, ValueF& value, const ValueT background, GatherScratch<ValueT>& s,
                  LeafMask* masks, DataBlocks* of_data) {
    const LeafBlocks blocks(geometry_);
    const int64_t first = row * blocks.bx;
    if (of_data && of_data->found) {
      std::copy_n(of_data->uniform.begin() + first, blocks.bx, s.uniform.begin());
      std::copy_n(of_data->alike_left.begin() + first, blocks.bx, s.alike_left.begin());
    } else {
      std::copy_n(material_.one_material.begin() + first, blocks.bx, s.uniform.begin());
      std::copy_n(material_.material_alike_left.begin() + first, blocks.bx, s.alike_left.begin());
      if (data)
        compare_blocks_of_row(geometry_, blocks, row, data, s.uniform.data(), s.alike_left.data(),
                              unreached_row(row), s.compare);
      if (of_data) {
        std::copy_n(s.uniform.begin(), blocks.bx, of_data->uniform.begin() + first);
        std::copy_n(s.alike_left.begin(), blocks.bx, of_data->alike_left.begin() + first);
      }
    }
    classify_block_row(geometry_, blocks, row, s.uniform.data(), value, background, s.kind.data(), s.tile_value.data());
    mark_repeated_blocks(blocks.bx, s.alike_left.data(), s.kind.data(), s.repeats.data());
    gather_block_row(geometry_, blocks, row, value, background, s, masks);
  }

  // A bool grid (named and described, its tree empty), rule(v, out) true (and out 1) for the
  // voxels it holds, a function of material[v] and data[v] alone (a ReachedMask): built whole
  // (its leaves are two masks, no buffer; a block all on is a tile) and written by OpenVDB,
  // which compresses nothing of a bool leaf and keeps no delayed-load metadata for it; written
  // to the file, like a dense grid, while the caller goes on.
  template <typename RuleF>
  void write_mask(const openvdb::BoolGrid::Ptr& grid, const float* data, const RuleF& rule) {
    using LeafT = openvdb::BoolTree::LeafNodeType;
    static_assert(LeafT::DIM == kLeafDim, "the 8^3 blocks are the tree's leaves");
    DOSEMAP_BUG_CHECK(grid->tree().empty(), "a mask grid starts empty");
    openvdb::io::GridDescriptor gd = next_descriptor(*grid);
    const LeafBlocks blocks(geometry_);
    std::vector<LeafT*> leaves(static_cast<size_t>(blocks.count()), nullptr);
    std::vector<uint8_t> tiles(leaves.size(), 0);
    // The active voxels' count and bounding box per row of blocks, for the statistics
    // OpenVDB would otherwise find by walking the tree (a fifth of the masks' instructions).
    std::vector<int64_t> row_active(static_cast<size_t>(blocks.rows()), 0);
    std::vector<openvdb::CoordBBox> row_bounds(static_cast<size_t>(blocks.rows()));
    DataBlocks* of_data = data_blocks(data);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks.rows()), [&](const tbb::blocked_range<int64_t>& r) {
      GatherScratch<uint8_t>& s = GatherScratch<uint8_t>::of_this_thread(blocks);
      std::vector<LeafMask> masks(static_cast<size_t>(blocks.bx));
      for (int64_t row = r.begin(); row != r.end(); ++row) {
        gather_row(row, data, rule, uint8_t(0), s, masks.data(), of_data);
        int64_t active = 0;
        openvdb::CoordBBox bounds;
        for (int64_t bi = 0; bi < blocks.bx; ++bi) {
          const int64_t b = row * blocks.bx + bi;
          if (s.kind[bi] == kTileBlock || masks[bi].isOn()) {
            tiles[b] = 1;
            active += kLeafValues;
            bounds.expand(openvdb::CoordBBox::createCube(blocks.origin(b), kLeafDim));
            continue;
          }
          if (masks[bi].isOff()) continue;
          leaves[b] = new LeafT(blocks.origin(b), false, false);
          leaves[b]->setValueMask(masks[bi]);  // on where active: a bool leaf's values are its mask
          leaves[b]->buffer() = masks[bi];
          active += masks[bi].countOn();
          bounds.expand(active_bounds(masks[bi], blocks.origin(b)));
        }
        row_active[static_cast<size_t>(row)] = active;
        row_bounds[static_cast<size_t>(row)] = bounds;
      }
    });
    found_blocks_of(of_data);
    for (LeafT* leaf : leaves)
      if (leaf) grid->tree().addLeaf(leaf);  // the tree takes ownership
    for (int64_t b = 0; b < blocks.count(); ++b)
      if (tiles[b]) grid->tree().addTile(kTileLevel, blocks.origin(b), true, true);
    wait_for_writing();
    start_writing([this, grid, gd, row_active = std::move(row_active), row_bounds = std::move(row_bounds)] {
      openvdb::io::GridDescriptor descriptor = gd;
      write_staged([&](std::ostream& os) {
        // Archive::writeGrid as it writes with its statistics, given them: the metadata
        // GridBase::addStatsMetadata adds and the compression, on a copy sharing the tree
        // and the transform (a copied transform is written with other last bits).
        const bool with_stats = openvdb::io::getWriteGridStatsMetadata(os);
        openvdb::GridBase::Ptr described = grid->copyGrid();
        described->setTransform(grid->transformPtr());
        if (with_stats) {
          insert_file_statistics(*described, row_active, row_bounds, static_cast<int64_t>(grid->memUsage()),
                                 compression());
          openvdb::io::setWriteGridStatsMetadata(os, false);
        }
        writeGrid(descriptor, described, os, /*seekable=*/true);
        openvdb::io::setWriteGridStatsMetadata(os, with_stats);
      });
      openvdb::io::setDataCompression(os_, compression());
      grid->tree().clear();
    });
  }

  // `grid` (named and described, its tree empty) with value(v, out) for each voxel v of the
  // dense arrays: true and the value where active, false where not; a function of material[v]
  // and data[v] alone (data null: of material[v] alone). Returns once its leaves are
  // compressed (the arrays may go); the file gets them while the caller goes on.
  // leaf(values, mask), when given, then rewrites each leaf that has active voxels (its
  // kLeafDim^3 values in the leaf's order, inactive ones the background, and its mask; a
  // tile's made a leaf): values cheaper to compute a leaf at a time (vectorized) than voxel
  // by voxel. It never activates a voxel.
  template <typename GridT, typename ValueF, typename LeafF = std::nullptr_t>
  void write_dense(const std::shared_ptr<GridT>& grid, const float* data, ValueF value, LeafF leaf = nullptr) {
    using ValueT = typename GridT::ValueType;
    openvdb::io::GridDescriptor gd = next_dense_descriptor(*grid);
    if (pair_writing_) wait_for_writing();  // both compressed grids are in use until then
    writer_scratch().frame_pair = {};        // about to hold another grid
    CompressedGrid& c = writer_scratch().grids[next_scratch_];
    next_scratch_ ^= 1;  // the other one's grid is being written, or has been

    // Each row of blocks gathered into its leaves, each block with active voxels encoded into
    // the row's bytes.
    const ValueT background = grid->background();
    const LeafBlocks blocks(geometry_);
    DataBlocks* of_data = data_blocks(data);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks.rows(), 1), [&](const tbb::blocked_range<int64_t>& r) {
      GatherScratch<ValueT>& s = GatherScratch<ValueT>::of_this_thread(blocks);
      EncodeScratch<ValueT>& e = EncodeScratch<ValueT>::of_this_thread();
      for (int64_t row = r.begin(); row != r.end(); ++row) {
        const int64_t first = row * blocks.bx;
        gather_row(row, data, value, background, s, &c.masks[first], of_data);
        RowEncoding out(c, row);
        for (int64_t b = first; b < first + blocks.bx; ++b) {
          ValueT* values = s.values.data() + (b - first) * kLeafValues;
          const uint8_t kind = s.kind[b - first];
          if constexpr (std::is_same_v<LeafF, std::nullptr_t>) {
            if (kind == kTileBlock) {
              out.append_tile(b, blocks.origin(b), s.tile_value[b - first]);
              continue;
            }
          } else {
            if (kind == kTileBlock) {  // the tile as a leaf, made anew
              std::fill(values, values + kLeafValues, s.tile_value[b - first]);
              c.masks[b].setOn();
            }
            if (!c.masks[b].isOff()) leaf(values, c.masks[b]);
          }
          out.append_leaf(b, blocks.origin(b), values, e);
        }
      }
    });
    found_blocks_of(of_data);

    wait_for_writing();
    start_writing([this, grid, gd, &c] {
      openvdb::io::GridDescriptor descriptor = gd;
      write_compressed(*grid, descriptor, c);
    });
  }

  // `grid` as write_dense writes it, then `derived` (the next grid the file lists, same value
  // type) whose leaves derive(values, mask) makes of a copy of each of grid's leaves (or
  // tiles) that has active voxels: one pass over the dense arrays for both (a frame's dose and
  // density). derive never activates a voxel.
  // For a frame of a series (`frame`: what this frame's pair is, and what the frame before it
  // in the series was), the rows of blocks where `data` is, bit for bit, that earlier frame's
  // keep its leaves when the scratch still holds them (undosed matter, and wherever the beam
  // has not been since, is the same in every frame): compared with that frame's array (which
  // must still be what it was when written), neither gathered nor compressed again.
  struct FrameRows {
    WriterScratch::FramePair now, before;
  };
  template <typename GridT, typename ValueF, typename DeriveF>
  void write_dense_and_derived(const std::shared_ptr<GridT>& grid, const float* data, ValueF value,
                               const std::shared_ptr<GridT>& derived, DeriveF derive,
                               const FrameRows* frame = nullptr) {
    using ValueT = typename GridT::ValueType;
    openvdb::io::GridDescriptor gd = next_dense_descriptor(*grid);
    openvdb::io::GridDescriptor derived_gd = next_dense_descriptor(*derived);
    wait_for_writing();  // both compressed grids are needed
    WriterScratch& scratch = writer_scratch();
    CompressedGrid& c = scratch.grids[0];
    CompressedGrid& dc = scratch.grids[1];
    next_scratch_ = 0;
    // A frame whose series' previous frame the scratch still holds: the rows where the dose
    // has not changed since are left as they are.
    const float* unchanged_since =
        frame && frame->before.series != 0 && scratch.frame_pair == frame->before ? frame->before.data : nullptr;
    scratch.frame_pair = {};  // (until both are made)

    const ValueT background = grid->background();
    const LeafBlocks blocks(geometry_);
    const uint64_t epoch = DerivedLeafMemo<ValueT>::next_epoch();
    // (The blocks found are kept for the file's next grids of `data` only when every row is.)
    DataBlocks* of_data = unchanged_since ? nullptr : data_blocks(data);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks.rows(), 1), [&](const tbb::blocked_range<int64_t>& r) {
      GatherScratch<ValueT>& s = GatherScratch<ValueT>::of_this_thread(blocks);
      EncodeScratch<ValueT>& e = EncodeScratch<ValueT>::of_this_thread();
      DerivedLeafMemo<ValueT>& memo = DerivedLeafMemo<ValueT>::of_this_thread();
      std::array<ValueT, kLeafValues> copy;
      // The leaf derived from the latest tile and that tile's value: most tiles are undosed
      // matter, one value.
      std::array<ValueT, kLeafValues> tile_derived;
      LeafMask tile_derived_mask;
      std::optional<decltype(bits_of(ValueT{}))> tile_bits;
      for (int64_t row = r.begin(); row != r.end(); ++row) {
        if (unchanged_since &&
            block_row_unchanged(geometry_, blocks, row, data, unchanged_since, unreached_row(row), s.compare.spans))
          continue;
        const int64_t first = row * blocks.bx;
        gather_row(row, data, value, background, s, &c.masks[first], of_data);
        RowEncoding out(c, row), derived_out(dc, row);
        for (int64_t b = first; b < first + blocks.bx; ++b) {
          ValueT* values = s.values.data() + (b - first) * kLeafValues;
          if (s.kind[b - first] == kTileBlock) {  // derived from the tile as a leaf
            const ValueT tile = s.tile_value[b - first];
            out.append_tile(b, blocks.origin(b), tile);
            if (tile_bits != bits_of(tile)) {
              std::fill(tile_derived.begin(), tile_derived.end(), tile);
              tile_derived_mask.setOn();
              derive(tile_derived.data(), tile_derived_mask);
              tile_bits = bits_of(tile);
            }
            dc.masks[b] = tile_derived_mask;
            derived_out.append_leaf(b, blocks.origin(b), tile_derived.data(), e);
            continue;
          }
          const LeafMask source_mask = c.masks[b];  // (before append_leaf, which may make the leaf a tile)
          out.append_leaf(b, blocks.origin(b), values, e);
          dc.masks[b] = source_mask;
          if (!source_mask.isOff())  // (an empty leaf's values are not read)
            memo.derive(epoch, values, source_mask, derive, copy.data(), dc.masks[b]);
          derived_out.append_leaf(b, blocks.origin(b), copy.data(), e);
        }
      }
    });
    found_blocks_of(of_data);
    if (frame) scratch.frame_pair = frame->now;

    start_writing([this, grid, gd, &c, derived, derived_gd, &dc] {
      openvdb::io::GridDescriptor descriptor = gd, derived_descriptor = derived_gd;
      write_compressed(*grid, descriptor, c);
      write_compressed(*derived, derived_descriptor, dc);
    });
    pair_writing_ = true;
  }

  // After the last grid: the integrity record.
  void finish() {
    wait_for_writing();
    DOSEMAP_BUG_CHECK(written_ == names_.size(), "a .vdb file lists grids it does not hold");
    append_integrity_footer(file_);
  }

 private:
  openvdb::io::GridDescriptor next_descriptor(const openvdb::GridBase& grid) {
    DOSEMAP_BUG_CHECK(written_ < names_.size() && names_[written_] == grid.getName(),
                      "grids written out of the order the file lists");
    ++written_;
    return openvdb::io::GridDescriptor(grid.getName(), grid.type(), grid.saveFloatAsHalf());
  }

  // next_descriptor for a grid write_dense streams, after checking that its leaves can be
  // encoded as OpenVDB would write them.
  template <typename GridT>
  openvdb::io::GridDescriptor next_dense_descriptor(const GridT& grid) {
    using TreeT = typename GridT::TreeType;
    using ValueT = typename GridT::ValueType;
    static_assert(kSameLayoutAsFloatTree<TreeT>, "one leaf order for every grid type");
    static_assert(TreeT::LeafNodeType::SIZE == kLeafValues, "8^3 leaves");
    DOSEMAP_BUG_CHECK(grid.tree().empty() && !grid.saveFloatAsHalf(), "a streamed grid starts empty, at full precision");
    // The compression options Archive::setGridCompression gives this grid, asked of a
    // stream of our own: the file's stream belongs to the grid being written.
    std::ostringstream probe;
    setGridCompression(probe, grid);
    constexpr uint32_t kEncoded = openvdb::io::COMPRESS_BLOSC | openvdb::io::COMPRESS_ACTIVE_MASK;
    DOSEMAP_BUG_CHECK(openvdb::io::getDataCompression(probe) == kEncoded, "leaves are encoded as blosc with active masks");
    static_assert(sizeof(ValueT) == 4, "blosc's type size for OpenVDB's values is 4 bytes");
    // A NaN background would not count as one inactive value (io::MaskCompress compares exactly).
    DOSEMAP_BUG_CHECK(grid.background() == grid.background(), "a grid's background is a number");
    return next_descriptor(grid);
  }

  // One row of blocks of a grid encoded into c.row_bytes[row] leaf by leaf, as
  // LeafNode::writeBuffers writes a leaf: its mask, then its values; and the row's active
  // voxels and their bounds, once it goes.
  struct RowEncoding {
    CompressedGrid& c;
    int64_t row;
    std::string& bytes;
    int64_t active = 0;
    openvdb::CoordBBox bounds;  // empty
    RowEncoding(CompressedGrid& grid, int64_t r) : c(grid), row(r), bytes(grid.row_bytes[r]) { bytes.clear(); }
    ~RowEncoding() {
      c.row_active[row] = active;
      c.row_bounds[row] = bounds;
    }
    // Block b's leaf (at `origin`), its mask c.masks[b] and its kLeafValues values; a tile
    // when every voxel is active with one value (bit for bit).
    template <typename ValueT>
    void append_leaf(int64_t b, const openvdb::Coord& origin, const ValueT* values, EncodeScratch<ValueT>& e) {
      const LeafMask& mask = c.masks[b];
      if (mask.isOn() && std::all_of(values + 1, values + kLeafValues,
                                     [first = bits_of(values[0])](ValueT v) { return bits_of(v) == first; })) {
        append_tile(b, origin, values[0]);
        return;
      }
      c.tile[b] = 0;
      c.bytes_begin[b] = static_cast<uint32_t>(bytes.size());
      if (!mask.isOff()) {
        const openvdb::Index on = mask.countOn();
        active += on;
        bounds.expand(active_bounds(mask, origin));
        LeafMask::Word words[LeafMask::WORD_COUNT];  // as NodeMask::save writes them
        for (openvdb::Index w = 0; w < LeafMask::WORD_COUNT; ++w) words[w] = mask.getWord<LeafMask::Word>(w);
        bytes.append(reinterpret_cast<const char*>(words), sizeof words);
        // The active values in the leaf's order (LeafNode::writeBuffers via
        // io::writeCompressedValues; every inactive value here is the background).
        if (on < kLeafValues) {
          static_assert(std::is_same_v<ValueT, float> && kLeafValueCount == kLeafValues);
          pack_active_values(values, words, e.active.data());
          values = e.active.data();
        }
        e.encoder.append(bytes, values, on);
      }
      c.bytes_end[b] = static_cast<uint32_t>(bytes.size());
    }
    // Block b (at `origin`, whole in the grid) as an active tile of `value`: no leaf.
    template <typename ValueT>
    void append_tile(int64_t b, const openvdb::Coord& origin, ValueT value) {
      c.masks[b].setOff();
      c.tile[b] = 1;
      c.tile_bits[b] = bits_of(value);
      c.bytes_begin[b] = c.bytes_end[b] = static_cast<uint32_t>(bytes.size());
      active += kLeafValues;
      bounds.expand(openvdb::CoordBBox(origin, origin.offsetBy(kLeafDim - 1)));
    }
  };

  // Starts writing a grid to the file (GridWrite): a thread the compressing loops left idle
  // writes it while the caller compresses the next grid. (A thread of its own per grid,
  // std::async, cost a thread's start, stack and exit every grid while TBB's idle threads
  // spun waiting for work.)
  void start_writing(std::function<void()> write) { writing_->start(std::move(write)); }

  // Waits for the grid being written, if any; rethrows what stopped it.
  void wait_for_writing() {
    pair_writing_ = false;
    writing_->wait();
  }

  // Writes the grid whose leaves `c` holds: the layout of Archive::writeGrid, without the
  // delayed-load metadata.
  template <typename GridT>
  void write_compressed(GridT& grid, openvdb::io::GridDescriptor& gd, const CompressedGrid& c) {
    const WriterScratch& s = writer_scratch();
    auto grid_meta = std::make_shared<openvdb::io::StreamMetadata>(*file_meta_);
    grid_meta->setHalfFloat(false);
    grid_meta->gridMetadata() = static_cast<const openvdb::MetaMap&>(grid);
    openvdb::io::setStreamMetadataPtr(os_, grid_meta, /*transfer=*/false);
    gd.writeHeader(os_);
    // The grid's offsets, then its metadata, transform and topology, staged (write_staged):
    // the offsets are patched once the topology's size is known; the leaves' bytes, known
    // already, follow straight from memory.
    int64_t leaf_bytes = 0;
    for (const int64_t b : s.tree_order) leaf_bytes += c.bytes_end[b] - c.bytes_begin[b];
    write_staged([&](std::ostream& head) { write_compressed_head(grid, gd, c, head, leaf_bytes); });
    // The leaves in the tree's order, as Tree::writeBuffers would write them.
    const LeafBlocks blocks(geometry_);
    for (const int64_t b : s.tree_order)
      if (c.bytes_end[b] > c.bytes_begin[b])
        os_.write(c.row_bytes[b / blocks.bx].data() + c.bytes_begin[b], c.bytes_end[b] - c.bytes_begin[b]);
    const std::streamoff end = os_.tellp();  // -1 once a write failed
    DOSEMAP_BUG_CHECK(end < 0 || static_cast<int64_t>(end) == gd.getEndPos(), "a grid's end is not where its offsets say");

    openvdb::io::setStreamMetadataPtr(os_, file_meta_, /*transfer=*/false);
    openvdb::io::setDataCompression(os_, compression());
  }

  // write_compressed's part before the leaves, to `os` (positioned as the file): the grid's
  // offsets (with leaf_bytes of leaves after the topology), its metadata, transform and
  // topology (write_value_less_topology).
  template <typename GridT>
  void write_compressed_head(GridT& grid, openvdb::io::GridDescriptor& gd, const CompressedGrid& c, std::ostream& os,
                             int64_t leaf_bytes) {
    using LeafT = typename GridT::TreeType::LeafNodeType;
    using ValueT = typename GridT::ValueType;
    const std::streamoff offsets_at = os.tellp();
    gd.writeStreamPos(os);
    gd.setGridPos(os.tellp());
    setGridCompression(os, grid);
    const uint32_t compression_flags = openvdb::io::getDataCompression(os);

    // The topology: a value-less leaf per block with active voxels, or its tile; or the bytes
    // of an earlier grid's, the same in everything they were written from.
    const ValueT background = grid.background();
    const LeafBlocks blocks(geometry_);
    WriterScratch::Topology key;
    key.what = grid.type() + " " + std::to_string(bits_of(background)) + " " + std::to_string(compression_flags) + " " +
               std::to_string(grid.saveFloatAsHalf()) + " " + std::to_string(blocks.bx) + " " +
               std::to_string(blocks.by) + " " + std::to_string(blocks.bz);
    key.tile_bits.resize(c.tile.size());
    for (size_t b = 0; b < c.tile.size(); ++b) key.tile_bits[b] = c.tile[b] ? c.tile_bits[b] : 0;
    static_assert(sizeof(LeafMask) == kLeafValues / 8, "a leaf mask is its bits");
    {
      XXH3_state_t* state = XXH3_createState();
      if (!state) throw std::bad_alloc();
      XXH3_64bits_reset(state);
      XXH3_64bits_update(state, key.what.data(), key.what.size());
      XXH3_64bits_update(state, c.masks.data(), c.masks.size() * sizeof(LeafMask));
      XXH3_64bits_update(state, c.tile.data(), c.tile.size());
      XXH3_64bits_update(state, key.tile_bits.data(), key.tile_bits.size() * sizeof(uint32_t));
      key.hash = XXH3_64bits_digest(state);
      XXH3_freeState(state);
    }
    WriterScratch& scratch = writer_scratch();
    const WriterScratch::Topology* known = nullptr;
    for (const WriterScratch::Topology& t : scratch.topologies)
      if (t.hash == key.hash && t.what == key.what && t.tile == c.tile && t.tile_bits == key.tile_bits &&
          t.masks == c.masks)
        known = &t;
    if (known) {
      write_compressed_meta(grid, c, os, compression_flags, known->mem_bytes);
      os.write(known->bytes.data(), static_cast<std::streamsize>(known->bytes.size()));
    } else {
      std::ostringstream topology;
      topology.copyfmt(os);
      int64_t leaves = 0;
      key.mem_bytes = write_value_less_topology<typename GridT::TreeType>(topology, blocks, c.masks, c.tile,
                                                                          c.tile_bits, background, &leaves) +
                      leaves * static_cast<int64_t>(LeafT::SIZE * sizeof(ValueT));
      write_compressed_meta(grid, c, os, compression_flags, key.mem_bytes);
      key.bytes = std::move(topology).str();
      os.write(key.bytes.data(), static_cast<std::streamsize>(key.bytes.size()));
      key.masks = c.masks;
      key.tile = c.tile;
      scratch.topologies[scratch.next_topology] = std::move(key);
      scratch.next_topology = (scratch.next_topology + 1) % scratch.topologies.size();
    }
    gd.setBlockPos(os.tellp());
    gd.setEndPos(gd.getBlockPos() + leaf_bytes);
    os.seekp(offsets_at, std::ios_base::beg);
    gd.writeStreamPos(os);
    os.seekp(0, std::ios_base::end);
  }

  // The grid's metadata with the statistics GridBase::addStatsMetadata adds, from the masks
  // (`mem_bytes`: the memory the grid takes once read, its leaves' values counted), and its
  // transform.
  template <typename GridT>
  void write_compressed_meta(GridT& grid, const CompressedGrid& c, std::ostream& os, uint32_t compression_flags,
                             int64_t mem_bytes) {
    auto described = grid.copyGrid();  // shares the tree
    if (openvdb::io::getWriteGridStatsMetadata(os))
      insert_file_statistics(*described, c.row_active, c.row_bounds, mem_bytes, compression_flags);
    described->writeMeta(os);
    grid.writeTransform(os);
  }

  // What write(os) writes, with os positioned as the file (seeks back to patch included),
  // staged in memory and then written to the file in one piece, in order; `os` carries the
  // file stream's state (OpenVDB's metadata and compression flags).
  template <typename WriteF>
  void write_staged(WriteF write) {
    // A file whose write failed has no position: it takes nothing more, and its error is
    // reported when it is finished.
    const std::streamoff at = os_.tellp();
    if (at < 0) return;
    StagedBytes staged(static_cast<int64_t>(at));
    std::ostream os(&staged);
    os.copyfmt(os_);
    write(os);
    DOSEMAP_BUG_CHECK(os.good(), "a grid staged for its file failed to write");
    os_.write(staged.bytes().data(), static_cast<std::streamsize>(staged.bytes().size()));
  }

  // Finished with this grid's rows: data_blocks(data) holds them for the next grid of it.
  void found_blocks_of(DataBlocks* of_data) {
    if (of_data) of_data->found = true;
  }

  CheckedFile& file_;
  std::ostream& os_;
  GridGeometry geometry_;
  std::vector<std::string> names_;
  VdbGridBlocks material_;  // [block]: one material; its material that of the block before it
  std::map<const float*, DataBlocks> data_blocks_;
  std::unique_lock<std::mutex> lock_;
  openvdb::io::StreamMetadata::Ptr file_meta_;
  size_t written_ = 0;
  int next_scratch_ = 0;
  // The grid being written, if any. Held by pointer: its end is awaited in the destructor's
  // body, before the stream's metadata goes (and TBB's task_group, a member of it, may throw
  // from its destructor, which an overrider of Archive's noexcept destructor cannot hold).
  std::unique_ptr<GridWrite> writing_ = std::make_unique<GridWrite>();
  bool pair_writing_ = false;  // writing_ writes a grid and its derived grid: both scratch grids
};

// A grid of the run's geometry ready to describe and stream (its tree empty).
template <typename GridT>
typename GridT::Ptr empty_grid(const GridGeometry& g, typename GridT::ValueType background) {
  typename GridT::Ptr grid = GridT::create(background);
  grid->setTransform(voxel_transform(g));
  return grid;
}

void describe(openvdb::GridBase& grid, const std::string& name, const std::string& units, const std::string& quantity,
              const VdbWriteContext& ctx) {
  if (ctx.progress) {
    ctx.progress->stop_point();  // a grid at a time: the unfinished file is discarded with its run directory
    ctx.progress->advance(1);
  }
  grid.setName(name);
  grid.setSaveFloatAsHalf(false);  // 1e6 Gy would become inf
  grid.insertMeta("units", openvdb::StringMetadata(units));
  grid.insertMeta("quantity", openvdb::StringMetadata(quantity));
  grid.insertMeta("dose_model", openvdb::StringMetadata(dose_model_name(ctx.materials.model)));
  grid.insertMeta("beam_energy_keV", openvdb::DoubleMetadata(ctx.scene.beam.mean_energy_keV()));
  grid.insertMeta("time_s", openvdb::DoubleMetadata(ctx.time_s));
}

// A crossing or mask grid's threshold: one dose when every material carrying the label gives
// it the same, else each material's ("NMC811=1e+06,EC=20000").
void describe_threshold(openvdb::GridBase& grid, const VdbWriteContext& ctx, const ThresholdScale& scale, int label) {
  const double common = scale.common_dose(label);
  if (!std::isnan(common)) {
    grid.insertMeta("threshold_Gy", openvdb::DoubleMetadata(common));
    return;
  }
  std::string by_material;
  for (int m = 0; m < scale.n_materials; ++m)
    if (scale.applies(m, label))
      by_material += (by_material.empty() ? "" : ",") + ctx.materials.materials[m].name + "=" + fmt_g(scale.at(m, label), 9);
  grid.insertMeta("threshold_Gy_by_material", openvdb::StringMetadata(by_material));
}

// The `density` fog volume Blender renders as is (described, its tree empty).
openvdb::FloatGrid::Ptr density_grid(const VdbWriteContext& ctx, const FogScale& scale, const std::string& quantity) {
  auto fog = empty_grid<openvdb::FloatGrid>(ctx.grid.geometry, 0.0f);
  describe(*fog, "density", "1", quantity, ctx);
  fog->setGridClass(openvdb::GRID_FOG_VOLUME);
  fog->insertMeta("log10_dose_min_Gy", openvdb::DoubleMetadata(scale.lo));
  fog->insertMeta("log10_dose_max_Gy", openvdb::DoubleMetadata(scale.hi));
  return fog;
}

// A gathered leaf of dose (active on matter) turned into density in place, mask and all.
struct FogLeaf {
  FogScale scale;
  void operator()(float* values, LeafMask& mask) const {
    static_assert(kFogLeafValues == LeafMask::SIZE && sizeof(LeafMask::Word) == sizeof(uint64_t));
    uint64_t words[LeafMask::WORD_COUNT];
    for (openvdb::Index w = 0; w < LeafMask::WORD_COUNT; ++w) words[w] = mask.getWord<LeafMask::Word>(w);
    fog_density_leaf(scale, values, words);
    for (openvdb::Index w = 0; w < LeafMask::WORD_COUNT; ++w) mask.getWord<LeafMask::Word>(w) = words[w];
  }
};

// The dose of each voxel of matter: the `dose` grid's values, and what `density` is made of.
MatterValue dose_of_matter(const VdbWriteContext& ctx, const float* dose_Gy) {
  return MatterValue{ctx.grid.material.data(), dose_Gy};
}

// The `density` fog volume Blender renders as is: log10 of dose mapped to [0, 1] over the
// four decades below 10^log10_dose_max; zero (inactive) below. The dose gathered, then turned
// into density a leaf at a time.
void write_density(VdbFileWriter& out, const VdbWriteContext& ctx, const float* dose_Gy, double log10_dose_max,
                   const std::string& quantity) {
  const FogScale scale(log10_dose_max);
  out.write_dense(density_grid(ctx, scale, quantity), dose_Gy, dose_of_matter(ctx, dose_Gy), FogLeaf{scale});
}

// Releases a dense array once its grids are written (when `now`), after `out` forgets it.
template <typename Vector>
void release(VdbFileWriter& out, Vector& v, bool now) {
  if (!now) return;
  out.forget(v.data(), v.size());
  Vector().swap(v);
}

// Parallel maximum of a dense array (0 when empty or all below 0).
float max_or_zero(const float* data, int64_t n) {
  return tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, n), 0.0f,
      [&](const tbb::blocked_range<int64_t>& r, float m) {
        return r.empty() ? m : std::max(m, max_of(data + r.begin(), static_cast<int64_t>(r.size())));
      },
      [](float a, float b) { return std::max(a, b); });
}

}  // namespace

void write_dose_vdb(CheckedFile& file, const VdbWriteContext& ctx, DoseResults& r, bool release_as_written) {
  init_openvdb();
  const TransportTables& tt = r.tables;
  const ThresholdScale& thresholds = tt.thresholds;
  const size_t n_thr = static_cast<size_t>(thresholds.count());
  if (ctx.progress)
    ctx.progress->start("writing dose.vdb", static_cast<int64_t>(5 + 2 * n_thr + tt.component_grid_names.size()));
  const GridGeometry& g = ctx.grid.geometry;
  const std::vector<MaterialId>& material = ctx.grid.material;
  auto is_matter = [&](int64_t v) { return material[v] != kVoidId; };
  const float dose_max = max_or_zero(r.dose_Gy.data(), r.voxels);

  // The grids in the order the format page lists them.
  std::vector<std::string> names{"material", "dose", "dose_rate_peak", "dose_rate_mean"};
  for (const auto& label : thresholds.labels) names.push_back("t_" + label + "_s");
  for (const auto& label : thresholds.labels) names.push_back("dose_gt_" + label);
  for (const auto& c : tt.component_grid_names) names.push_back("dose:" + c);
  if (dose_max > 0) names.push_back("density");
  openvdb::MetaMap file_meta;
  // The file also names its grids (`grids`): files of dosemap 0.2 hold an Int32 `material`
  // grid, which python3-openvdb can read by name only.
  file_meta.insertMeta("title", openvdb::StringMetadata(ctx.scene.title));
  file_meta.insertMeta("creator", openvdb::StringMetadata("dosemap " + ctx.version));
  file_meta.insertMeta("dose_model", openvdb::StringMetadata(dose_model_name(ctx.materials.model)));
  VdbFileWriter out(file, ctx, file_meta, names);

  // A float grid holding whole numbers (exact up to 2^24; materials are fewer than 2^16):
  // python3-openvdb (Debian's pyopenvdb) cannot open a file that holds an Int32 grid at all
  // (readAll, readAllGridMetadata), and Blender and ParaView read float grids as they are.
  auto mat = empty_grid<openvdb::FloatGrid>(g, -1.0f);
  describe(*mat, "material", "index", "material index into summary.json materials (scene order)", ctx);
  std::string material_names;
  for (const auto& m : ctx.materials.materials) material_names += (material_names.empty() ? "" : ",") + m.name;
  mat->insertMeta("materials", openvdb::StringMetadata(material_names));
  out.write_dense(mat, nullptr, [&](int64_t v, float& value) {
    if (!is_matter(v)) return false;
    value = static_cast<float>(material[v]);
    return true;
  });

  // A float grid of one dense array, active where active(v); returns it (described) so that
  // more metadata can be added before it is written by the caller's `write`.
  auto float_grid = [&](const std::string& name, const std::string& units, const std::string& quantity,
                        float background) {
    auto grid = empty_grid<openvdb::FloatGrid>(g, background);
    describe(*grid, name, units, quantity, ctx);
    return grid;
  };
  // A grid of one dense array, active where `rule` (a MatterValue of that array) says.
  auto write_values = [&](const openvdb::FloatGrid::Ptr& grid, const MatterValue& rule) {
    out.write_dense(grid, rule.data, rule);
  };
  auto of_matter = [&](const float* data) { return MatterValue{material.data(), data}; };

  const float* dose = r.dose_Gy.data();
  write_values(float_grid("dose", "Gy", "absorbed dose", 0.0f), of_matter(dose));
  write_values(float_grid("dose_rate_peak", "Gy/s", "peak dose rate: max over exposures of dose increment / duration",
                           0.0f),
               of_matter(r.rate_peak_Gy_s.data()));
  release(out, r.rate_peak_Gy_s, release_as_written);
  write_values(float_grid("dose_rate_mean", "Gy/s", "dose-weighted mean dose rate: sum(dD^2/dt) / sum(dD)", 0.0f),
               of_matter(r.rate_mean_Gy_s.data()));
  release(out, r.rate_mean_Gy_s, release_as_written);

  for (int t = 0; t < thresholds.count(); ++t) {
    const float* cross = r.crossing(t);
    const std::string& label = thresholds.labels[t];
    auto grid = float_grid("t_" + label + "_s", "s", "time from scan start when the dose first reached " + label, -1.0f);
    describe_threshold(*grid, ctx, thresholds, t);
    MatterValue reached = of_matter(cross);
    reached.at_least_zero = true;  // -1: never reached
    write_values(grid, reached);
  }
  release(out, r.crossing_s, release_as_written);

  for (int t = 0; t < thresholds.count(); ++t) {
    auto mask = empty_grid<openvdb::BoolGrid>(g, false);
    describe(*mask, "dose_gt_" + thresholds.labels[t], "1", "dose >= " + thresholds.labels[t] + " threshold", ctx);
    describe_threshold(*mask, ctx, thresholds, t);
    // thresholds.reached, from a table of one threshold per material (void's never reached):
    // the scale's own lookup per voxel made the masks the slowest grids to gather.
    const std::vector<double> reached_at = thresholds.doses_of_label(t);
    DOSEMAP_BUG_CHECK(thresholds.n_materials < kVoidId, "void's id is above every material's");
    const double* at = reached_at.data();
    const MaterialId void_at = static_cast<MaterialId>(thresholds.n_materials);
    // The same as floats, for the lines' loops: x >= least_float_at_or_above(t) is double(x) >= t.
    std::vector<float> reached_at_float;
    for (const double t : reached_at) reached_at_float.push_back(least_float_at_or_above(t));
    const float* at_float = reached_at_float.data();
    out.write_mask(mask, dose, ReachedMask{dose, material.data(), at, at_float, void_at});
  }

  const auto presence = component_presence(tt);
  for (size_t c = 0; c < tt.component_grid_names.size(); ++c) {
    const std::string& component = tt.component_grid_names[c];
    std::vector<uint8_t> present(presence[c].begin(), presence[c].end());
    DOSEMAP_BUG_CHECK(present.size() < kVoidId, "void's id is above every material's");
    MatterValue holds = of_matter(r.component_dose(static_cast<int>(c)));
    holds.void_at = static_cast<MaterialId>(present.size());
    present.push_back(0);  // void
    holds.present = present.data();
    write_values(float_grid("dose:" + component, "Gy", "dose to component " + component + " where it is present", 0.0f),
                 holds);
  }
  release(out, r.component_dose_Gy, release_as_written);

  if (dose_max > 0)
    write_density(out, ctx, dose, std::log10(dose_max), "log-scaled dose for rendering: (log10(dose) - log10_min) / 4");
  release(out, r.dose_Gy, release_as_written);
  out.finish();
}

namespace {

// `dose` and `density` of one dose array on ctx.grid (a frame, or the preview), then the
// float grids of `more` (already described, each with its values), with the file's
// metadata plus `extra`.
struct MoreGrid {
  openvdb::FloatGrid::Ptr grid;
  const float* values;  // active where >= 0
};

void write_dose_and_density(CheckedFile& file, const VdbWriteContext& ctx, const float* dose_Gy, double log10_dose_max,
                            const std::string& dose_quantity, const std::string& density_quantity,
                            openvdb::MetaMap extra, const std::vector<MoreGrid>& more = {},
                            FrameSeries* series = nullptr) {
  init_openvdb();
  const GridGeometry& g = ctx.grid.geometry;
  std::vector<std::string> names{"dose", "density"};
  for (const MoreGrid& m : more) names.push_back(m.grid->getName());
  extra.insertMeta("title", openvdb::StringMetadata(ctx.scene.title));
  extra.insertMeta("creator", openvdb::StringMetadata("dosemap " + ctx.version));
  VdbFileWriter out(file, ctx, extra, names);
  auto dose = empty_grid<openvdb::FloatGrid>(g, 0.0f);
  describe(*dose, "dose", "Gy", dose_quantity, ctx);
  // density from the dose's leaves, the arrays read once for both.
  const FogScale scale(log10_dose_max);
  std::optional<VdbFileWriter::FrameRows> frame;
  if (series)
    frame = VdbFileWriter::FrameRows{{series->id, &ctx.grid, dose_Gy, log10_dose_max},
                                     {series->last_dose_Gy ? series->id : 0, &ctx.grid, series->last_dose_Gy,
                                      series->last_log10_dose_max}};
  out.write_dense_and_derived(dose, dose_Gy, dose_of_matter(ctx, dose_Gy), density_grid(ctx, scale, density_quantity),
                              FogLeaf{scale}, frame ? &*frame : nullptr);
  for (const MoreGrid& m : more)
    out.write_dense(m.grid, m.values, [&](int64_t v, float& value) {
      if (!(m.values[v] >= 0)) return false;
      value = m.values[v];
      return true;
    });
  out.finish();
  if (series) {
    series->last_dose_Gy = dose_Gy;
    series->last_log10_dose_max = log10_dose_max;
  }
}

}  // namespace

FrameSeries::FrameSeries() : id([] {
  static std::atomic<uint64_t> series{0};
  return ++series;
}()) {}

void write_frame_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* frame_dose, double time_s, int frame,
                     double log10_dose_max, FrameSeries* series) {
  VdbWriteContext at_frame = ctx;
  at_frame.time_s = time_s;
  openvdb::MetaMap meta;
  meta.insertMeta("time_s", openvdb::DoubleMetadata(time_s));
  meta.insertMeta("frame", openvdb::Int32Metadata(frame));
  write_dose_and_density(file, at_frame, frame_dose, log10_dose_max, "absorbed dose accumulated by time_s",
                         "log-scaled dose for rendering, on the final dose's scale", meta, {}, series);
}

void write_preview_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* dose_Gy, const ThresholdScale& scale,
                       const std::vector<const float*>& crossing_s, int factor, double log10_dose_max) {
  init_openvdb();
  const std::string covered = "over the " + std::to_string(factor) + "^3 voxels of dose.vdb each preview voxel covers";
  std::vector<MoreGrid> crossings;
  for (int t = 0; t < scale.count(); ++t) {
    auto grid = empty_grid<openvdb::FloatGrid>(ctx.grid.geometry, -1.0f);
    describe(*grid, "t_" + scale.labels[t] + "_s", "s",
             "earliest time from scan start when the dose reached " + scale.labels[t] + ", " + covered, ctx);
    describe_threshold(*grid, ctx, scale, t);
    crossings.push_back({grid, crossing_s[t]});
  }
  openvdb::MetaMap meta;
  meta.insertMeta("preview_factor", openvdb::Int32Metadata(factor));
  write_dose_and_density(file, ctx, dose_Gy, log10_dose_max, "absorbed dose, the maximum " + covered,
                         "log-scaled dose for rendering", meta, crossings);
}

namespace {

openvdb::GridPtrVecPtr read_all(const std::string& path, openvdb::MetaMap::Ptr* meta) {
  init_openvdb();
  if (!std::filesystem::is_regular_file(path))
    throw UserError(SourcePos{path, 0, 0}, "no such VDB file", "give the path of a dose.vdb written by dosemap run");
  // OpenVDB trusts the sizes it reads: a cut or altered file can make it allocate or read
  // without bound. The integrity record settles that first.
  verify_integrity_footer(path);
  try {
    openvdb::io::File file(path);
    file.open();
    auto grids = file.getGrids();
    if (meta) *meta = file.getMetadata();
    file.close();
    return grids;
  } catch (const openvdb::Exception& e) {
    throw UserError(SourcePos{path, 0, 0}, std::string("cannot read as OpenVDB: ") + e.what(),
                    "the file may be truncated or not a .vdb");
  } catch (const std::bad_alloc&) {
    throw UserError(SourcePos{path, 0, 0}, "cannot read as OpenVDB: it asks for more memory than there is",
                    "the file is not a dose.vdb written by dosemap");
  }
}

openvdb::GridBase::Ptr find_grid(const openvdb::GridPtrVecPtr& grids, const std::string& path, const std::string& name) {
  for (auto& gr : *grids)
    if (gr->getName() == name) return gr;
  throw UserError(SourcePos{path, 0, 0}, "has no grid named '" + name + "'", "run `dosemap info` to list its grids");
}

}  // namespace

VdbFileSummary read_vdb_summary(const std::string& path) {
  openvdb::MetaMap::Ptr meta;
  auto grids = read_all(path, &meta);
  VdbFileSummary out;
  if (meta)
    for (auto it = meta->beginMeta(); it != meta->endMeta(); ++it) out.metadata[it->first] = it->second->str();
  for (auto& base : *grids) {
    VdbGridSummary s;
    s.name = base->getName();
    s.type = base->valueType();
    s.grid_class = openvdb::GridBase::gridClassToString(base->getGridClass());
    const openvdb::CoordBBox box = base->evalActiveVoxelBoundingBox();
    for (int a = 0; a < 3; ++a) {
      s.index_min[a] = box.min()[a];
      s.index_max[a] = box.max()[a];
    }
    const openvdb::Vec3d vs = base->voxelSize();
    s.voxel_mm = {vs[0], vs[1], vs[2]};
    s.active_voxels = static_cast<int64_t>(base->activeVoxelCount());
    for (auto it = base->beginMeta(); it != base->endMeta(); ++it)
      if (it->first.rfind("__", 0) != 0) s.metadata[it->first] = it->second->str();
    auto stats = [&](auto grid) {
      double lo = 0, hi = 0, sum = 0;
      bool first = true;
      for (auto v = grid->cbeginValueOn(); v; ++v) {  // voxels and active tiles
        const double x = static_cast<double>(*v);
        lo = first ? x : std::min(lo, x);
        hi = first ? x : std::max(hi, x);
        sum += x * static_cast<double>(v.getVoxelCount());
        first = false;
      }
      s.leaves = static_cast<int64_t>(grid->tree().leafCount());
      s.active_tiles = static_cast<int64_t>(grid->tree().activeTileCount());
      s.min = lo;
      s.max = hi;
      s.mean = s.active_voxels > 0 ? sum / static_cast<double>(s.active_voxels) : 0;
    };
    if (auto f = openvdb::GridBase::grid<openvdb::FloatGrid>(base)) stats(f);
    else if (auto i = openvdb::GridBase::grid<openvdb::Int32Grid>(base)) stats(i);
    else if (auto b = openvdb::GridBase::grid<openvdb::BoolGrid>(base)) stats(b);
    out.grids.push_back(s);
  }
  return out;
}

namespace {

// A grid of the file as a dense array on `g`; `background` where inactive.
template <typename GridT, typename T>
std::vector<T> read_dense(const std::string& path, const std::string& name, const GridGeometry& g, T background,
                          const char* kind) {
  auto grids = read_all(path, nullptr);
  auto grid = openvdb::GridBase::grid<GridT>(find_grid(grids, path, name));
  if (!grid) throw UserError(SourcePos{path, 0, 0}, "grid '" + name + "' is not " + kind);
  std::vector<T> out(static_cast<size_t>(g.voxels()), background);
  const openvdb::CoordBBox on_grid(openvdb::Coord(0), openvdb::Coord(int(g.dims[0] - 1), int(g.dims[1] - 1),
                                                                   int(g.dims[2] - 1)));
  for (auto v = grid->cbeginValueOn(); v; ++v) {  // voxels and active tiles
    openvdb::CoordBBox box;
    v.getBoundingBox(box);
    box.intersect(on_grid);
    if (box.empty()) continue;
    for (int k = box.min().z(); k <= box.max().z(); ++k)
      for (int j = box.min().y(); j <= box.max().y(); ++j)
        for (int i = box.min().x(); i <= box.max().x(); ++i) out[g.index(i, j, k)] = static_cast<T>(*v);
  }
  return out;
}

}  // namespace

std::vector<float> read_float_grid(const std::string& path, const std::string& name, const GridGeometry& g,
                                   float background) {
  return read_dense<openvdb::FloatGrid>(path, name, g, background, "a float grid");
}

std::vector<int32_t> read_material_grid(const std::string& path, const GridGeometry& g) {
  const std::vector<float> stored = read_dense<openvdb::FloatGrid>(path, "material", g, -1.0f, "a float grid");
  std::vector<int32_t> out(stored.size());
  for (size_t v = 0; v < stored.size(); ++v) {
    out[v] = static_cast<int32_t>(stored[v]);
    if (static_cast<float>(out[v]) != stored[v] || out[v] < -1)
      throw UserError(SourcePos{path, 0, 0}, "the material grid holds " + fmt_g(stored[v]) + ", not a material index",
                      "read a dose.vdb written by dosemap run");
  }
  return out;
}

TopologyBytes value_less_topology_both_ways(const GridGeometry& g, const std::vector<uint64_t>& leaf_masks,
                                            const std::vector<uint8_t>& tile, const std::vector<float>& tile_values,
                                            float background) {
  init_openvdb();
  using LeafT = openvdb::FloatTree::LeafNodeType;
  const LeafBlocks blocks(g);
  const size_t n = static_cast<size_t>(blocks.count());
  DOSEMAP_BUG_CHECK(leaf_masks.size() == n * kLeafDim && tile.size() == n && tile_values.size() == n,
                    "a mask and a tile per block");
  std::vector<LeafMask> masks(n);
  std::vector<uint32_t> tile_bits(n, 0);
  openvdb::FloatTree tree(background);
  for (size_t b = 0; b < n; ++b) {
    for (int x = 0; x < kLeafDim; ++x) masks[b].template getWord<LeafMask::Word>(x) = leaf_masks[b * kLeafDim + x];
    if (tile[b]) tile_bits[b] = bits_of(tile_values[b]);
    if (!masks[b].isOff()) {
      auto* leaf = new LeafT(openvdb::PartialCreate(), blocks.origin(static_cast<int64_t>(b)), background, false);
      leaf->setValueMask(masks[b]);
      tree.addLeaf(leaf);
    }
  }
  for (size_t b = 0; b < n; ++b)
    if (tile[b]) tree.addTile(kTileLevel, blocks.origin(static_cast<int64_t>(b)), tile_values[b], true);
  TopologyBytes out;
  auto compressed = [] {
    auto os = std::make_unique<std::ostringstream>();
    openvdb::io::setDataCompression(*os, openvdb::io::COMPRESS_BLOSC | openvdb::io::COMPRESS_ACTIVE_MASK);
    return os;
  };
  const auto ours = compressed(), openvdbs = compressed();
  out.our_mem_bytes = write_value_less_topology<openvdb::FloatTree>(*ours, blocks, masks, tile, tile_bits, background);
  tree.writeTopology(*openvdbs, /*saveFloatAsHalf=*/false);
  out.ours = ours->str();
  out.openvdbs = openvdbs->str();
  out.openvdb_mem_bytes = static_cast<int64_t>(tree.memUsage());
  return out;
}

std::vector<uint8_t> read_bool_grid(const std::string& path, const std::string& name, const GridGeometry& g) {
  return read_dense<openvdb::BoolGrid>(path, name, g, uint8_t(0), "a bool grid");
}

}  // namespace dosemap
