// `dosemap plan SCENE --limit NAME=DOSE_Gy [--rate-limit NAME=GY_S] [-o DIR]`: how far the
// scene's beam-on times (or its flux) may be scaled before a limited material reaches its
// limit (host/plan/inverse_dose.h), from one run. Writes DIR/plan.json and DIR/planned.toml
// (the scene at the largest scale that stays within every limit) and prints a report.
// Optimising dwell times and scan patterns (issue 12, parts 2 and 3) is not built yet.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "host/cli/commands.h"
#include "host/cli/scene_setup.h"
#include "host/common/input_file.h"
#include "host/common/progress.h"
#include "host/common/text.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/output_files.h"
#include "host/plan/inverse_dose.h"
#include "host/scene/scene_limits.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

namespace {

using Json = nlohmann::ordered_json;

// The planned flux stays this far below the exact scale, so that the float grids of a run of
// planned.toml never pass a limit by rounding (they reach it to 1e-6).
constexpr double kPlannedMargin = 1.0 / (1 << 22);

Json finite_or_null(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json voxel_json(const GridGeometry& g, int64_t v) {
  if (v < 0) return nullptr;
  return {v % g.dims[0], (v / g.dims[0]) % g.dims[1], v / g.columns()};
}

std::string scale_text(double s) { return std::isfinite(s) ? fmt_g(s, 4) : "unlimited"; }

// The beam-on time the step or point may have, all repetitions together.
std::string allowed_text(const ExposureScale& x) {
  if (x.others_pass) return "none: the others pass the limit";
  return std::isfinite(x.scale) ? human_time(x.scale * x.beam_on_s) : "unlimited";
}

// The scene's text with [beam] flux_ph_s multiplied by `scale` (and a beam image's path made
// absolute, planned.toml living elsewhere): everything else exactly as the user wrote it.
std::string planned_scene(const Scene& scene, double scale, double planned_flux) {
  std::string text;
  read_small_file(scene.path, "scene file", kMaxSceneFileBytes, text);
  std::istringstream in(text);
  std::ostringstream out;
  out << "# Planned by dosemap plan from " << scene.path << ": flux_ph_s x" << fmt_g(scale, 9)
      << " (every beam-on time scaled alike), the largest that keeps every limit.\n";
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line_no == scene.beam.flux_where.line) {
      const size_t start = static_cast<size_t>(scene.beam.flux_where.column - 1);
      size_t end = start;
      while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '#') ++end;
      char value[64];
      std::snprintf(value, sizeof value, "%.17g", planned_flux);
      line = line.substr(0, start) + value + line.substr(end) + "  # was " + line.substr(start, end - start);
    }
    static const std::regex image_key(R"(^(\s*)image\s*=)");
    std::smatch m;
    if (scene.beam.profile == ProfileKind::kImage && std::regex_search(line, m, image_key))
      line = m[1].str() + "image = \"" + std::filesystem::absolute(scene.beam.image.path).string() + "\"";
    out << line << "\n";
  }
  return out.str();
}

}  // namespace

