#include "host/grid/label_grid.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "host/common/text.h"
#include "host/scene/label_volume.h"

namespace dosemap {

namespace {

// Labels are exact integers up to 2^53 when read as double.
constexpr double kLargestLabel = 9007199254740992.0;
// A dense table covers label spans up to this; wider spans are looked up in a hash map.
constexpr int64_t kDenseLabelSpan = int64_t(1) << 20;
// What a label without a name maps to.
constexpr int32_t kUnnamed = -2;

// Label value -> material id (kVoidId for void), kUnnamed for a value the scene does not name.
class LabelTable {
 public:
  explicit LabelTable(const Scene& scene) {
    const std::vector<VolumeLabel>& labels = scene.sample.volume.labels;
    if (labels.empty()) return;
    lo_ = labels.front().value;
    hi_ = labels.back().value;  // the reader keeps them ascending
    const bool dense = static_cast<double>(hi_) - static_cast<double>(lo_) < static_cast<double>(kDenseLabelSpan);
    if (dense) dense_.assign(static_cast<size_t>(hi_ - lo_ + 1), kUnnamed);
    for (const VolumeLabel& l : labels) {
      const int m = scene.material_index(l.material);
      const int32_t id = m < 0 ? kVoidId : m;
      if (dense) dense_[static_cast<size_t>(l.value - lo_)] = id;
      else sparse_[l.value] = id;
    }
  }
  int32_t operator()(int64_t label) const {
    if (label < lo_ || label > hi_) return kUnnamed;
    if (!dense_.empty()) return dense_[static_cast<size_t>(label - lo_)];
    const auto it = sparse_.find(label);
    return it == sparse_.end() ? kUnnamed : it->second;
  }

 private:
  int64_t lo_ = 1, hi_ = 0;
  std::vector<int32_t> dense_;
  std::unordered_map<int64_t, int32_t> sparse_;
};

// Names the place of value n of a slice in the file's own terms.
std::string place(const ArrayStack& s, int64_t slice, int64_t n) {
  const int64_t row = n / s.dims[2], column = n % s.dims[2];
  if (s.source == ArrayStack::Source::kTiff)
    return "page " + std::to_string(slice + 1) + ", row " + std::to_string(row) + ", column " + std::to_string(column);
  return "index [" + std::to_string(slice) + ", " + std::to_string(row) + ", " + std::to_string(column) + "]" +
         (s.reversed ? " (the array's axes reversed: it is in Fortran order)" : "");
}

// For each index n along one axis of g, the volume's index whose voxel holds n's centre, or
// -1 outside the volume.
std::vector<int64_t> volume_index(const GridGeometry& g, const GridGeometry& volume, int a) {
  std::vector<int64_t> out(static_cast<size_t>(g.dims[a]));
  for (int64_t n = 0; n < g.dims[a]; ++n) {
    const double at = (g.center_um(a, n) - volume.origin_um[a]) / volume.voxel_um[a];
    const int64_t v = static_cast<int64_t>(std::floor(at));
    out[n] = v >= 0 && v < volume.dims[a] ? v : -1;
  }
  return out;
}

}  // namespace

void paint_label_volume(const Scene& scene, const GridGeometry& g, std::vector<MaterialId>& material) {
  const VolumeSpec& spec = scene.sample.volume;
  DOSEMAP_BUG_CHECK(spec.present, "no label volume to paint");
  DOSEMAP_BUG_CHECK(static_cast<int64_t>(material.size()) == g.voxels(), "a material grid of another size");
  const GridGeometry volume = grid_geometry(scene);
  const LabelTable table(scene);
  auto fail = [&](const std::string& what, const std::string& fix) {
    throw UserError(spec.file_where, "[sample.volume] file '" + spec.path + "': " + what, fix);
  };
  ArrayStack stack;
  try {
    stack = open_label_volume(spec);
  } catch (const UserError& e) {
    fail(e.diagnostics().front().what, e.diagnostics().front().fix);
  }
  if (stack.dims != spec.file_dims)
    fail("has changed since the scene was read", "run again (and leave the file alone while dosemap reads it)");

  // The file's axes in the sample frame: slowest (the slices), rows, columns.
  const std::array<int, 3>& axis = spec.file_axis_to_sample;
  const int64_t stride_of[3] = {1, g.dims[0], g.dims[0] * g.dims[1]};
  std::array<std::vector<int64_t>, 3> at;  // per file axis: g's index -> the volume's
  for (int f = 0; f < 3; ++f) {
    at[f] = volume_index(g, volume, axis[f]);
    if (spec.file_axis_flipped[f])  // the file's index 0 is the axis' highest voxel
      for (int64_t& v : at[f]) v = v < 0 ? v : stack.dims[f] - 1 - v;
  }
  // The indices of g along the slice axis that each slice reaches (ascending: a range).
  std::vector<std::pair<int64_t, int64_t>> reach(static_cast<size_t>(stack.dims[0]), {0, 0});
  for (int64_t n = 0; n < g.dims[axis[0]]; ++n)
    if (const int64_t s = at[0][n]; s >= 0) {
      if (reach[s].second == reach[s].first) reach[s].first = n;  // ascending n: the first seen
      reach[s].second = n + 1;
    }

  std::vector<MaterialId> ids(static_cast<size_t>(stack.slice_values()));
  auto paint_slice = [&](int64_t slice, const double* values) {
    // Every label of the file is checked, whether or not g reaches it.
    for (size_t n = 0; n < ids.size(); ++n) {
      const double v = values[n];
      if (!(std::fabs(v) <= kLargestLabel) || v != std::floor(v))
        fail("holds " + fmt_g(v, 8) + " at " + place(stack, slice, static_cast<int64_t>(n)) +
                 ", which is not an integer label",
             "give the segmented volume (integer labels), not the reconstructed one");
      const int64_t label = static_cast<int64_t>(v);
      const int32_t id = table(label);
      if (id == kUnnamed)
        fail("holds label " + std::to_string(label) + " (at " + place(stack, slice, static_cast<int64_t>(n)) +
                 "), which [sample.volume] labels does not name",
             "name it, e.g. labels = { ..., " + std::to_string(label) + " = \"void\" }");
      ids[n] = static_cast<MaterialId>(id);
    }
    for (int64_t n0 = reach[slice].first; n0 < reach[slice].second; ++n0)
      for (int64_t n1 = 0; n1 < g.dims[axis[1]]; ++n1) {
        const int64_t r = at[1][n1];
        if (r < 0) continue;
        const int64_t base = n0 * stride_of[axis[0]] + n1 * stride_of[axis[1]];
        const MaterialId* row = ids.data() + r * stack.dims[2];
        for (int64_t n2 = 0; n2 < g.dims[axis[2]]; ++n2)
          if (const int64_t c = at[2][n2]; c >= 0) material[base + n2 * stride_of[axis[2]]] = row[c];
      }
  };
  try {
    read_stack_slices(stack, stack.dims[0], paint_slice);
  } catch (const UserError& e) {
    const Diagnostic& d = e.diagnostics().front();
    if (d.where.line > 0) throw;  // already at the scene's key
    fail(d.what, d.fix);          // the file's own problem (truncated, damaged)
  }
}

}  // namespace dosemap
