// A plan (computed_plan.h): how far the scene's beam-on times (or its flux) may be scaled
// before a limited material reaches its limit (host/plan/inverse_dose.h), from one run;
// with --optimize dwell, a dwell time per raster and point position (host/plan/dwell_plan.h);
// with --optimize pattern, raster families on their Pareto front (host/plan/pattern_search.h).
// plan.json, planned.toml (the scene at the plan, which stays within every limit) and the
// report the CLI prints.
#include "host/cli/computed_plan.h"

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/cli/thread_budget.h"
#include "host/common/input_file.h"
#include "host/common/progress.h"
#include "host/common/text.h"
#include "host/outputs/checked_file.h"
#include "host/outputs/output_files.h"
#include "host/plan/dwell_plan.h"
#include "host/plan/inverse_dose.h"
#include "host/plan/pattern_search.h"
#include "host/plan/planned_scene.h"
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

Json dwell_json(const DwellPlan& dp, const InverseDose& inv, const GridGeometry& g) {
  Json d;
  d["flux_factor"] = dp.flux_factor;
  d["max_scale"] = dp.max_scale;
  if (!dp.not_plannable.empty()) {
    d["not_plannable"] = dp.not_plannable;
    return d;
  }
  d["min_scale"] = dp.min_scale;
  d["beam_on_s"] = dp.beam_on_s;
  d["scene_beam_on_s"] = dp.scene_beam_on_s;
  d["uniform_beam_on_s"] = finite_or_null(inv.uniform_scale * dp.scene_beam_on_s);
  d["fixed_beam_on_s"] = dp.fixed_beam_on_s;
  d["lp"] = {{"solver", dp.lp.solver},     {"rows", dp.lp.rows},       {"columns", dp.lp.columns},
             {"nonzeros", dp.lp.nonzeros}, {"rows_as_bounds", dp.lp.rows_as_bounds},
             {"build_s", dp.lp.build_s},   {"solve_s", dp.lp.solve_s}};
  Json points = Json::array();
  for (const DwellPoint& p : dp.points) {
    Json e;
    e["step"] = p.at.step;
    e["point"] = p.at.point;
    e["at_um"] = {p.at.x_um, p.at.y_um};
    e["scale"] = p.scale;
    e["beam_on_s"] = p.scale * p.at.beam_on_s;
    e["bound_by"] = p.bound_by;
    if (p.binding_limit >= 0)
      e["binding"] = {{"limit", inv.limits[p.binding_limit].limit.name}, {"voxel", voxel_json(g, p.binding_voxel)}};
    points.push_back(e);
  }
  d["points"] = points;
  return d;
}

void print_dwell(const DwellPlan& dp, const InverseDose& inv, std::ostream& out) {
  out << "\nDwell optimisation (" << dp.lp.solver << ": " << dp.lp.columns << " points, " << dp.lp.rows << " rows, "
      << dp.lp.nonzeros << " nonzeros, " << dp.lp.rows_as_bounds << " rows as bounds; built in "
      << fmt_g(dp.lp.build_s, 3) << " s, solved in " << fmt_g(dp.lp.solve_s, 3) << " s)\n";
  if (!dp.not_plannable.empty()) {
    out << "no plan: " << dp.not_plannable << "\n";
    return;
  }
  if (dp.flux_factor < 1) out << "flux x" << fmt_g(dp.flux_factor, 6) << " (the rate limit), then\n";
  out << "every point at least x" << fmt_g(dp.min_scale, 4) << " its dwell, at most x" << fmt_g(dp.max_scale, 4)
      << " (--max-dwell-scale)\n"
      << "beam on at the points: " << human_time(dp.beam_on_s) << " (as written " << human_time(dp.scene_beam_on_s)
      << ", uniform scale " << (std::isfinite(inv.uniform_scale) ? human_time(inv.uniform_scale * dp.scene_beam_on_s) : "unlimited")
      << ")\n";
  std::vector<const DwellPoint*> low;
  for (const DwellPoint& p : dp.points) low.push_back(&p);
  std::stable_sort(low.begin(), low.end(), [](const auto* a, const auto* b) { return a->scale < b->scale; });
  constexpr size_t kShown = 8;
  out << "The " << std::min(kShown, low.size()) << " shortest dwells of " << low.size() << " (all in plan.json)\n";
  TextTable t({"step", "point", "at", "scale", "beam on", "held by"});
  for (size_t n = 0; n < low.size() && n < kShown; ++n) {
    const DwellPoint& p = *low[n];
    t.add_row({std::to_string(p.at.step), std::to_string(p.at.point),
               "(" + fmt_g(p.at.x_um, 6) + ", " + fmt_g(p.at.y_um, 6) + ") um", fmt_g(p.scale, 4),
               human_time(p.scale * p.at.beam_on_s),
               p.binding_limit >= 0 ? inv.limits[p.binding_limit].limit.name : p.bound_by});
  }
  t.print(out);
}

