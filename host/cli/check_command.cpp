// `dosemap check SCENE`: everything a user wants to know before spending beamtime or
// compute on a scene, without running transport.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "host/cli/commands.h"
#include "host/cli/scene_setup.h"
#include "host/cli/scene_warnings.h"
#include "host/common/text.h"
#include "host/scene/beam_image.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {

const char* model_meaning(DoseModel m) {
  switch (m) {
    case DoseModel::kMuEn: return "mass energy-absorption: fluorescence escapes, Compton electrons deposit";
    case DoseModel::kPhoto: return "photoabsorption + Compton electrons, fluorescence absorbed locally";
    case DoseModel::kAbsorbed: return "photoabsorption + all Compton scattering (battery-literature convention)";
  }
  return "";
}

std::string beam_text(const BeamSpec& b) {
  std::string s;
  if (b.spectrum.size() == 1) {
    s = fmt_g(b.spectrum[0].energy_keV, 6) + " keV";
  } else {
    double lo = 1e300, hi = 0;
    for (const auto& l : b.spectrum) lo = std::min(lo, l.energy_keV), hi = std::max(hi, l.energy_keV);
    s = std::to_string(b.spectrum.size()) + " lines " + fmt_g(lo, 6) + "-" + fmt_g(hi, 6) + " keV (mean " +
        fmt_g(b.mean_energy_keV(), 6) + " keV)";
  }
  s += ", " + fmt_g(b.flux_ph_s, 4) + " ph/s, ";
  switch (b.profile) {
    case ProfileKind::kGaussian: s += "Gaussian " + fmt_g(b.fwhm_um[0]) + " x " + fmt_g(b.fwhm_um[1]) + " um FWHM"; break;
    case ProfileKind::kTopHat: s += "top-hat " + fmt_g(b.size_um[0]) + " x " + fmt_g(b.size_um[1]) + " um"; break;
    case ProfileKind::kImage:
      s += "image " + std::to_string(b.image.nx) + " x " + std::to_string(b.image.ny) + " px of " +
           fmt_g(b.image.pixel_um[0]) + " x " + fmt_g(b.image.pixel_um[1]) + " um (" + b.image.path + ")";
      break;
  }
  return s;
}

std::string scan_steps_text(const ScanSpec& scan) {
  constexpr StepKind kinds[] = {StepKind::kPoint, StepKind::kRaster, StepKind::kFly, StepKind::kRotate,
                                StepKind::kXrdct, StepKind::kLog, StepKind::kWait};
  std::vector<std::string> parts;
  for (StepKind k : kinds) {
    const auto n = std::count_if(scan.steps.begin(), scan.steps.end(), [&](const ScanStep& s) { return s.kind == k; });
    if (n) parts.push_back(std::to_string(n) + " " + step_kind_name(k));
  }
  std::string s = join_alternatives(parts, "and") + (scan.steps.size() == 1 ? " step" : " steps");
  if (scan.repeat > 1) s += " x " + std::to_string(scan.repeat) + " repetitions";
  if (scan.period_s > 0) s += " every " + fmt_g(scan.period_s, 8) + " s";
  return s;
}

// Attenuation coefficient (1/um) of material m for spectrum line e.
double mu_per_um(const MaterialTable& t, int m, size_t e) {
  return t.materials[m].lines[e].mu_rho() * t.materials[m].density_g_cm3 * 1e-4;
}

// Photon transmission of a thickness of material m, averaged over the spectrum.
double transmission(const MaterialTable& t, int m, double thickness_um) {
  if (m < 0) return 1.0;
  const Material& mat = t.materials[m];
  return t.spectrum_mean(mat, [&](const MaterialCoefficients& c) {
    return std::exp(-c.mu_rho() * mat.density_g_cm3 * thickness_um * 1e-4);
  });
}

