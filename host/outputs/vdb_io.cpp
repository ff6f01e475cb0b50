#include "host/outputs/vdb_io.h"

#include <openvdb/openvdb.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "host/common/errors.h"
#include "host/common/progress.h"
#include "host/common/text.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/integrity_footer.h"

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

// Builds a grid from dense data in parallel, one 8^3 leaf per task; `value(v)` gives the
// value of voxel index v, or nothing to leave it inactive.
template <typename GridT, typename ValueF>
typename GridT::Ptr build_grid(const GridGeometry& g, typename GridT::ValueType background, ValueF value) {
  using TreeT = typename GridT::TreeType;
  using LeafT = typename TreeT::LeafNodeType;
  constexpr int64_t kDim = LeafT::DIM;
  const int64_t bx = (g.dims[0] + kDim - 1) / kDim, by = (g.dims[1] + kDim - 1) / kDim, bz = (g.dims[2] + kDim - 1) / kDim;
  std::vector<LeafT*> leaves(static_cast<size_t>(bx * by * bz), nullptr);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, bx * by * bz), [&](const tbb::blocked_range<int64_t>& range) {
    for (int64_t b = range.begin(); b != range.end(); ++b) {
      const int64_t i0 = (b % bx) * kDim, j0 = ((b / bx) % by) * kDim, k0 = (b / (bx * by)) * kDim;
      LeafT* leaf = nullptr;
      for (int64_t k = k0; k < std::min(k0 + kDim, g.dims[2]); ++k)
        for (int64_t j = j0; j < std::min(j0 + kDim, g.dims[1]); ++j)
          for (int64_t i = i0; i < std::min(i0 + kDim, g.dims[0]); ++i) {
            typename GridT::ValueType v;
            if (!value(g.index(i, j, k), v)) continue;
            if (!leaf) leaf = new LeafT(openvdb::Coord(int(i0), int(j0), int(k0)), background, false);
            leaf->setValueOn(LeafT::coordToOffset(openvdb::Coord(int(i), int(j), int(k))), v);
          }
      leaves[b] = leaf;
    }
  });
  typename TreeT::Ptr tree(new TreeT(background));
  for (LeafT* leaf : leaves)
    if (leaf) tree->addLeaf(leaf);  // the tree takes ownership
  typename GridT::Ptr grid = GridT::create(tree);
  grid->setTransform(voxel_transform(g));
  return grid;
}

void describe(openvdb::GridBase& grid, const std::string& name, const std::string& units, const std::string& quantity,
              const VdbWriteContext& ctx) {
  if (ctx.progress) ctx.progress->advance(1);
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

// The `density` fog volume Blender renders as is: log10 of dose mapped to [0, 1] over the
// four decades below 10^log10_dose_max; zero (inactive) below.
template <typename DoseAt>
openvdb::FloatGrid::Ptr density_grid(const VdbWriteContext& ctx, DoseAt dose_at, double log10_dose_max,
                                     const std::string& quantity) {
  const std::vector<MaterialId>& material = ctx.grid.material;
  const double hi = log10_dose_max, lo = hi - 4.0;
  auto fog = build_grid<openvdb::FloatGrid>(ctx.grid.geometry, 0.0f, [&](int64_t v, float& out) {
    const double d = dose_at(v);
    if (material[v] == kVoidId || !(d > 0)) return false;
    const double x = (std::log10(d) - lo) / (hi - lo);
    if (x <= 0) return false;
    out = static_cast<float>(std::min(1.0, x));
    return true;
  });
  describe(*fog, "density", "1", quantity, ctx);
  fog->setGridClass(openvdb::GRID_FOG_VOLUME);
  fog->insertMeta("log10_dose_min_Gy", openvdb::DoubleMetadata(lo));
  fog->insertMeta("log10_dose_max_Gy", openvdb::DoubleMetadata(hi));
  return fog;
}

template <typename Vector>
void release(Vector& v) {
  Vector().swap(v);
}

// OpenVDB's io::File writes through an ofstream it never checks (a full disk gives a short
// file and no error). Its Archive base writes the same seekable file format to any stream:
// ours checks every write.
class StreamArchive : public openvdb::io::Archive {
 public:
  void write_file(std::ostream& os, const openvdb::GridPtrVec& grids, const openvdb::MetaMap& meta) {
    setCompression(openvdb::io::COMPRESS_BLOSC | openvdb::io::COMPRESS_ACTIVE_MASK);
    Archive::write(os, grids, /*seekable=*/true, meta);
  }
};

void write_grids(CheckedFile& file, const openvdb::GridPtrVec& grids, const openvdb::MetaMap& meta) {
  StreamArchive().write_file(file.stream(), grids, meta);
  append_integrity_footer(file);
}

}  // namespace