std::string percent_text(double fraction) {
  const double p = 100 * fraction;
  return (p < 100 ? fmt_g(p, 3) : fmt_f(p, 0)) + " %";
}

Json pattern_json(const PatternScore& c, const std::vector<DoseLimit>& limits, const ScanSpec& scan) {
  const RasterPattern& p = c.pattern;
  return Json{{"description", p.describe(scan)},
              {"step_factor", p.step_factor},
              {"dwell_factor", p.dwell_factor},
              {"order", pattern_order_name(p.order)},
              {"shift", p.shift_x && p.shift_y ? "xy" : p.shift_x ? "x" : p.shift_y ? "y" : "none"},
              {"pause_factor", p.keep_period ? Json(nullptr) : Json(p.pause_factor)},
              {"period_s", p.keep_period ? Json(scan.period_s) : Json(nullptr)},
              {"positions", c.positions},
              {"exposures", c.exposures},
              {"beam_on_s", c.beam_on_s},
              {"duration_s", c.duration_s},
              {"dose_fraction", c.dose_fraction},
              {"binding_limit", c.binding_limit >= 0 ? Json(limits[c.binding_limit].name) : Json(nullptr)},
              {"max_dose_Gy", c.max_dose_Gy},
              {"window_rate_Gy_s", c.window_rate_Gy_s},
              {"within_limits", c.within_limits},
              {"on_front", c.on_front}};
}

Json patterns_json(const PatternSearch& ps, const std::vector<DoseLimit>& limits, const ScanSpec& scan) {
  Json a = Json::array();
  for (const PatternScore& c : ps.candidates) a.push_back(pattern_json(c, limits, scan));
  return Json{{"rate_window_s", ps.window_s},
              {"evaluated", ps.candidates.size()},
              {"left_out", ps.left_out},
              {"seconds", ps.seconds},
              {"candidates_per_s", ps.seconds > 0 ? Json(static_cast<double>(ps.candidates.size()) / ps.seconds) : Json(nullptr)},
              {"chosen", ps.chosen >= 0 ? Json(ps.chosen) : Json(nullptr)},
              {"as_written", ps.as_written >= 0 ? Json(ps.as_written) : Json(nullptr)},
              {"planned", ps.has_planned ? pattern_json(ps.planned, limits, scan) : Json(nullptr)},
              {"candidates", a}};
}

void print_patterns(const PatternSearch& ps, const std::vector<DoseLimit>& limits, const Scene& scene, std::ostream& out) {
  out << "\nPattern search: " << ps.candidates.size() << " rasters over the scene's region, each evaluated with the "
      << "engine, in " << fmt_g(ps.seconds, 3) << " s (" << fmt_g(ps.candidates.size() / std::max(ps.seconds, 1e-9), 3)
      << " per second); dose rate over any " << human_time(ps.window_s) << "\n";
  if (ps.left_out > 0)
    out << ps.left_out << " more left out: they would have more exposures than a run may have\n";
  std::vector<const PatternScore*> front;
  for (const PatternScore& c : ps.candidates)
    if (c.on_front) front.push_back(&c);
  std::stable_sort(front.begin(), front.end(), [](const auto* a, const auto* b) { return a->beam_on_s > b->beam_on_s; });
  constexpr size_t kShown = 12;
  out << "The Pareto front (" << front.size() << " of " << ps.candidates.size() << "; the " << std::min(kShown, front.size())
      << " with the most beam on here, all in plan.json)\n";
  const std::vector<std::string> columns{"pattern", "beam on", "max dose", "of limit", "rate over window"};
  auto row = [&](TextTable& t, const PatternScore& c, const std::string& mark) {
    t.add_row({mark + c.pattern.describe(scene.scan), human_time(c.beam_on_s),
               c.binding_limit >= 0 ? limits[c.binding_limit].name + " " + human_dose(c.max_dose_Gy) : "-",
               percent_text(c.dose_fraction), human_rate(c.window_rate_Gy_s)});
  };
  TextTable t(columns);
  for (size_t n = 0; n < front.size() && n < kShown; ++n) row(t, *front[n], "");
  t.print(out);
  if (ps.has_planned) {
    out << "Chosen (the most beam on once each pattern's dwell reaches the limit):\n";
    TextTable c(columns);
    row(c, ps.candidates[ps.chosen], "as searched: ");
    row(c, ps.planned, "planned:     ");
    c.print(out);
  }
}

}  // namespace

