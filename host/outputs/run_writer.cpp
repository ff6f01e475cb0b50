#include "host/outputs/run_writer.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

#include "host/common/errors.h"
#include "host/common/float_threshold.h"
#include "host/common/progress.h"
#include "host/common/simd_clones.h"
#include "host/common/worker_threads.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/output_files.h"
#include "host/outputs/vdb_io.h"
#include "host/outputs/vti_writer.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace {

// Grids smaller than this are written by one thread (write_run_files).
constexpr int64_t kWriteAloneBelowVoxels = int64_t(1) << 22;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string frame_name(int frame, const char* ext) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "frames/dose_%04d.%s", frame, ext);
  return buf;
}

// The VTI arrays' fills, in clones for the vector widths (host/common/simd_clones.h;
// comparisons and selects only, alike in each), where the lookups of a value per material
// are vector gathers. `last`: void's entry, the last of each table.
//
// out[i] = dose[i] >= at[material]: at holds each material's threshold as the least float
// at or above it, with which a float dose compares as with the threshold itself.
DOSEMAP_SIMD_CLONES void fill_reached(const float* __restrict dose, const MaterialId* __restrict mat,
                                      const float* __restrict at, uint32_t last, uint8_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = dose[i] >= at[std::min<uint32_t>(mat[i], last)];
}
// out[i] = data[i] where present[material], else NaN.
DOSEMAP_SIMD_CLONES void fill_present(const float* __restrict data, const MaterialId* __restrict mat,
                                      const int32_t* __restrict present, uint32_t last, float* __restrict out,
                                      int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = data[i];
    out[i] = present[std::min<uint32_t>(mat[i], last)] ? x : kNaN;
  }
}

// out[i] = data[i] in matter, NaN in void; with `at_least_zero`, NaN also where data[i] < 0
// (a crossing time never reached).
DOSEMAP_SIMD_CLONES void fill_matter(const float* __restrict data, const MaterialId* __restrict mat, bool at_least_zero,
                                     float* __restrict out, int64_t n) {
  if (at_least_zero) {
    for (int64_t i = 0; i < n; ++i) {
      const float x = data[i];
      out[i] = (mat[i] != kVoidId) & (x >= 0) ? x : kNaN;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float x = data[i];
      out[i] = mat[i] != kVoidId ? x : kNaN;
    }
  }
}

// Every per-voxel array as VTK cell data. ParaView has no "inactive": NaN marks void voxels,
// thresholds never reached and components absent from a voxel. Each fill is one of the
// vectorized loops above over raw arrays (pointers held by value, tables by shared_ptr).
std::vector<VtiArray> vti_arrays(const RunWriteInputs& in, const DoseResults& r) {
  const MaterialId* mat = in.grid.material.data();
  std::vector<VtiArray> a;
  auto float_array = [&](const std::string& name, const float* data, bool at_least_zero) {
    a.push_back({name, VtiArray::kFloat32, [data, mat, at_least_zero](int64_t b, int64_t e, void* out) {
                   fill_matter(data + b, mat + b, at_least_zero, static_cast<float*>(out), e - b);
                 }});
  };
  float_array("dose", r.dose_Gy.data(), false);
  float_array("dose_rate_peak", r.rate_peak_Gy_s.data(), false);
  float_array("dose_rate_mean", r.rate_mean_Gy_s.data(), false);
  const ThresholdScale& th = r.tables.thresholds;
  for (int t = 0; t < th.count(); ++t) float_array("t_" + th.labels[t] + "_s", r.crossing(t), true);
  // Tables per material, void's entry last (material ids clamped to it).
  DOSEMAP_BUG_CHECK(th.n_materials < kVoidId && r.tables.n_materials < kVoidId, "void's id is above every material's");
  const auto presence = component_presence(r.tables);
  const MaterialId void_in_presence = static_cast<MaterialId>(r.tables.n_materials);
  for (size_t c = 0; c < r.tables.component_grid_names.size(); ++c) {
    auto present = std::make_shared<std::vector<int32_t>>(presence[c].begin(), presence[c].end());
    present->push_back(0);  // void
    const float* data = r.component_dose(static_cast<int>(c));
    a.push_back({"dose:" + r.tables.component_grid_names[c], VtiArray::kFloat32,
                 [data, mat, present, void_in_presence](int64_t b, int64_t e, void* out) {
                   fill_present(data + b, mat + b, present->data(), void_in_presence, static_cast<float*>(out), e - b);
                 }});
  }
  a.push_back({"material", VtiArray::kInt32, [mat](int64_t b, int64_t e, void* out) {
                 int32_t* __restrict o = static_cast<int32_t*>(out);
                 for (int64_t v = b; v < e; ++v) o[v - b] = mat[v] == kVoidId ? -1 : mat[v];
               }});
  const float* dose = r.dose_Gy.data();
  const MaterialId void_in_scale = static_cast<MaterialId>(th.n_materials);
  for (int t = 0; t < th.count(); ++t) {
    auto reached_at = std::make_shared<std::vector<float>>();
    for (const double at : th.doses_of_label(t)) reached_at->push_back(least_float_at_or_above(at));
    a.push_back({"dose_gt_" + th.labels[t], VtiArray::kUInt8,
                 [mat, dose, reached_at, void_in_scale](int64_t b, int64_t e, void* out) {
                   fill_reached(dose + b, mat + b, reached_at->data(), void_in_scale, static_cast<uint8_t*>(out), e - b);
                 }});
  }
  return a;
}