void write_dose_vdb(CheckedFile& file, const VdbWriteContext& ctx, DoseResults&& r) {
  init_openvdb();
  const size_t n_thr = static_cast<size_t>(r.tables.thresholds.count());
  if (ctx.progress)
    ctx.progress->start("writing dose.vdb", static_cast<int64_t>(5 + 2 * n_thr + r.tables.component_grid_names.size()));
  const GridGeometry& g = ctx.grid.geometry;
  const std::vector<MaterialId>& material = ctx.grid.material;
  const TransportTables& tt = r.tables;
  openvdb::GridPtrVec grids;
  auto is_matter = [&](int64_t v) { return material[v] != kVoidId; };

  auto mat = build_grid<openvdb::Int32Grid>(g, -1, [&](int64_t v, int32_t& out) {
    if (!is_matter(v)) return false;
    out = material[v];
    return true;
  });
  describe(*mat, "material", "index", "material index into summary.json materials (scene order)", ctx);
  std::string names;
  for (const auto& m : ctx.materials.materials) names += (names.empty() ? "" : ",") + m.name;
  mat->insertMeta("materials", openvdb::StringMetadata(names));
  grids.push_back(mat);

  auto float_grid = [&](const std::string& name, const std::string& units, const std::string& quantity,
                        const float* data, float background, auto active) {
    auto grid = build_grid<openvdb::FloatGrid>(g, background, [&](int64_t v, float& out) {
      if (!active(v)) return false;
      out = data[v];
      return true;
    });
    describe(*grid, name, units, quantity, ctx);
    grids.push_back(grid);
    return grid;
  };

  float_grid("dose_rate_peak", "Gy/s", "peak dose rate: max over exposures of dose increment / duration",
             r.rate_peak_Gy_s.data(), 0.0f, is_matter);
  release(r.rate_peak_Gy_s);
  float_grid("dose_rate_mean", "Gy/s", "dose-weighted mean dose rate: sum(dD^2/dt) / sum(dD)", r.rate_mean_Gy_s.data(),
             0.0f, is_matter);
  release(r.rate_mean_Gy_s);

  const ThresholdScale& thresholds = tt.thresholds;
  for (int t = 0; t < thresholds.count(); ++t) {
    const float* cross = r.crossing(t);
    const std::string& label = thresholds.labels[t];
    auto grid = float_grid("t_" + label + "_s", "s", "time from scan start when the dose first reached " + label, cross,
                           -1.0f, [&](int64_t v) { return is_matter(v) && cross[v] >= 0; });
    describe_threshold(*grid, ctx, thresholds, t);
  }
  release(r.crossing_s);

  const auto presence = component_presence(tt);
  for (size_t c = 0; c < tt.component_grid_names.size(); ++c) {
    const float* dose_c = r.component_dose(static_cast<int>(c));
    float_grid("dose:" + tt.component_grid_names[c], "Gy",
               "dose to component " + tt.component_grid_names[c] + " where it is present", dose_c, 0.0f,
               [&](int64_t v) { return is_matter(v) && presence[c][material[v]]; });
  }
  release(r.component_dose_Gy);

  const float* dose = r.dose_Gy.data();
  float_grid("dose", "Gy", "absorbed dose", dose, 0.0f, is_matter);
  for (int t = 0; t < thresholds.count(); ++t) {
    auto mask = build_grid<openvdb::BoolGrid>(g, false, [&](int64_t v, bool& out) {
      if (!is_matter(v) || !thresholds.reached(material[v], t, dose[v])) return false;
      out = true;
      return true;
    });
    describe(*mask, "dose_gt_" + thresholds.labels[t], "1", "dose >= " + thresholds.labels[t] + " threshold", ctx);
    describe_threshold(*mask, ctx, thresholds, t);
    grids.push_back(mask);
  }

  float dose_max = 0;
  for (int64_t v = 0; v < r.voxels; ++v) dose_max = std::max(dose_max, dose[v]);
  if (dose_max > 0)
    grids.push_back(density_grid(ctx, [&](int64_t v) { return static_cast<double>(dose[v]); }, std::log10(dose_max),
                                 "log-scaled dose for rendering: (log10(dose) - log10_min) / 4"));
  release(r.dose_Gy);

  // File order as the format page lists the grids (built in another order to free memory early).
  auto rank = [](const std::string& n) {
    if (n == "material") return 0;
    if (n == "dose") return 1;
    if (n == "dose_rate_peak") return 2;
    if (n == "dose_rate_mean") return 3;
    if (n.rfind("t_", 0) == 0) return 4;
    if (n.rfind("dose_gt_", 0) == 0) return 5;
    if (n.rfind("dose:", 0) == 0) return 6;
    return 7;
  };
  std::stable_sort(grids.begin(), grids.end(),
                   [&](const openvdb::GridBase::Ptr& a, const openvdb::GridBase::Ptr& b) { return rank(a->getName()) < rank(b->getName()); });

  openvdb::MetaMap file_meta;
  // python3-openvdb cannot list a file holding an Int32 grid (readAll and
  // readAllGridMetadata fail), but reads file metadata and grids by name: name them here.
  std::string grid_names;
  for (const auto& gr : grids) grid_names += (grid_names.empty() ? "" : ",") + gr->getName();
  file_meta.insertMeta("grids", openvdb::StringMetadata(grid_names));
  file_meta.insertMeta("title", openvdb::StringMetadata(ctx.scene.title));
  file_meta.insertMeta("creator", openvdb::StringMetadata("dosemap " + ctx.version));
  file_meta.insertMeta("dose_model", openvdb::StringMetadata(dose_model_name(ctx.materials.model)));
  write_grids(file, grids, file_meta);
}

