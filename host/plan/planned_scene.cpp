#include "host/plan/planned_scene.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include "host/common/errors.h"
#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/scene/scene_limits.h"
#include "host/scene/scene_reader.h"

namespace dosemap {

std::string planned_scene_scaled(const Scene& scene, double scale, double planned_flux) {
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

namespace {

std::string format_toml(const toml::table& t) {
  std::ostringstream s;
  s << toml::toml_formatter(t, toml::toml_formatter::default_flags & ~toml::format_flags::indentation);
  return s.str();
}

// The user's scene as toml++ read it (it was read before: valid).
toml::table original_table(const Scene& scene) {
  std::string original;
  read_small_file(scene.path, "scene file", kMaxSceneFileBytes, original);
  return toml::parse(original, scene.path);
}

// The beam image's path made absolute, then the text read back: a plan only counts if
// `dosemap run` accepts it. Fixed frame times past a planned (shorter) scan are dropped.
PlannedText finish_planned(toml::table& root, const Scene& scene, const std::string& header) {
  if (scene.beam.profile == ProfileKind::kImage)
    root["beam"].as_table()->insert_or_assign("image", std::filesystem::absolute(scene.beam.image.path).string());
  PlannedText out;
  std::string text = header + format_toml(root);
  try {
    const Scene planned = read_scene_text(text, scene.path);
    const Timeline tl = expand_scan(planned);
    if (!planned.output.frames_s.empty() && planned.output.frames_s.back() > tl.duration_s) {
      toml::array kept;
      for (double f : planned.output.frames_s)
        if (f <= tl.duration_s) kept.push_back(f);
      out.note = "frames_s after the planned end of the scan (" + human_time(tl.duration_s) + ") dropped";
      if (kept.empty())
        root["output"].as_table()->erase("frames_s");
      else
        root["output"].as_table()->insert_or_assign("frames_s", std::move(kept));
      text = header + format_toml(root);
    }
    frame_times(read_scene_text(text, scene.path), tl);
  } catch (const UserError& e) {
    out.why_not = std::string("a scene cannot carry it: ") + e.what();
    return out;
  }
  out.text = std::move(text);
  return out;
}

}  // namespace

PlannedText planned_scene_dwell(const Scene& scene, const DwellPlan& plan,
                                double dwell_factor, double planned_flux) {
  toml::table root = original_table(scene);

  // Each optimised step's points in the order a repetition visits them.
  std::vector<std::vector<const DwellPoint*>> points_of_step(scene.scan.steps.size());
  for (const DwellPoint& p : plan.points) points_of_step[p.at.step].push_back(&p);
  for (auto& list : points_of_step)
    std::stable_sort(list.begin(), list.end(), [](const DwellPoint* a, const DwellPoint* b) { return a->at.point < b->at.point; });

  const toml::array* written = root["scan"]["steps"].as_array();
  DOSEMAP_BUG_CHECK(written && written->size() == scene.scan.steps.size(), "planned scene: the steps as read");
  toml::array steps;
  for (size_t s = 0; s < scene.scan.steps.size(); ++s) {
    const ScanStep& step = scene.scan.steps[s];
    if (points_of_step[s].empty()) {
      steps.push_back(*(*written)[s].as_table());
      continue;
    }
    const std::vector<const DwellPoint*>& list = points_of_step[s];
    for (size_t n = 0; n < list.size(); ++n) {
      const DwellPoint& p = *list[n];
      toml::table point{{"kind", "point"},
                        {"at_um", toml::array{p.at.x_um, p.at.y_um}},
                        {"exposure_s", p.at.beam_on_s / static_cast<double>(scene.scan.repeat) * p.scale * dwell_factor}};
      if (step.angle_deg != 0) point.insert("angle_deg", step.angle_deg);
      steps.push_back(std::move(point));
      if (step.kind == StepKind::kRaster && step.move_s > 0 && n + 1 < list.size())
        steps.push_back(toml::table{{"kind", "wait"}, {"duration_s", step.move_s}});
    }
  }
  root["scan"].as_table()->insert_or_assign("steps", std::move(steps));
  if (planned_flux != scene.beam.flux_ph_s) root["beam"].as_table()->insert_or_assign("flux_ph_s", planned_flux);

  return finish_planned(root, scene,
                        "# Planned by dosemap plan --optimize dwell from " + scene.path +
                            ": every raster and point step spelt as its points, each with its planned dwell\n"
                            "# (exposure_s), the raster moves as waits; the rest as written (comments not kept).\n");
}

PlannedText planned_scene_pattern(const Scene& scene, const Scene& pattern, const std::string& description) {
  toml::table root = original_table(scene);
  toml::array steps;
  for (const ScanStep& s : pattern.scan.steps) {
    if (s.kind == StepKind::kWait) {
      steps.push_back(toml::table{{"kind", "wait"}, {"duration_s", s.duration_s}});
      continue;
    }
    DOSEMAP_BUG_CHECK(s.kind == StepKind::kRaster, "a pattern of raster and wait steps");
    toml::table r{{"kind", "raster"},
                  {"from_um", toml::array{s.from_um[0], s.from_um[1]}},
                  {"to_um", toml::array{s.to_um[0], s.to_um[1]}},
                  {"step_um", toml::array{s.step_um[0], s.step_um[1]}},
                  {"dwell_s", s.dwell_s},
                  {"order", s.order == RasterOrder::kSnake ? "snake" : "lines"}};
    if (s.move_s > 0) r.insert("move_s", s.move_s);
    if (s.angle_deg != 0) r.insert("angle_deg", s.angle_deg);
    steps.push_back(std::move(r));
  }
  root.insert_or_assign("scan", toml::table{{"repeat", 1}, {"steps", std::move(steps)}});
  if (pattern.beam.flux_ph_s != scene.beam.flux_ph_s)
    root["beam"].as_table()->insert_or_assign("flux_ph_s", pattern.beam.flux_ph_s);
  return finish_planned(root, scene,
                        "# Planned by dosemap plan --optimize pattern from " + scene.path + ": " + description +
                            ",\n# its dwell scaled to reach the binding limit; the repetitions spelt out (comments not kept).\n");
}

}  // namespace dosemap