// A float array of the preview as cell data, NaN where `missing(v)`; `values` outlives it.
VtiArray preview_array(const std::string& name, const BulkVector<float>& values, std::function<bool(int64_t)> missing) {
  return {name, VtiArray::kFloat32, [&values, missing](int64_t b, int64_t e, void* out) {
            float* o = static_cast<float*>(out);
            for (int64_t v = b; v < e; ++v) o[v - b] = missing(v) ? kNaN : values[v];
          }};
}

// dose_preview.vti and dose_preview.vdb (host/outputs/viewer_grids.h): the region at a
// factor of it, peaks kept.
void write_previews(RunDirectory& out, const RunWriteInputs& in, const DoseResults& r, const PreviewGrid& p,
                    double dose_max_Gy) {
  const GridGeometry& pg = p.grid.geometry;
  const std::vector<MaterialId>& pmat = p.grid.material;
  auto is_void = [&pmat](int64_t v) { return pmat[v] == kVoidId; };
  const ThresholdScale& th = r.tables.thresholds;
  if (in.write_vdb) {
    VdbWriteContext ctx{in.scene, in.materials, p.grid, in.timeline.duration_s, DOSEMAP_VERSION, nullptr};
    const double log10_max = dose_max_Gy > 0 ? std::log10(dose_max_Gy) : 0.0;
    std::vector<const float*> crossings;
    for (const auto& e : p.earliest_s) crossings.push_back(e.data());
    out.write_file("dose_preview.vdb", [&](CheckedFile& file) {
      write_preview_vdb(file, ctx, p.dose_Gy.data(), th, crossings, p.factor, log10_max);
    });
  }
  if (!in.write_vti) return;
  std::vector<VtiArray> arrays;
  arrays.push_back(preview_array("dose", p.dose_Gy, is_void));
  arrays.push_back(preview_array("dose_rate_peak", p.rate_peak_Gy_s, is_void));
  arrays.push_back({"material", VtiArray::kInt32, [&pmat](int64_t b, int64_t e, void* o) {
                      int32_t* v = static_cast<int32_t*>(o);
                      for (int64_t i = b; i < e; ++i) v[i - b] = pmat[i] == kVoidId ? -1 : pmat[i];
                    }});
  for (int t = 0; t < th.count(); ++t) {
    const BulkVector<float>& times = p.earliest_s[t];
    arrays.push_back(preview_array("t_" + th.labels[t] + "_s", times, [&times](int64_t v) { return times[v] < 0; }));
  }
  // A preview voxel is above a label when one of its voxels crossed it (masks and crossing
  // times agree voxel by voxel).
  for (int t = 0; t < th.count(); ++t)
    arrays.push_back({"dose_gt_" + th.labels[t], VtiArray::kUInt8, [&times = p.earliest_s[t]](int64_t b, int64_t e, void* o) {
                        uint8_t* v = static_cast<uint8_t*>(o);
                        for (int64_t i = b; i < e; ++i) v[i - b] = times[i] >= 0;
                      }});
  out.write_file("dose_preview.vti", [&](CheckedFile& file) { write_vti(file.stream(), pg, arrays, "dose"); });
}

}  // namespace