namespace {

// `dose` and `density` of one dose array on ctx.grid (a frame, or the preview), then `more`
// grids, with the file's metadata plus `extra`.
void write_dose_and_density(CheckedFile& file, const VdbWriteContext& ctx, const float* dose_Gy, double log10_dose_max,
                            const std::string& dose_quantity, const std::string& density_quantity,
                            openvdb::MetaMap extra, const openvdb::GridPtrVec& more = {}) {
  init_openvdb();
  const GridGeometry& g = ctx.grid.geometry;
  const std::vector<MaterialId>& material = ctx.grid.material;
  openvdb::GridPtrVec grids;
  auto dose = build_grid<openvdb::FloatGrid>(g, 0.0f, [&](int64_t v, float& out) {
    if (material[v] == kVoidId) return false;
    out = dose_Gy[v];
    return true;
  });
  describe(*dose, "dose", "Gy", dose_quantity, ctx);
  grids.push_back(dose);
  grids.push_back(density_grid(ctx, [&](int64_t v) { return static_cast<double>(dose_Gy[v]); }, log10_dose_max,
                               density_quantity));
  std::string names = "dose,density";
  for (const auto& grid : more) {
    grids.push_back(grid);
    names += "," + grid->getName();
  }
  extra.insertMeta("grids", openvdb::StringMetadata(names));
  extra.insertMeta("title", openvdb::StringMetadata(ctx.scene.title));
  extra.insertMeta("creator", openvdb::StringMetadata("dosemap " + ctx.version));
  write_grids(file, grids, extra);
}

}  // namespace

void write_frame_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* frame_dose, double time_s, int frame,
                     double log10_dose_max) {
  VdbWriteContext at_frame = ctx;
  at_frame.time_s = time_s;
  openvdb::MetaMap meta;
  meta.insertMeta("time_s", openvdb::DoubleMetadata(time_s));
  meta.insertMeta("frame", openvdb::Int32Metadata(frame));
  write_dose_and_density(file, at_frame, frame_dose, log10_dose_max, "absorbed dose accumulated by time_s",
                         "log-scaled dose for rendering, on the final dose's scale", meta);
}

void write_preview_vdb(CheckedFile& file, const VdbWriteContext& ctx, const float* dose_Gy, const ThresholdScale& scale,
                       const std::vector<const float*>& crossing_s, int factor, double log10_dose_max) {
  init_openvdb();
  const std::string covered = "over the " + std::to_string(factor) + "^3 voxels of dose.vdb each preview voxel covers";
  openvdb::GridPtrVec crossings;
  for (int t = 0; t < scale.count(); ++t) {
    const float* cross = crossing_s[t];
    auto grid = build_grid<openvdb::FloatGrid>(ctx.grid.geometry, -1.0f, [&](int64_t v, float& out) {
      if (!(cross[v] >= 0)) return false;
      out = cross[v];
      return true;
    });
    describe(*grid, "t_" + scale.labels[t] + "_s", "s",
             "earliest time from scan start when the dose reached " + scale.labels[t] + ", " + covered, ctx);
    describe_threshold(*grid, ctx, scale, t);
    crossings.push_back(grid);
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
      for (auto v = grid->cbeginValueOn(); v; ++v) {
        if (!v.isVoxelValue()) continue;
        const double x = static_cast<double>(*v);
        lo = first ? x : std::min(lo, x);
        hi = first ? x : std::max(hi, x);
        sum += x;
        first = false;
      }
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
  for (auto v = grid->cbeginValueOn(); v; ++v) {
    if (!v.isVoxelValue()) continue;
    const openvdb::Coord c = v.getCoord();
    if (c.x() < 0 || c.y() < 0 || c.z() < 0 || c.x() >= g.dims[0] || c.y() >= g.dims[1] || c.z() >= g.dims[2]) continue;
    out[g.index(c.x(), c.y(), c.z())] = static_cast<T>(*v);
  }
  return out;
}

}  // namespace

std::vector<float> read_float_grid(const std::string& path, const std::string& name, const GridGeometry& g,
                                   float background) {
  return read_dense<openvdb::FloatGrid>(path, name, g, background, "a float grid");
}

std::vector<int32_t> read_int32_grid(const std::string& path, const std::string& name, const GridGeometry& g,
                                     int32_t background) {
  return read_dense<openvdb::Int32Grid>(path, name, g, background, "an int32 grid");
}

std::vector<uint8_t> read_bool_grid(const std::string& path, const std::string& name, const GridGeometry& g) {
  return read_dense<openvdb::BoolGrid>(path, name, g, uint8_t(0), "a bool grid");
}

}  // namespace dosemap