PlanJob prepare_plan(std::shared_ptr<const SceneSetup> setup_ptr, const PlanOptions& o) {
  PlanJob job;
  job.setup = std::move(setup_ptr);
  const SceneSetup& setup = *job.setup;
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
  for (const std::string& t : o.limits) job.limits.push_back(parse_limit(t, false, scene, materials, names));
  for (const std::string& t : o.rate_limits) job.rate_limits.push_back(parse_limit(t, true, scene, materials, names));
  job.dwell = o.optimize == "dwell";
  job.pattern = o.optimize == "pattern";
  if (!o.optimize.empty() && !job.dwell && !job.pattern)
    throw UserError(SourcePos{"--optimize " + o.optimize, 0, 0}, "is not something plan optimises",
                    "use --optimize dwell (a dwell time per raster and point position), --optimize pattern (raster "
                    "families and their Pareto front), or no --optimize");
  if ((job.dwell || job.pattern) && job.limits.empty())
    throw UserError(SourcePos{"--optimize " + o.optimize, 0, 0}, "needs a dose limit",
                    "give e.g. --limit NMC811=1e6 (Gy); a rate limit alone scales the flux");
  if (o.max_dwell_scale_given && !job.dwell)
    throw UserError(SourcePos{"--max-dwell-scale", 0, 0}, "applies to --optimize dwell only",
                    "leave it out, or plan with --optimize dwell");
  if (o.rate_window_given && !job.pattern)
    throw UserError(SourcePos{"--rate-window-s", 0, 0}, "applies to --optimize pattern only",
                    "leave it out, or plan with --optimize pattern");
  if (job.pattern) {
    if (!std::isfinite(o.rate_window_s) || !(o.rate_window_s >= 1e-9 && o.rate_window_s <= kMaxTime_s))
      throw UserError(SourcePos{"--rate-window-s " + fmt_g(o.rate_window_s, 6), 0, 0},
                      "is not a time between 1e-9 and 1e9 s", "write e.g. --rate-window-s 60");
    check_pattern_searchable(scene, setup.timeline);
  }
  if (job.dwell) {
    if (!std::isfinite(o.max_dwell_scale) || !(o.max_dwell_scale > 0) || o.max_dwell_scale > 1e9)
      throw UserError(SourcePos{"--max-dwell-scale " + fmt_g(o.max_dwell_scale, 6), 0, 0},
                      "is not a positive factor of at most 1e9", "write e.g. --max-dwell-scale 10");
    check_dwell_optimizable(scene, setup.timeline);
  }
  job.max_dwell_scale = o.max_dwell_scale;
  job.rate_window_s = o.rate_window_s;
  job.threads = o.threads;
  job.backend = o.backend == "cpu" ? Backend::kCpu : o.backend == "cuda" ? Backend::kCuda : Backend::kAuto;
  // One run of the scene as written, with each dose limit as its material's threshold; a
  // label volume read (every label checked) here, before an output directory exists.
  job.judged = plan_thresholds(scene, job.limits);
  job.grid = std::make_shared<const VoxelGrid>(voxelize(job.judged));
  return job;
}

