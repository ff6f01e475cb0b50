#include "host/outputs/run_summary.h"

#include <nlohmann/json.hpp>

#include "host/common/text.h"
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

Json above_json(const Scene& scene, const std::vector<ThresholdStats>& above) {
  Json j = Json::object();
  for (size_t t = 0; t < above.size(); ++t) {
    Json a;
    a["voxels"] = above[t].voxels;
    a["volume_mm3"] = above[t].volume_mm3;
    a["first_crossing_s"] = above[t].first_crossing_s >= 0 ? Json(above[t].first_crossing_s) : Json(nullptr);
    j[scene.output.thresholds[t].label] = a;
  }
  return j;
}

Json crossings_json(const Scene& scene, const std::vector<double>& first_crossing_s) {
  Json j = Json::object();
  for (size_t t = 0; t < first_crossing_s.size(); ++t)
    j[scene.output.thresholds[t].label] = first_crossing_s[t] >= 0 ? Json(first_crossing_s[t]) : Json(nullptr);
  return j;
}

Json point_positions_json(const Scene& scene, const std::vector<PointPosition>& positions) {
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
      if (!d.first_crossing_s.empty()) row["first_crossing_s"] = crossings_json(scene, d.first_crossing_s);
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
    e["above"] = above_json(scene, s.above);
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
      ce["above"] = above_json(scene, cs.above);
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
  j["point_positions"] = point_positions_json(scene, run.point_positions);
  j["point_positions_total"] = run.point_positions.size();  // the list keeps the first kSummaryPositions
  if (run.points_not_built.empty())
    j["points"] = {{"file", "points.csv"}, {"hdf5", "points.h5"}, {"rows", run.point_rows}};
  else
    j["points"] = {{"file", nullptr}, {"hdf5", nullptr}, {"not_built", run.points_not_built}};
  j["sample"] = {{"layers", layers}, {"shapes", scene.sample.shapes.size()}};
  j["grids"] = {{"component_doses", run.component_grids}};
  Json frames = Json::array();
  for (size_t f = 0; f < run.frame_times_s.size(); ++f) frames.push_back({{"frame", f + 1}, {"time_s", run.frame_times_s[f]}});
  j["frames"] = frames;
  j["files"] = run.files;
  Json stages = Json::object();
  for (const auto& [stage, seconds] : run.stage_seconds) stages[stage] = seconds;
  j["run"] = {{"device", run.device},
              {"seconds", run.seconds_total},
              {"stage_seconds", stages},
              {"fluence_events", run.fluence_events},
              {"voxel_updates", run.voxel_updates},
              {"energy_balance_max_relative_error", run.energy.max_ray_imbalance}};
  // Strings that are not UTF-8 (paths) become U+FFFD rather than an exception.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

constexpr size_t kReportedPositions = 8;  // the rest are in summary.json

void print_point_positions(const RunRecord& run, std::ostream& out) {
  const std::vector<PointPosition>& positions = run.point_positions;
  if (positions.empty()) return;
  out << "\nPoint positions: " << (run.scene.sample.stage.present ? "the beam centre's path at the step's stage angle"
                                                                    : "the voxel column under each beam centre")
      << " (max dose there, and when it first reached each threshold)\n";
  std::vector<std::string> header{"position", "beam on", "material", "max dose"};
  for (const auto& t : run.scene.output.thresholds) header.push_back(t.label + " " + human_dose(t.dose_Gy));
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
      for (double t : d.first_crossing_s) row.push_back(t >= 0 ? human_time(t) : "-");
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

}  // namespace

void print_run_report(const RunRecord& run, const std::string& output_dir, std::ostream& out) {
  const Scene& scene = run.scene;
  const auto& thresholds = scene.output.thresholds;
  out << "dosemap run: " << scene.title << "\n";
  print_fields(out, {
      {"backend", run.backend + " (" + run.device + "), " + fmt_g(run.seconds_total, 3) + " s"},
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

  if (!thresholds.empty()) {
    out << "\nDamage thresholds: volume above each, and when the first voxel crossed it\n";
    std::vector<std::string> header{"material"};
    for (const auto& t : thresholds) header.push_back(t.label + " " + human_dose(t.dose_Gy));
    TextTable thr(header);
    auto thr_row = [&](const std::string& name, const DoseStats& s) {
      std::vector<std::string> row{name};
      for (const auto& a : s.above)
        row.push_back(a.voxels == 0 ? "-" : fmt_g(a.volume_mm3, 3) + " mm3 from " + human_time(a.first_crossing_s));
      thr.add_row(row);
    };
    for (const MaterialStats& s : run.stats.materials) {
      if (s.voxels == 0) continue;
      thr_row(s.name, s);
      for (const DoseStats& c : s.components) thr_row("  " + c.name, c);
    }
    thr.print(out);
  }

  print_point_positions(run, out);

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