// The whole-sample transmission of columns [i0, i1) x [j0, j1), the materials of row j read
// by row(j, out) as out[i * nz + k], as voxelize() lays them out: its smallest and largest
// (every n-th row beyond 2e7 voxels). `what` says which columns, `elsewhere` is appended.
using RowMaterials = std::function<void(int64_t j, std::vector<MaterialId>& out)>;
void print_column_transmission(const MaterialTable& table, const GridGeometry& g, const std::array<int64_t, 4>& r,
                               const RowMaterials& row_of, const std::string& lead, const std::string& what,
                               const std::string& elsewhere, std::ostream& out) {
  const int64_t nz = g.dims[2];
  const double voxels = static_cast<double>(g.dims[0]) * (r[3] - r[2]) * nz;
  const int64_t stride = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(voxels / 2e7)));
  const size_t lines = table.spectrum.size();
  std::vector<double> mu(table.materials.size() * lines);  // [material * lines + line], 1/um
  for (size_t m = 0; m < table.materials.size(); ++m)
    for (size_t e = 0; e < lines; ++e) mu[m * lines + e] = mu_per_um(table, static_cast<int>(m), e);
  double lo = 2, hi = -1;
  std::array<int64_t, 2> lo_at{}, hi_at{};
  std::vector<MaterialId> row;
  std::vector<double> tau(lines);
  int64_t columns = 0;
  for (int64_t j = r[2]; j < r[3]; j += stride) {
    row_of(j, row);
    for (int64_t i = r[0]; i < r[1]; ++i) {
      std::fill(tau.begin(), tau.end(), 0.0);
      for (int64_t k = 0; k < nz; ++k)
        if (const MaterialId m = row[i * nz + k]; m != kVoidId)
          for (size_t e = 0; e < lines; ++e) tau[e] += mu[m * lines + e] * g.voxel_um[2];
      double t = 0;
      for (size_t e = 0; e < lines; ++e) t += table.spectrum[e].weight * std::exp(-tau[e]);
      if (t < lo) lo = t, lo_at = {i, j};
      if (t > hi) hi = t, hi_at = {i, j};
      ++columns;
    }
  }
  out << lead << fmt_f(lo, 4) << " (column " << lo_at[0] << ", " << lo_at[1] << ") to " << fmt_f(hi, 4) << " (column "
      << hi_at[0] << ", " << hi_at[1] << ") transmitted, over the " << group_digits(columns) << " columns " << what
      << (stride > 1 ? " (every " + std::to_string(stride) + "th row)" : std::string()) << elsewhere << "\n";
}

// With shapes, columns differ: the whole-stack transmission over the columns they reach.
void print_shape_transmission(const Scene& scene, const MaterialTable& table, const GridGeometry& g,
                              double layers_only, std::ostream& out) {
  const auto r = shape_columns(scene, g);
  if (r[1] <= r[0] || r[3] <= r[2]) return;
  const bool all = (r[1] - r[0]) * (r[3] - r[2]) == g.columns();
  print_column_transmission(
      table, g, r, [&](int64_t j, std::vector<MaterialId>& row) { row_materials(scene, g, j, row); },
      "  with the shapes, per column: whole stack ", "the shapes reach",
      (all ? std::string() : "; elsewhere " + fmt_f(layers_only, 4)) +
          (scene.sample.stage.present ? " (along z: the stage at 0 deg)" : ""),
      out);
}

// A label volume: what each material fills, and the transmission of its columns.
void print_volume_report(const Scene& scene, const MaterialTable& table, const VoxelGrid& grid, std::ostream& out) {
  const GridGeometry& g = grid.geometry;
  const VolumeSpec& vol = scene.sample.volume;
  std::vector<int64_t> count(table.materials.size() + 1, 0);  // the last: void
  for (const MaterialId m : grid.material) ++count[m == kVoidId ? table.materials.size() : m];
  out << "\nSample: label volume " << vol.path << " (" << vol.file_dims[0] << " x " << vol.file_dims[1] << " x "
      << vol.file_dims[2] << " as stored, axes " << vol.axes_text() << " slowest first"
      << (scene.sample.shapes.empty() ? "" : "; shapes drawn over it") << ")\n";
  TextTable lt({"material", "labels", "voxels", "volume %"});
  for (size_t m = 0; m <= table.materials.size(); ++m) {
    const std::string name = m < table.materials.size() ? table.materials[m].name : std::string(kVoidMaterial);
    std::string labels;
    for (const VolumeLabel& l : vol.labels)
      if (l.material == name) labels += (labels.empty() ? "" : ", ") + std::to_string(l.value);
    if (count[m] == 0 && labels.empty()) continue;
    lt.add_row({name, labels.empty() ? "-" : labels, group_digits(count[m]),
                fmt_f(100.0 * static_cast<double>(count[m]) / static_cast<double>(g.voxels()), 2)});
  }
  lt.print(out, "  ");
  out << "\nTransmission along the beam (photon fraction)\n";
  print_column_transmission(
      table, g, {0, g.dims[0], 0, g.dims[1]},
      [&](int64_t j, std::vector<MaterialId>& row) {
        row.resize(static_cast<size_t>(g.dims[0] * g.dims[2]));
        for (int64_t k = 0; k < g.dims[2]; ++k)
          for (int64_t i = 0; i < g.dims[0]; ++i) row[i * g.dims[2] + k] = grid.material[g.index(i, j, k)];
      },
      "  per column, whole sample: ", "of the volume",
      scene.sample.stage.present ? " (along z: the stage at 0 deg)" : "", out);
}

}  // namespace