int plan_command(const PlanOptions& o, std::ostream& out) {
  const SceneSetup setup = set_up_scene(o.scene, WorkLimits{}, o.threads);
  refuse_if_short_of_memory(setup);
  const Scene& scene = setup.scene;
  const MaterialTable& materials = setup.materials;
  if (o.limits.empty() && o.rate_limits.empty())
    throw UserError(SourcePos{"dosemap plan", 0, 0}, "needs at least one limit",
                    "give e.g. --limit NMC811=1e6 (Gy) or --rate-limit NMC811=1e4 (Gy/s)");
  if (o.limits.size() > static_cast<size_t>(kMaxThresholds))
    throw UserError(SourcePos{"--limit", 0, 0},
                    std::to_string(o.limits.size()) + " dose limits; at most " + std::to_string(kMaxThresholds) + " are supported",
                    "keep the limits that matter");
  const TransportTables names = build_transport_tables(materials, setup.geometry, threshold_scale(scene));
  std::vector<DoseLimit> limits, rate_limits;
  for (const std::string& t : o.limits) limits.push_back(parse_limit(t, false, materials, names));
  for (const std::string& t : o.rate_limits) rate_limits.push_back(parse_limit(t, true, materials, names));

  const std::string dir = o.output_dir.empty()
                              ? (std::filesystem::path("out") / (std::filesystem::path(scene.path).stem().string() + "_plan")).string()
                              : o.output_dir;
  RunDirectory out_dir(dir, o.overwrite);

  // One run of the scene as written, with each dose limit as its material's threshold.
  const Scene judged = plan_thresholds(scene, limits);
  const TransportParams params = make_transport_params(materials, std::make_shared<const VoxelGrid>(voxelize(judged)),
                                                       judged.beam, judged.sample.stage, threshold_scale(judged));
  Progress progress(stderr_is_terminal());
  EngineOptions options;
  options.threads = o.threads;
  options.backend = o.backend == "cpu" ? Backend::kCpu : o.backend == "cuda" ? Backend::kCuda : Backend::kAuto;
  options.progress = &progress;
  const DoseResults results = compute_dose(params, setup.timeline, options);
  const InverseDose inv =
      inverse_dose(judged, materials, params.grid, setup.timeline, results, limits, rate_limits, o.threads);
  progress.clear();

  const GridGeometry& g = setup.geometry;
  const double scale = std::min(inv.uniform_scale, inv.flux_scale);
  const double planned_flux = scene.beam.flux_ph_s * scale * (1 - kPlannedMargin);
  // A scene run can read back: the flux within the range scenes allow (docs/scene-format.md).
  const bool plannable = std::isfinite(scale) && planned_flux >= 1 && planned_flux <= 1e30;

  Json j;
  j["format"] = 1;
  j["scene"] = scene.path;
  j["title"] = scene.title;
  auto limits_json = [&](const std::vector<LimitOutcome>& list, const char* unit) {
    Json a = Json::array();
    for (const LimitOutcome& l : list) {
      Json e;
      e["name"] = l.limit.name;
      e[std::string("limit_") + unit] = l.limit.limit;
      e[std::string("max_") + unit] = l.max_value;
      e["max_voxel"] = voxel_json(g, l.max_voxel);
      e["scale"] = finite_or_null(l.scale);
      if (!l.limit.rate) e["first_reached_s"] = l.first_reached_s >= 0 ? Json(l.first_reached_s) : Json(nullptr);
      a.push_back(e);
    }
    return a;
  };
  j["limits"] = limits_json(inv.limits, "Gy");
  j["rate_limits"] = limits_json(inv.rate_limits, "Gy_s");
  j["uniform_scale"] = finite_or_null(inv.uniform_scale);
  j["flux_scale"] = finite_or_null(inv.flux_scale);
  j["planned"] = plannable ? Json{{"file", "planned.toml"}, {"flux_ph_s", planned_flux}, {"scale", scale}}
                           : Json(nullptr);
  auto scales_json = [&](const std::vector<ExposureScale>& list, bool points) {
    Json a = Json::array();
    for (const ExposureScale& x : list) {
      Json e;
      e["step"] = x.step;
      if (points) {
        e["point"] = x.point;
        e["at_um"] = {x.x_um, x.y_um};
      } else {
        e["kind"] = step_kind_name(scene.scan.steps[x.step].kind);
      }
      e["beam_on_s"] = x.beam_on_s;
      e["scale"] = finite_or_null(x.scale);
      e["beam_on_allowed_s"] = finite_or_null(x.scale * x.beam_on_s);
      if (x.others_pass) e["others_pass_limit"] = true;
      e["binding"] = x.binding_limit < 0 ? Json(nullptr)
                                         : Json{{"limit", inv.limits[x.binding_limit].limit.name},
                                                {"voxel", voxel_json(g, x.binding_voxel)}};
      a.push_back(e);
    }
    return a;
  };
  if (inv.per_point_not_built.empty()) {
    j["steps"] = scales_json(inv.steps, false);
    j["points"] = scales_json(inv.points, true);
  } else {
    j["steps"] = j["points"] = nullptr;
    j["per_point_not_built"] = inv.per_point_not_built;
  }
  out_dir.write_file("plan.json", [&](CheckedFile& f) {
    f.stream() << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
  if (plannable)
    out_dir.write_file("planned.toml", [&](CheckedFile& f) { f.stream() << planned_scene(scene, scale, planned_flux); });
  out_dir.commit();

  // ---- the report ----
  out << "dosemap plan: " << scene.title << "\n\nLimits (the scene as written)\n";
  TextTable t({"limit", "largest in the scene", "first reached", "scale"});
  for (const LimitOutcome& l : inv.limits)
    t.add_row({l.limit.name + " <= " + human_dose(l.limit.limit), human_dose(l.max_value),
               l.first_reached_s >= 0 ? human_time(l.first_reached_s) : "never", scale_text(l.scale)});
  for (const LimitOutcome& l : inv.rate_limits)
    t.add_row({l.limit.name + " rate <= " + human_rate(l.limit.limit), human_rate(l.max_value), "-", scale_text(l.scale)});
  t.print(out);
  if (!inv.limits.empty())
    out << "\nuniform scale " << scale_text(inv.uniform_scale)
        << ": every beam-on time (dwell, exposure; fly and rotation speeds divided) may be multiplied by it\n";
  if (!inv.rate_limits.empty())
    out << "flux scale " << scale_text(inv.flux_scale) << ": the attenuator's transmission that keeps the peak rates\n";
  if (inv.per_point_not_built.empty() && !inv.steps.empty()) {
    out << "\nPer step: the factor on its beam-on time alone (the others unchanged)\n";
    TextTable st({"step", "kind", "beam on", "scale", "may be on", "binding"});
    for (const ExposureScale& x : inv.steps)
      st.add_row({std::to_string(x.step), step_kind_name(scene.scan.steps[x.step].kind), human_time(x.beam_on_s),
                  scale_text(x.scale), allowed_text(x), x.binding_limit < 0 ? "-" : inv.limits[x.binding_limit].limit.name});
    st.print(out);
    std::vector<const ExposureScale*> low;
    for (const ExposureScale& x : inv.points) low.push_back(&x);
    std::stable_sort(low.begin(), low.end(), [](const auto* a, const auto* b) { return a->scale < b->scale; });
    constexpr size_t kShown = 8;
    out << "\nPer point: the factor on one point's beam-on time, every repetition (the " << std::min(kShown, low.size())
        << " lowest of " << low.size() << "; all in plan.json)\n";
    TextTable pt({"step", "point", "at", "beam on", "scale", "may be on", "binding"});
    for (size_t n = 0; n < low.size() && n < kShown; ++n)
      pt.add_row({std::to_string(low[n]->step), std::to_string(low[n]->point),
                  "(" + fmt_g(low[n]->x_um, 6) + ", " + fmt_g(low[n]->y_um, 6) + ") um", human_time(low[n]->beam_on_s),
                  scale_text(low[n]->scale), allowed_text(*low[n]), low[n]->binding_limit < 0 ? "-" : inv.limits[low[n]->binding_limit].limit.name});
    pt.print(out);
  } else if (!inv.per_point_not_built.empty()) {
    out << "\nPer step and per point: not built: " << inv.per_point_not_built << "\n";
  }
  out << "\n" << dir << "/plan.json";
  if (plannable)
    out << ", " << dir << "/planned.toml (flux " << fmt_g(scene.beam.flux_ph_s, 4) << " -> " << fmt_g(planned_flux, 4)
        << " ph/s: dosemap run on it reaches the binding limit and passes none)";
  else if (!std::isfinite(scale))
    out << " (no limited voxel receives dose: nothing to plan)";
  else
    out << " (no planned.toml: its flux, " << fmt_g(planned_flux, 4) << " ph/s, would lie outside the 1-1e30 ph/s a "
        << "scene allows)";
  out << "\n";
  return 0;
}

}  // namespace dosemap