ViewerFiles write_run_files(RunDirectory& out, const RunWriteInputs& in, DoseResults& r, double dose_max_Gy,
                            bool release_as_written) {
  const GridGeometry& g = in.grid.geometry;
  VdbWriteContext ctx{in.scene, in.materials, in.grid, in.timeline.duration_s, DOSEMAP_VERSION, nullptr};
  const VdbGridBlocks blocks = in.write_vdb ? vdb_grid_blocks(in.grid, r.column_marched) : VdbGridBlocks{};
  if (in.write_vdb) ctx.blocks = &blocks;  // the frames' and dose.vdb's
  if (in.progress) in.progress->start("writing frames and dose.vti", static_cast<int64_t>(in.frame_times_s.size()) + 1);
  ViewerFiles viewers;
  // A small grid's files are written by this thread alone: its grids take a few milliseconds
  // each, and a second thread, woken for each loop and each file write and spinning between
  // them (TBB's idle workers do), cost more CPU than the wall time it saved (the demo scene:
  // writing 0.084 -> 0.076 CPU-s, 0.068 -> 0.086 s; benchmarks/RESULTS.md).
  std::optional<tbb::global_control> one_thread;
  if (g.voxels() < kWriteAloneBelowVoxels)
    one_thread.emplace(tbb::global_control::max_allowed_parallelism, size_t(1));
  PhaseClock clock;
  viewers.dosed = dosed_region(g, in.grid.material, r.dose_Gy.data(), dose_max_Gy);
  release_openmp_threads();  // the run's last OpenMP pass but the previews': the writers' threads take over
  viewers.vti_box = in.crop_vti ? viewers.dosed : whole_grid(g);
  viewers.preview_factor =
      (in.write_vti || in.write_vdb) ? preview_factor(viewers.vti_box, in.preview_above_voxels) : 1;

  if (!in.frame_times_s.empty()) {
    const double log10_max = dose_max_Gy > 0 ? std::log10(dose_max_Gy) : 0.0;
    std::vector<std::pair<double, std::string>> pvd;
    FrameSeries series;  // (the frames stay in r until the run is written)
    for (size_t f = 0; f < in.frame_times_s.size(); ++f) {
      stop_point(in.progress);
      const int number = static_cast<int>(f) + 1;
      const float* frame_dose = r.frame_dose(static_cast<int>(f));
      const double t = in.frame_times_s[f];
      if (in.write_vdb)
        out.write_file(frame_name(number, "vdb"), [&](CheckedFile& file) {
          write_frame_vdb(file, ctx, frame_dose, t, number, log10_max, &series);
        });
      if (in.write_vti) {
        std::vector<VtiArray> arrays{{"dose", VtiArray::kFloat32,
                                      [mat = in.grid.material.data(), frame_dose](int64_t b, int64_t e, void* o) {
                                        fill_matter(frame_dose + b, mat + b, false, static_cast<float*>(o), e - b);
                                      }}};
        out.write_file(frame_name(number, "vti"),
                       [&](CheckedFile& file) { write_vti(file.stream(), g, arrays, "dose", viewers.vti_box); });
        pvd.push_back({t, frame_name(number, "vti")});
      }
      if (in.progress) in.progress->advance(1);
    }
    if (in.write_vti) out.write_file("dose.pvd", [&](CheckedFile& file) { write_pvd(file.stream(), pvd); });
    viewers.phases.emplace_back("write_frames", clock.lap());
  }
  if (in.write_vti) {
    const std::vector<VtiArray> arrays = vti_arrays(in, r);
    out.write_file("dose.vti", [&](CheckedFile& file) { write_vti(file.stream(), g, arrays, "dose", viewers.vti_box); });
    viewers.phases.emplace_back("write_vti", clock.lap());
  }
  if (viewers.preview_factor > 1) {
    PreviewSources sources;
    sources.dose_Gy = r.dose_Gy.data();
    if (in.write_vti) sources.rate_peak_Gy_s = r.rate_peak_Gy_s.data();
    for (int t = 0; t < r.tables.thresholds.count(); ++t) sources.crossing_s.push_back(r.crossing(t));
    const PreviewGrid p = preview_grid(g, in.grid.material, viewers.vti_box, viewers.preview_factor, sources);
    release_openmp_threads();
    viewers.preview = p.grid.geometry;
    write_previews(out, in, r, p, dose_max_Gy);
    viewers.phases.emplace_back("write_previews", clock.lap());
  }
  out.write_file("dose_history.json", [&](CheckedFile& file) { file.stream() << dose_curves_json(in.curves); });
  viewers.phases.emplace_back("write_dose_history", clock.lap());
  if (in.write_vdb) {
    ctx.progress = in.progress;
    out.write_file("dose.vdb", [&](CheckedFile& file) { write_dose_vdb(file, ctx, r, release_as_written); });
    viewers.phases.emplace_back("write_dose_vdb", clock.lap());
  }
  return viewers;
}

}  // namespace dosemap
