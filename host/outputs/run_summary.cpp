#include "host/outputs/run_summary.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "host/common/text.h"
#include "host/scene/threshold_scale.h"
#include "host/transport/stage_poses.h"

namespace dosemap {

namespace {

using Json = nlohmann::ordered_json;

Json coefficients_json(const MaterialTable& mt, const Material& m) {
  Json j;
  j["density_g_cm3"] = m.density_g_cm3;
  j["mu_rho_cm2_g"] = mt.spectrum_mean(m, [](const MaterialCoefficients& c) { return c.mu_rho(); });
  j["mu_en_rho_cm2_g"] = mt.spectrum_mean(m, [](const MaterialCoefficients& c) { return c.mu_en_rho(); });
  j["deposition_cm2_g"] = mt.spectrum_mean(m, [&](const MaterialCoefficients& c) { return c.deposition(mt.model); });
  return j;
}

// The labels the material (or component) carries: its volume above each and when first.
Json above_json(const ThresholdScale& scale, const std::vector<ThresholdStats>& above) {
  Json j = Json::object();
  for (size_t t = 0; t < above.size(); ++t) {
    if (!std::isfinite(above[t].threshold_Gy)) continue;
    Json a;
    a["threshold_Gy"] = above[t].threshold_Gy;
    a["voxels"] = above[t].voxels;
    a["volume_mm3"] = above[t].volume_mm3;
    a["first_crossing_s"] = above[t].first_crossing_s >= 0 ? Json(above[t].first_crossing_s) : Json(nullptr);
    j[scale.labels[t]] = a;
  }
  return j;
}

Json crossings_json(const ThresholdScale& scale, int material, const std::vector<double>& first_crossing_s) {
  Json j = Json::object();
  for (size_t t = 0; t < first_crossing_s.size(); ++t)
    if (scale.applies(material, static_cast<int>(t)))
      j[scale.labels[t]] = first_crossing_s[t] >= 0 ? Json(first_crossing_s[t]) : Json(nullptr);
  return j;
}

Json scale_json(const ThresholdScale& scale, int material) {
  Json j = Json::object();
  for (const auto& [label, dose] : scale.of(material)) j[scale.labels[label]] = dose;
  return j;
}

Json point_positions_json(const Scene& scene, const ThresholdScale& scale, const std::vector<PointPosition>& positions) {
  Json list = Json::array();
  for (size_t n = 0; n < positions.size() && n < kSummaryPositions; ++n) {
    const PointPosition& p = positions[n];
    Json e;
    e["at_um"] = p.at_um;
    if (scene.sample.stage.present) e["angle_deg"] = p.angle_deg;
    e["column"] = p.column;
    if (!p.column_path) e["path"] = "slanted";  // the beam crosses voxel columns; `column`: where it enters
    e["exposures"] = p.exposures;
    e["beam_on_s"] = p.beam_on_s;
    Json materials = Json::object();
    std::string material;
    for (const PositionDose& d : p.doses) {
      Json row = {{"dose_max_Gy", d.dose_max_Gy}};
      if (!d.first_crossing_s.empty()) row["first_crossing_s"] = crossings_json(scale, d.scale_material, d.first_crossing_s);
      if (!d.component) {
        material = d.name;
        materials[material] = row;
      } else {
        materials[material]["components"][d.name] = row;
      }
    }
    e["materials"] = materials;
    list.push_back(e);
  }
  return list;
}

}  // namespace

std::string summary_json(const RunRecord& run) {
  const Scene& scene = run.scene;
  const MaterialTable& mt = run.materials;
  const GridGeometry& g = run.geometry;
  Json j;
  j["format"] = 1;
  j["title"] = scene.title;
  j["dose_model"] = dose_model_name(mt.model);
  j["backend"] = run.backend;
  j["version"] = run.version;
  j["grid"] = {{"dims", {g.dims[0], g.dims[1], g.dims[2]}},
               {"voxel_um", {g.voxel_um[0], g.voxel_um[1], g.voxel_um[2]}},
               {"origin_um", {g.origin_um[0], g.origin_um[1], g.origin_um[2]}}};
  j["time"] = {{"scan_duration_s", run.timeline.duration_s},
               {"beam_on_s", run.timeline.beam_on_s},
               {"exposures", run.timeline.exposures.size()},
               {"sub_exposures", run.sub_exposures}};
  // The stage: lab and sample frames coincide without one (docs/scene-format.md).
  const StageSpec& stage = scene.sample.stage;
  Json stage_json;
  stage_json["present"] = stage.present;
  if (stage.present) {
    const auto c = stage_center_um(stage, g);
    stage_json["axis"] = stage.axis == 0 ? "x" : stage.axis == 1 ? "y" : "z";
    stage_json["center_um"] = {c[0], c[1], c[2]};
    stage_json["tilt_deg"] = stage.tilt_deg;
  }
  stage_json["poses"] = run.poses;
  j["stage"] = stage_json;
  j["energy_J"] = {{"incident", run.energy.incident_J},
                   {"deposited", run.energy.deposited_J},
                   {"transmitted", run.energy.transmitted_J},
                   {"other", run.energy.other_J},
                   {"beam", run.energy.beam_J}};
  // [output] thresholds_Gy: the scale of every material without its own (each material's
  // scale is under materials.<name>.thresholds_Gy).
  const ThresholdScale scale = threshold_scale(scene);
  Json thresholds = Json::object();
  for (const auto& t : scene.output.thresholds) thresholds[t.label] = t.dose_Gy;
  j["thresholds_Gy"] = thresholds;
  Json beam;
  beam["flux_ph_s"] = scene.beam.flux_ph_s;
  beam["profile"] = profile_name(scene.beam.profile);
  beam["mean_energy_keV"] = scene.beam.mean_energy_keV();
  Json lines = Json::array();
  for (const auto& l : scene.beam.spectrum) lines.push_back({{"energy_keV", l.energy_keV}, {"photon_fraction", l.weight}});
  beam["spectrum"] = lines;
  beam["coefficients"] = scene.beam.spectrum.size() == 1
                             ? "at the beam energy"
                             : "photon-weighted means over the spectrum lines (per line under materials.*.per_line)";
  j["beam"] = beam;

  Json materials = Json::object();
  for (const MaterialStats& s : run.stats.materials) {
    const Material& m = mt.materials[s.index];
    Json e = coefficients_json(mt, m);
    e["index"] = s.index;
    e["defined_as"] = m.source;
    if (mt.spectrum.size() > 1) {
      Json per_line = Json::array();
      for (const auto& c : m.lines)
        per_line.push_back({{"energy_keV", c.energy_keV}, {"mu_rho_cm2_g", c.mu_rho()}, {"mu_en_rho_cm2_g", c.mu_en_rho()},
                            {"deposition_cm2_g", c.deposition(mt.model)}});
      e["per_line"] = per_line;
    }
    e["voxels"] = s.voxels;
    e["mass_g"] = s.mass_g;
    e["deposited_J"] = s.deposited_J;
    e["dose_mean_Gy"] = s.dose_mean_Gy;
    e["dose_max_Gy"] = s.dose_max_Gy;
    if (s.dose_max_voxel >= 0) {
      const int64_t v = s.dose_max_voxel;
      e["dose_max_voxel"] = {v % g.dims[0], (v / g.dims[0]) % g.dims[1], v / g.columns()};
    }
    e["dose_rate_peak_max_Gy_s"] = s.rate_peak_max_Gy_s;
    e["thresholds_Gy"] = scale_json(scale, s.index);
    e["above"] = above_json(scale, s.above);
    Json comps = Json::object();
    for (size_t c = 0; c < s.components.size(); ++c) {
      const DoseStats& cs = s.components[c];
      const MaterialComponent* mc = nullptr;
      for (const auto& x : m.components)
        if (x.name == cs.name) mc = &x;
      Json ce;
      ce["dose_max_Gy"] = cs.dose_max_Gy;
      ce["dose_mean_Gy"] = cs.dose_mean_Gy;
      ce["volume_fraction"] = mc ? mc->volume_fraction : 0.0;
      ce["mass_fraction"] = mc ? mc->mass_fraction : 0.0;
      ce["mass_g"] = cs.mass_g;
      ce["deposited_J"] = cs.deposited_J;
      ce["dose_rate_peak_max_Gy_s"] = cs.rate_peak_max_Gy_s;
      ce["above"] = above_json(scale, cs.above);
      comps[cs.name] = ce;
    }
    if (!s.components.empty()) e["components"] = comps;
    materials[m.name] = e;
  }
  j["materials"] = materials;

  if (run.stats.dose_max_voxel >= 0) {
    const int64_t v = run.stats.dose_max_voxel;
    const int64_t i = v % g.dims[0], jj = (v / g.dims[0]) % g.dims[1], k = v / g.columns();
    j["dose_max"] = {{"Gy", run.stats.dose_max_Gy},
                     {"voxel", {i, jj, k}},
                     {"position_um", {g.center_um(0, i), g.center_um(1, jj), g.center_um(2, k)}}};
  }
  Json layers = Json::array();
  double z = 0;
  for (const LayerSpec& l : scene.sample.layers) {
    layers.push_back({{"material", l.material}, {"z0_um", z}, {"z1_um", z + l.thickness_um}});
    z += l.thickness_um;
  }
  {
    // What viewers load (host/outputs/viewer_grids.h): tools/paraview and tools/blender read it.
    auto box_json = [](const IndexBox& b) {
      return Json{{"i", {b.lo[0], b.hi[0]}}, {"j", {b.lo[1], b.hi[1]}}, {"k", {b.lo[2], b.hi[2]}}};
    };
    Json v;
    v["dosed_region"] = box_json(run.dosed_region);
    v["dosed_floor_Gy"] = kDosedFraction * run.stats.dose_max_Gy;
    v["vti_crop"] = run.vti_cropped ? "auto" : "none";
    v["vti_region"] = box_json(run.vti_box);
    if (run.preview_factor > 1) {
      const GridGeometry& p = run.preview;
      v["preview"] = {{"factor", run.preview_factor},
                      {"dims", {p.dims[0], p.dims[1], p.dims[2]}},
                      {"voxel_um", {p.voxel_um[0], p.voxel_um[1], p.voxel_um[2]}},
                      {"origin_um", {p.origin_um[0], p.origin_um[1], p.origin_um[2]}}};
    } else {
      v["preview"] = nullptr;
    }
    j["viewers"] = v;
  }
  if (run.convergence) {
    const PeakConvergence& c = *run.convergence;
    Json conv;
    conv["region_voxels"] = {{"i", {c.i0, c.i1}}, {"j", {c.j0, c.j1}}, {"k", {0, c.k1}}};
    conv["halved_voxel_um"] = {c.halved.voxel_um[0], c.halved.voxel_um[1], c.halved.voxel_um[2]};
    conv["halved_dims"] = {c.halved.dims[0], c.halved.dims[1], c.halved.dims[2]};
    conv["seconds"] = c.seconds;
    Json per = Json::object();
    for (const MaterialConvergence& m : c.materials)
      per[m.name] = {{"dose_max_Gy", m.dose_max_Gy},
                     {"halved_dose_max_Gy", m.halved_dose_max_Gy},
                     {"converged_range_Gy", {m.low_Gy, m.high_Gy}}};
    conv["materials"] = per;
    j["convergence"] = conv;
  }
  j["point_positions"] = point_positions_json(scene, scale, run.point_positions);
  j["point_positions_total"] = run.point_positions.size();  // the list keeps the first kSummaryPositions
  if (run.points_not_built.empty())
    j["points"] = {{"file", "points.csv"}, {"hdf5", "points.h5"}, {"rows", run.point_rows}};
  else
    j["points"] = {{"file", nullptr}, {"hdf5", nullptr}, {"not_built", run.points_not_built}};
  j["sample"] = {{"layers", layers}, {"shapes", scene.sample.shapes.size()}};
  if (const VolumeSpec& vol = scene.sample.volume; vol.present) {
    Json labels = Json::object();
    for (const VolumeLabel& l : vol.labels) labels[std::to_string(l.value)] = l.material;
    const std::string axes = vol.axes_text();
    j["sample"]["volume"] = {{"file", vol.path}, {"dims_as_stored", {vol.file_dims[0], vol.file_dims[1], vol.file_dims[2]}},
                             {"axes_as_stored", axes}, {"labels", labels}};
  }
  j["grids"] = {{"component_doses", run.component_grids}};
  Json frames = Json::array();
  for (size_t f = 0; f < run.frame_times_s.size(); ++f) frames.push_back({{"frame", f + 1}, {"time_s", run.frame_times_s[f]}});
  j["frames"] = frames;
  j["files"] = run.files;
  Json stage_wall = Json::object(), stage_cpu = Json::object();
  for (const auto& [stage, seconds] : run.stages) {
    stage_wall[stage] = seconds.wall;
    stage_cpu[stage] = seconds.cpu;
  }
  j["run"] = {{"device", run.device},
              {"seconds", run.total.wall},
              {"cpu_seconds", run.total.cpu},
              {"stage_seconds", stage_wall},
              {"stage_cpu_seconds", stage_cpu},
              {"fluence_events", run.fluence_events},
              {"voxel_updates", run.voxel_updates},
              {"energy_balance_max_relative_error", run.energy.max_ray_imbalance}};
  // Strings that are not UTF-8 (paths) become U+FFFD rather than an exception.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

constexpr size_t kReportedPositions = 8;  // the rest are in summary.json

// A threshold column's title: the label and its dose when every material gives it the same
// (else each cell names its material's dose).
std::string threshold_header(const ThresholdScale& scale, int t) {
  const double common = scale.common_dose(t);
  return scale.labels[t] + (std::isnan(common) ? std::string() : " " + human_dose(common));
}

// A cell of a threshold column: "n/a" where the material does not carry the label.
std::string threshold_cell(const ThresholdScale& scale, int material, int t, const std::string& text) {
  if (material < 0 || !scale.applies(material, t)) return "n/a";
  return std::isnan(scale.common_dose(t)) ? human_dose(scale.at(material, t)) + ": " + text : text;
}

void print_point_positions(const RunRecord& run, std::ostream& out) {
  const std::vector<PointPosition>& positions = run.point_positions;
  if (positions.empty()) return;
  out << "\nPoint positions: " << (run.scene.sample.stage.present ? "the beam centre's path at the step's stage angle"
                                                                    : "the voxel column under each beam centre")
      << " (max dose there, and when it first reached each threshold)\n";
  const ThresholdScale scale = threshold_scale(run.scene);
  std::vector<std::string> header{"position", "beam on", "material", "max dose"};
  for (int t = 0; t < scale.count(); ++t) header.push_back(threshold_header(scale, t));
  TextTable table(header);
  for (size_t n = 0; n < positions.size() && n < kReportedPositions; ++n) {
    const PointPosition& p = positions[n];
    bool first = true;
    for (const PositionDose& d : p.doses) {
      const std::string at = "(" + fmt_g(p.at_um[0], 6) + ", " + fmt_g(p.at_um[1], 6) + ") um" +
                             (run.scene.sample.stage.present ? " at " + fmt_g(p.angle_deg, 6) + " deg" : "");
      std::vector<std::string> row{first ? at : "",
                                   first ? human_time(p.beam_on_s) : "", (d.component ? "  " : "") + d.name,
                                   human_dose(d.dose_max_Gy)};
      for (size_t t = 0; t < d.first_crossing_s.size(); ++t) {
        const double at_s = d.first_crossing_s[t];
        row.push_back(threshold_cell(scale, d.scale_material, static_cast<int>(t), at_s >= 0 ? human_time(at_s) : "-"));
      }
      if (d.first_crossing_s.empty()) row.resize(header.size(), "n/a");  // a component on a slanted path
      table.add_row(row);
      first = false;
    }
  }
  table.print(out);
  if (positions.size() > kReportedPositions)
    out << "  (" << positions.size() - kReportedPositions << " more positions"
        << (positions.size() > kSummaryPositions ? "; every visit of every point in points.csv" : " in summary.json point_positions")
        << ")\n";
}

void print_convergence(const PeakConvergence& c, const GridGeometry& g, std::ostream& out) {
  out << "\nPeak dose against voxel size: the hottest region (columns " << c.i0 << "-" << c.i1 - 1 << " x " << c.j0 << "-"
      << c.j1 - 1 << ", depth to voxel " << c.k1 - 1 << ") again on voxels of " << fmt_g(c.halved.voxel_um[0]) << " x "
      << fmt_g(c.halved.voxel_um[1]) << " x " << fmt_g(c.halved.voxel_um[2]) << " um, " << fmt_g(c.seconds, 3) << " s\n";
  TextTable t({"material", "peak on " + fmt_g(g.voxel_um[0]) + " um voxels", "on halved voxels", "change",
               "converged peak likely within"});
  bool unresolved = false;
  for (const MaterialConvergence& m : c.materials) {
    const double change = m.dose_max_Gy > 0 ? m.halved_dose_max_Gy / m.dose_max_Gy - 1 : 0;
    unresolved = unresolved || std::fabs(change) > 0.05;
    t.add_row({m.name, human_dose(m.dose_max_Gy), human_dose(m.halved_dose_max_Gy),
               (change >= 0 ? "+" : "") + fmt_g(100 * change, 3) + " %",
               human_dose(m.low_Gy) + " - " + human_dose(m.high_Gy)});
  }
  t.print(out);
  out << "  (the range assumes the error shrinks at least in proportion to the voxel edge; a smooth peak shrinks "
         "it faster)\n";
  if (unresolved)
    out << "  note: halving the voxels changed a peak by more than 5 %: these voxels do not resolve it; use smaller "
           "voxels where it matters (docs/physics.md, \"Voxel size\")\n";
}

}  // namespace

void print_run_report(const RunRecord& run, const std::string& output_dir, std::ostream& out) {
  const Scene& scene = run.scene;
  const ThresholdScale scale = threshold_scale(scene);
  out << "dosemap run: " << scene.title << "\n";
  print_fields(out, {
      {"backend", run.backend + " (" + run.device + "), " + fmt_g(run.total.wall, 3) + " s"},
      {"dose model", dose_model_name(run.materials.model)},
      {"scan", group_digits(static_cast<long long>(run.timeline.exposures.size())) + " exposures over " +
                   human_duration(run.timeline.duration_s) + ", beam on " + human_time(run.timeline.beam_on_s)},
      {"stage", run.scene.sample.stage.present
                    ? group_digits(run.poses) + (run.poses == 1 ? " pose" : " poses") + " (axis " +
                          (run.scene.sample.stage.axis == 0 ? "x" : run.scene.sample.stage.axis == 1 ? "y" : "z") +
                          ", tilt " + fmt_g(run.scene.sample.stage.tilt_deg, 6) + " deg), " +
                          fmt_g(static_cast<double>(run.voxel_updates), 3) + " voxel-pose updates"
                    : std::string("fixed (beam along +z)")},
      {"grid", std::to_string(run.geometry.dims[0]) + " x " + std::to_string(run.geometry.dims[1]) + " x " +
                   std::to_string(run.geometry.dims[2]) + " voxels of " + fmt_g(run.geometry.voxel_um[0]) + " x " +
                   fmt_g(run.geometry.voxel_um[1]) + " x " + fmt_g(run.geometry.voxel_um[2]) + " um"},
      {"results", output_dir + "/ (" + std::to_string(run.files.size()) + " files: " +
                      [&] {
                        std::string list;
                        size_t frames = 0;
                        for (const auto& f : run.files) {
                          if (f.rfind("frames/", 0) == 0) { ++frames; continue; }
                          if (f != "summary.json") list += f + ", ";  // named last
                        }
                        if (frames) list += std::to_string(frames) + " frame files, ";
                        return list + "summary.json)";
                      }()},
  });

  out << "\nDose per material and component (mean = deposited energy / mass)\n";
  TextTable dose({"material", "max dose", "mean dose", "peak rate", "mass"});
  auto dose_row = [&](const std::string& name, const DoseStats& s) {
    dose.add_row({name, human_dose(s.dose_max_Gy), human_dose(s.dose_mean_Gy), human_rate(s.rate_peak_max_Gy_s),
                  fmt_g(s.mass_g * 1e3, 3) + " mg"});
  };
  for (const MaterialStats& s : run.stats.materials) {
    if (s.voxels == 0) continue;
    dose_row(s.name, s);
    for (const DoseStats& c : s.components) dose_row("  " + c.name, c);
  }
  dose.print(out);

  if (scale.count() > 0) {
    out << "\nDamage thresholds: volume above each, and when the first voxel crossed it"
        << (scale.uniform() ? "" : " (each material against its own thresholds; n/a: not one of them)") << "\n";
    std::vector<std::string> header{"material"};
    for (int t = 0; t < scale.count(); ++t) header.push_back(threshold_header(scale, t));
    TextTable thr(header);
    auto thr_row = [&](const std::string& name, int scale_material, const DoseStats& s) {
      std::vector<std::string> row{name};
      for (size_t t = 0; t < s.above.size(); ++t) {
        const ThresholdStats& a = s.above[t];
        row.push_back(threshold_cell(scale, scale_material, static_cast<int>(t),
                                     a.voxels == 0 ? "-" : fmt_g(a.volume_mm3, 3) + " mm3 from " + human_time(a.first_crossing_s)));
      }
      thr.add_row(row);
    };
    for (const MaterialStats& s : run.stats.materials) {
      if (s.voxels == 0) continue;
      thr_row(s.name, s.index, s);
      for (const DoseStats& c : s.components) thr_row("  " + c.name, run.materials.index(c.name), c);
    }
    thr.print(out);
  }

  print_point_positions(run, out);
  if (run.convergence) print_convergence(*run.convergence, run.geometry, out);

  const EnergyBalance& e = run.energy;
  auto pct = [&](double x) { return e.incident_J > 0 ? fmt_g(100.0 * x / e.incident_J, 3) + " %" : std::string("-"); };
  out << "\nEnergy balance: incident " << fmt_g(e.incident_J, 4) << " J = deposited " << fmt_g(e.deposited_J, 4) << " J ("
      << pct(e.deposited_J) << ") + transmitted " << fmt_g(e.transmitted_J, 4) << " J (" << pct(e.transmitted_J)
      << ") + scattered/fluorescence " << fmt_g(e.other_J, 4) << " J (" << pct(e.other_J) << ")\n";
  if (e.beam_J > e.incident_J * (1 + 1e-9))
    out << "  note: " << fmt_g(100.0 * (1 - e.incident_J / e.beam_J), 3)
        << " % of the beam's energy fell outside the sample grid and is not counted\n";
}

}  // namespace dosemap
