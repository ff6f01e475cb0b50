#include "host/outputs/run_writer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "host/common/progress.h"
#include "host/outputs/output_files.h"
#include "host/outputs/vdb_io.h"
#include "host/outputs/vti_writer.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace fs = std::filesystem;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string frame_name(int frame, const char* ext) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "frames/dose_%04d.%s", frame, ext);
  return buf;
}

// Every per-voxel array as VTK cell data. ParaView has no "inactive": NaN marks void voxels,
// thresholds never reached and components absent from a voxel.
std::vector<VtiArray> vti_arrays(const RunWriteInputs& in, const DoseResults& r) {
  const std::vector<MaterialId>& mat = in.grid.material;
  std::vector<VtiArray> a;
  auto float_array = [&](const std::string& name, const float* data, auto valid) {
    a.push_back({name, VtiArray::kFloat32, [data, valid](int64_t b, int64_t e, void* out) {
                   float* o = static_cast<float*>(out);
                   for (int64_t v = b; v < e; ++v) o[v - b] = valid(v) ? data[v] : kNaN;
                 }});
  };
  auto matter = [&mat](int64_t v) { return mat[v] != kVoidId; };
  float_array("dose", r.dose_Gy.data(), matter);
  float_array("dose_rate_peak", r.rate_peak_Gy_s.data(), matter);
  float_array("dose_rate_mean", r.rate_mean_Gy_s.data(), matter);
  const auto& th = in.scene.output.thresholds;
  for (size_t t = 0; t < th.size(); ++t) {
    const float* c = r.crossing(static_cast<int>(t));
    float_array("t_" + th[t].label + "_s", c, [c, matter](int64_t v) { return matter(v) && c[v] >= 0; });
  }
  const auto presence = component_presence(r.tables);
  for (size_t c = 0; c < r.tables.component_grid_names.size(); ++c) {
    const auto& present = presence[c];
    float_array("dose:" + r.tables.component_grid_names[c], r.component_dose(static_cast<int>(c)),
                [&mat, present](int64_t v) { return mat[v] != kVoidId && present[mat[v]]; });
  }
  a.push_back({"material", VtiArray::kInt32, [&mat](int64_t b, int64_t e, void* out) {
                 int32_t* o = static_cast<int32_t*>(out);
                 for (int64_t v = b; v < e; ++v) o[v - b] = mat[v] == kVoidId ? -1 : mat[v];
               }});
  const float* dose = r.dose_Gy.data();
  for (const auto& t : th) {
    const double level = t.dose_Gy;
    a.push_back({"dose_gt_" + t.label, VtiArray::kUInt8, [&mat, dose, level](int64_t b, int64_t e, void* out) {
                   uint8_t* o = static_cast<uint8_t*>(out);
                   for (int64_t v = b; v < e; ++v) o[v - b] = mat[v] != kVoidId && dose[v] >= level;
                 }});
  }
  return a;
}

}  // namespace

std::vector<std::string> write_run_files(const std::string& dir, const RunWriteInputs& in, DoseResults&& r,
                                         double dose_max_Gy) {
  std::vector<std::string> files;
  const GridGeometry& g = in.grid.geometry;
  auto path = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
  VdbWriteContext ctx{in.scene, in.materials, in.grid, in.timeline.duration_s, DOSEMAP_VERSION, nullptr};
  if (in.progress) in.progress->start("writing frames and dose.vti", static_cast<int64_t>(in.frame_times_s.size()) + 1);

  if (!in.frame_times_s.empty()) {
    fs::create_directories(fs::path(dir) / "frames");
    const double log10_max = dose_max_Gy > 0 ? std::log10(dose_max_Gy) : 0.0;
    std::vector<std::pair<double, std::string>> pvd;
    for (size_t f = 0; f < in.frame_times_s.size(); ++f) {
      const int number = static_cast<int>(f) + 1;
      const float* fraction = r.frame_fraction.data() + f * r.columns;
      const double t = in.frame_times_s[f];
      if (in.write_vdb) {
        write_atomically(path(frame_name(number, "vdb")), [&](const std::string& tmp) {
          write_frame_vdb(tmp, ctx, r.dose_Gy.data(), fraction, t, number, log10_max);
        });
        files.push_back(frame_name(number, "vdb"));
      }
      if (in.write_vti) {
        const std::vector<MaterialId>& mat = in.grid.material;
        const float* dose = r.dose_Gy.data();
        const int64_t columns = r.columns;
        std::vector<VtiArray> arrays{{"dose", VtiArray::kFloat32, [&](int64_t b, int64_t e, void* out) {
                                        float* o = static_cast<float*>(out);
                                        for (int64_t v = b; v < e; ++v)
                                          o[v - b] = mat[v] == kVoidId ? kNaN : dose[v] * fraction[v % columns];
                                      }}};
        write_atomically(path(frame_name(number, "vti")),
                         [&](const std::string& tmp) { write_vti(tmp, g, arrays, "dose"); });
        files.push_back(frame_name(number, "vti"));
        pvd.push_back({t, frame_name(number, "vti")});
      }
      if (in.progress) in.progress->advance(1);
    }
    if (in.write_vti) {
      write_atomically(path("dose.pvd"), [&](const std::string& tmp) { write_pvd(tmp, pvd); });
      files.push_back("dose.pvd");
    }
  }
  if (in.write_vti) {
    const std::vector<VtiArray> arrays = vti_arrays(in, r);
    write_atomically(path("dose.vti"), [&](const std::string& tmp) { write_vti(tmp, g, arrays, "dose"); });
    files.push_back("dose.vti");
  }
  write_atomically(path("dose_history.json"), [&](const std::string& tmp) {
    std::ofstream f(tmp);
    f << dose_curves_json(in.curves);
    f.close();
    if (!f) throw UserError(SourcePos{tmp, 0, 0}, "cannot write", "check free disk space");
  });
  files.push_back("dose_history.json");
  if (in.write_vdb) {
    ctx.progress = in.progress;
    write_atomically(path("dose.vdb"), [&](const std::string& tmp) { write_dose_vdb(tmp, ctx, std::move(r)); });
    files.push_back("dose.vdb");
  }
  return files;
}

}  // namespace dosemap