ComputedPlan compute_plan(const PlanJob& job, Progress* progress, const std::function<void(const std::string&)>& note) {
  const ThreadBudget budget(job.threads);
  const SceneSetup& setup = *job.setup;
  const Scene& scene = setup.scene;
  const Scene& judged = job.judged;
  const MaterialTable& materials = setup.materials;
  const std::vector<DoseLimit>& limits = job.limits;
  const bool dwell = job.dwell, pattern = job.pattern;
  const TransportParams params =
      make_transport_params(materials, job.grid, judged.beam, judged.sample.stage, threshold_scale(judged));
  EngineOptions options;
  options.threads = job.threads;
  options.backend = job.backend;
  options.progress = progress;
  options.note = note;
  const DoseResults results = compute_dose(params, setup.timeline, options);
  if (progress) progress->start("inverse dose", 1);
  const InverseDose inv =
      inverse_dose(judged, materials, params.grid, setup.timeline, results, limits, job.rate_limits, job.threads);
  // An optimised plan keeps the flux unless a rate limit lowers it (the dwell times do the rest).
  const double flux_factor = std::min(1.0, inv.flux_scale * (1 - kPlannedMargin));
  DwellPlan dp;
  if (dwell) {
    if (progress) progress->start("dwell optimisation", 1);
    dp = plan_dwell(judged, materials, params.grid, setup.timeline, results, limits, flux_factor, job.max_dwell_scale,
                    job.threads);
  }
  PatternSearch ps;
  if (pattern) {
    if (progress) progress->start("pattern search", 1);
    ps = search_patterns(judged, materials, params.grid, setup.timeline, limits, flux_factor, job.rate_window_s,
                         1 - kPlannedMargin, job.threads);
  }
  if (progress) progress->finish();

  ComputedPlan plan;
  plan.setup = job.setup;
  plan.pattern = pattern;
  const GridGeometry& g = setup.geometry;
  const double scale = std::min(inv.uniform_scale, inv.flux_scale);
  const double planned_flux = dwell || pattern ? scene.beam.flux_ph_s * flux_factor
                                              : scene.beam.flux_ph_s * scale * (1 - kPlannedMargin);
  // A scene run can read back: the flux within the range scenes allow (docs/scene-format.md).
  std::string& not_planned = plan.not_planned;
  if ((!std::isfinite(scale) && !dwell) || (pattern && !ps.has_planned))
    not_planned = "no limited voxel receives dose: nothing to plan";
  else if (!(planned_flux >= 1 && planned_flux <= 1e30))
    not_planned = "its flux, " + fmt_g(planned_flux, 4) + " ph/s, would lie outside the 1-1e30 ph/s a scene allows";
  else if (dwell && !dp.not_plannable.empty())
    not_planned = dp.not_plannable;
  PlannedText planned;
  if (not_planned.empty()) {
    if (dwell) {
      planned = planned_scene_dwell(scene, dp, 1 - kPlannedMargin, planned_flux);
      not_planned = planned.why_not;
    } else if (pattern) {
      Scene chosen = pattern_scene(scene, ps.planned.pattern);
      chosen.beam.flux_ph_s = planned_flux;
      planned = planned_scene_pattern(scene, chosen, ps.planned.pattern.describe(scene.scan));
      not_planned = planned.why_not;
    } else {
      planned.text = planned_scene_scaled(scene, scale, planned_flux);
    }
  }
  const bool plannable = not_planned.empty();
  if (plannable) plan.planned_toml = planned.text;
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
  if (!plannable)
    j["planned"] = Json{{"file", nullptr}, {"why_not", not_planned}};
  else if (dwell || pattern)
    j["planned"] = Json{{"file", "planned.toml"}, {"flux_ph_s", planned_flux}, {"dwell_margin", 1 - kPlannedMargin}};
  else
    j["planned"] = Json{{"file", "planned.toml"}, {"flux_ph_s", planned_flux}, {"scale", scale}};
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
  j["steps"] = scales_json(inv.steps, false);
  j["points"] = scales_json(inv.points, true);

  if (dwell) j["dwell"] = dwell_json(dp, inv, g);
  if (pattern) j["patterns"] = patterns_json(ps, limits, scene.scan);
  plan.plan_json = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  // ---- the report ----
  std::ostringstream out;
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
  if (!inv.steps.empty()) {
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
  }
  if (dwell) print_dwell(dp, inv, out);
  if (pattern) print_patterns(ps, limits, scene, out);
  plan.report = out.str();
  if (dwell)
    plan.planned_what = std::to_string(dp.points.size()) + " points with their planned dwell" +
                        (planned_flux != scene.beam.flux_ph_s
                             ? ", flux " + fmt_g(scene.beam.flux_ph_s, 4) + " -> " + fmt_g(planned_flux, 4) + " ph/s"
                             : "") +
                        (planned.note.empty() ? "" : "; " + planned.note);
  else if (pattern)
    plan.planned_what = ps.planned.pattern.describe(scene.scan) +
                        (planned_flux != scene.beam.flux_ph_s
                             ? ", flux " + fmt_g(scene.beam.flux_ph_s, 4) + " -> " + fmt_g(planned_flux, 4) + " ph/s"
                             : "") +
                        (planned.note.empty() ? "" : "; " + planned.note);
  else
    plan.planned_what = "flux " + fmt_g(scene.beam.flux_ph_s, 4) + " -> " + fmt_g(planned_flux, 4) +
                        " ph/s: dosemap run on it reaches the binding limit and passes none";
  return plan;
}

void write_plan(const ComputedPlan& plan, RunDirectory& out) {
  out.write_file("plan.json", [&](CheckedFile& f) { f.stream() << plan.plan_json; });
  if (!plan.planned_toml.empty()) out.write_file("planned.toml", [&](CheckedFile& f) { f.stream() << plan.planned_toml; });
  out.commit();
}

std::string plan_files_line(const ComputedPlan& plan, const std::string& dir) {
  if (plan.planned_toml.empty()) return dir + "/plan.json (no planned.toml: " + plan.not_planned + ")";
  return dir + "/plan.json, " + dir + "/planned.toml (" + plan.planned_what + ")";
}

}  // namespace dosemap