int check_command(const CheckOptions& o, std::ostream& out) {
  const SceneSetup setup = set_up_scene(o.scene);
  refuse_if_short_of_memory(setup);  // as `run` does, before anything else
  print_check_report(setup, out);
  return 0;
}

void print_check_report(const SceneSetup& setup, std::ostream& out) {
  const Scene& scene = setup.scene;
  const MaterialTable& table = setup.materials;
  const GridGeometry& g = setup.geometry;
  const Timeline& tl = setup.timeline;
  const std::vector<double>& frames = setup.frame_times_s;
  const PlanSize& plan = setup.plan;
  const RunMemory& mem = setup.memory;
  const BeamProfile& profile = setup.beam;
  // A label volume is read whole before anything is printed: a label without a name is an
  // error for check exactly as for run.
  const std::optional<VoxelGrid> volume_grid =
      scene.sample.volume.present ? std::optional<VoxelGrid>(voxelize(scene)) : std::nullopt;

  out << "dosemap check: " << scene.path << " is valid\n\n";
  std::vector<std::pair<std::string, std::string>> overview;
  overview.push_back({"title", scene.title});
  overview.push_back({"dose model", std::string(dose_model_name(scene.dose_model)) + " (" + model_meaning(scene.dose_model) + ")"});
  overview.push_back({"beam", beam_text(scene.beam)});
  if (scene.beam.profile == ProfileKind::kImage) {
    // Measured from the image as read (background off, rows turned): a beam read the wrong
    // way round shows at once.
    const BeamImageShape shape = measure_beam_image(scene.beam.image);
    overview.push_back({"beam image", "FWHM " + fmt_g(shape.fwhm_um[0], 4) + " x " + fmt_g(shape.fwhm_um[1], 4) +
                                          " um, centroid (" + fmt_g(shape.centroid_um[0], 4) + ", " +
                                          fmt_g(shape.centroid_um[1], 4) + ") um from the beam position"});
  }
  overview.push_back({"grid", std::to_string(g.dims[0]) + " x " + std::to_string(g.dims[1]) + " x " +
                                std::to_string(g.dims[2]) + " = " + group_digits(g.voxels()) + " voxels of " +
                                fmt_g(g.voxel_um[0]) + " x " + fmt_g(g.voxel_um[1]) + " x " + fmt_g(g.voxel_um[2]) +
                                " um (" + fmt_g(g.dims[0] * g.voxel_um[0], 8) + " x " +
                                fmt_g(g.dims[1] * g.voxel_um[1], 8) + " x " + fmt_g(g.dims[2] * g.voxel_um[2], 8) +
                                " um)"});
  overview.push_back({"memory", "a run needs about " + human_bytes(mem.peak_bytes()) + " at its peak (" +
                                  std::to_string(mem.result_grids) + " float values per voxel " +
                                  human_bytes(mem.result_bytes) + ", beam history " + human_bytes(mem.history_bytes) +
                                  ", scan and materials " + human_bytes(mem.scan_bytes) + ", while writing " +
                                  human_bytes(mem.material_bytes + mem.writing_bytes) + ")"});
  overview.push_back({"scan", scan_steps_text(scene.scan)});
  for (size_t i = 0; i < scene.scan.steps.size(); ++i) {
    // A replayed log: what was read, so that a wrong column or unit shows before the run.
    const ScanStep& st = scene.scan.steps[i];
    if (st.kind != StepKind::kLog) continue;
    const ScanLogRows& log = *st.log;
    double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
    for (int64_t r = 0; r < log.rows(); ++r) {
      lo[0] = std::min(lo[0], log.x_um[r]), hi[0] = std::max(hi[0], log.x_um[r]);
      lo[1] = std::min(lo[1], log.y_um[r]), hi[1] = std::max(hi[1], log.y_um[r]);
    }
    int64_t open = 0;
    for (int64_t r = 0; r < log.rows(); ++r) open += log.is_open(r) ? 1 : 0;
    std::string text = "'" + log.file + "'" + (log.scan.empty() ? "" : " scan " + log.scan) + ": " +
                       group_digits(log.rows()) + (log.fly ? " rows over " : " points over ") +
                       human_duration(step_duration_s(st)) + (log.fly ? " (fly)" : "") + ", beam x " + fmt_g(lo[0], 6) +
                       ".." + fmt_g(hi[0], 6) + ", y " + fmt_g(lo[1], 6) + ".." + fmt_g(hi[1], 6) + " um";
    if (!log.angle_deg.empty()) {
      const auto [a0, a1] = std::minmax_element(log.angle_deg.begin(), log.angle_deg.end());
      text += ", angle " + fmt_g(*a0, 6) + ".." + fmt_g(*a1, 6) + " deg";
    }
    if (!log.open.empty()) text += ", shutter open " + group_digits(open) + " of " + group_digits(log.rows());
    if (!log.flux_factor.empty()) {
      const auto [f0, f1] = std::minmax_element(log.flux_factor.begin(), log.flux_factor.end());
      text += ", flux x" + fmt_g(*f0, 4) + "..x" + fmt_g(*f1, 4) + " (monitor)";
    }
    overview.push_back({"  log #" + std::to_string(i + 1), text});
  }
  overview.push_back({"exposures", group_digits(static_cast<long long>(tl.exposures.size())) +
                                     (plan.sub_exposures != static_cast<int64_t>(tl.exposures.size())
                                          ? " (" + group_digits(plan.sub_exposures) + " with fly and rotation sub-steps)"
                                          : std::string())});
  if (scene.sample.stage.present) {
    const StageSpec& st = scene.sample.stage;
    const auto c = stage_center_um(st, g);
    overview.push_back({"stage", std::string("axis ") + (st.axis == 0 ? "x" : st.axis == 1 ? "y" : "z") + " through (" +
                                     fmt_g(c[0], 8) + ", " + fmt_g(c[1], 8) + ", " + fmt_g(c[2], 8) + ") um, tilt " +
                                     fmt_g(st.tilt_deg, 6) + " deg; " + group_digits(plan.poses) +
                                     (plan.poses == 1 ? " pose" : " poses") + " (one pass over the voxels each)"});
  }
  overview.push_back({"duration", human_duration(tl.duration_s)});
  overview.push_back({"beam on", human_duration(tl.beam_on_s) + ", " + fmt_g(tl.photons, 4) + " photons"});
  auto scale_text = [](const std::vector<Threshold>& list) {
    std::string text;
    for (const auto& t : list) text += (text.empty() ? "" : ", ") + t.label + " " + fmt_g(t.dose_Gy, 3) + " Gy";
    return text.empty() ? std::string("none") : text;
  };
  // The default scale, then every material in use that carries its own.
  const std::vector<bool> used = materials_in_use(scene);
  overview.push_back({"thresholds", scale_text(scene.output.thresholds)});
  for (size_t m = 0; m < scene.materials.size(); ++m)
    if (used[m] && scene.materials[m].has_thresholds)
      overview.push_back({"  " + scene.materials[m].name, scale_text(scene.materials[m].thresholds)});
  std::string outputs = scene.output.write_vdb ? "dose.vdb" : "";
  if (scene.output.write_vti) outputs += std::string(outputs.empty() ? "" : ", ") + "dose.vti";
  if (!frames.empty())
    outputs += ", " + std::to_string(frames.size()) + " cumulative-dose frames (" + fmt_g(frames.front(), 6) + " to " +
               fmt_g(frames.back(), 8) + " s)";
  overview.push_back({"outputs", outputs + ", summary.json, dose_history.json"});
  print_fields(out, overview);

  // Materials.
  out << "\nMaterials";
  if (table.spectrum.size() == 1) out << " at " << fmt_g(table.spectrum[0].energy_keV, 6) << " keV";
  else out << ", photon-weighted means over the " << table.spectrum.size() << " spectrum lines";
  out << " (c/rho: deposition coefficient of the " << dose_model_name(scene.dose_model) << " model)\n";
  const std::string model = dose_model_name(scene.dose_model);
  TextTable mt({"material", "density g/cm3", "mu/rho cm2/g", "mu_en/rho cm2/g", "c/rho cm2/g", "1/mu um", "defined as"});
  for (size_t i = 0; i < table.materials.size(); ++i) {
    const Material& m = table.materials[i];
    const double mu = table.spectrum_mean(m, [](const MaterialCoefficients& c) { return c.mu_rho(); });
    const double muen = table.spectrum_mean(m, [](const MaterialCoefficients& c) { return c.mu_en_rho(); });
    const double dep = table.spectrum_mean(m, [&](const MaterialCoefficients& c) { return c.deposition(table.model); });
    const double length_um = 1e4 / (mu * m.density_g_cm3);
    std::string def = m.source;
    if (!used[i]) def += " (not placed in the sample)";
    mt.add_row({m.name, fmt_g(m.density_g_cm3, 4), fmt_g(mu, 4), fmt_g(muen, 4), fmt_g(dep, 4), fmt_g(length_um, 4), def});
    for (const auto& c : m.components) {
      mt.add_row({"  " + c.name, "", "", "", "", "",
                  fmt_g(100 * c.volume_fraction, 3) + " vol%, " + fmt_g(100 * c.mass_fraction, 3) + " mass%"});
    }
  }
  mt.print(out, "  ");

  if (volume_grid) {
    print_volume_report(scene, table, *volume_grid, out);
  } else {
    // Transmission through the stack.
    out << "\nTransmission along the beam through the layers (photon fraction"
        << (scene.sample.shapes.empty() ? "" : "; the layers alone, the shapes below") << ")\n";
    TextTable tt({"layer", "material", "thickness um", "z um", "transmission", "cumulative"});
    double cumulative = 1.0;
    const auto extents = layer_extents(scene, g);
    // Cumulative transmission of a spectrum is not a product of per-layer means: keep the
    // optical depth of each line through the layers so far.
    std::vector<double> tau(table.spectrum.size(), 0.0);
    for (size_t i = 0; i < scene.sample.layers.size(); ++i) {
      const LayerSpec& l = scene.sample.layers[i];
      const int m = extents[i].material;
      const double t = transmission(table, m, l.thickness_um);
      double cum = 0;
      for (size_t e = 0; e < table.spectrum.size(); ++e) {
        if (m >= 0) tau[e] += mu_per_um(table, m, e) * l.thickness_um;
        cum += table.spectrum[e].weight * std::exp(-tau[e]);
      }
      cumulative = cum;
      tt.add_row({std::to_string(i + 1), l.material, fmt_g(l.thickness_um, 6),
                  fmt_g(extents[i].z0_um, 6) + "-" + fmt_g(extents[i].z1_um, 6), fmt_f(t, 4), fmt_f(cumulative, 4)});
    }
    tt.print(out, "  ");
    out << "  whole stack: " << fmt_f(cumulative, 4) << " transmitted, " << fmt_f(1 - cumulative, 4)
        << " attenuated (absorbed or scattered)\n";
    if (!scene.sample.shapes.empty()) print_shape_transmission(scene, table, g, cumulative, out);
  }

  // Warnings a user wants before beamtime.
  std::vector<std::string> warnings;
  int64_t missing = 0;
  double lattice_angle = 0;
  RayLattice lattice = pose_lattice(stage_pose(scene.sample.stage, g, 0.0), g);
  for (const Exposure& e : tl.exposures) {
    SubExposure s;
    s.x0_um = e.x0_um, s.y0_um = e.y0_um, s.x1_um = e.x1_um, s.y1_um = e.y1_um;
    if (e.angle0_deg != lattice_angle) {
      lattice_angle = e.angle0_deg;
      lattice = pose_lattice(stage_pose(scene.sample.stage, g, lattice_angle), g);
    }
    if (!e.turning() && footprint(profile, lattice, s).count() == 0) ++missing;
  }
  if (missing > 0)
    warnings.push_back(group_digits(missing) + " exposure(s) put the beam entirely outside the sample grid; their photons are not counted");
  for (const auto& line : scene.beam.spectrum)
    if (line.energy_keV < 5.0 || line.energy_keV > 100.0) {
      warnings.push_back("beam energy " + fmt_g(line.energy_keV, 6) +
                         " keV is outside 5-100 keV, where dosemap's coefficients are validated");
      break;
    }
  const std::vector<Diagnostic> doubtful = scene_warnings(setup);
  if (!warnings.empty() || !doubtful.empty()) {
    out << "\nWarnings\n";
    for (const auto& d : doubtful) out << "  - " << d.format("warning") << "\n";
    for (const auto& w : warnings) out << "  - " << w << "\n";
  }
}

}  // namespace dosemap
