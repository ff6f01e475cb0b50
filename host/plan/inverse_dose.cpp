#include "host/plan/inverse_dose.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/common/worker_threads.h"
#include "host/plan/dose_operator.h"
#include "host/plan/turned_inverse_dose.h"
#include "host/transport/transport_tables.h"

namespace dosemap {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string threshold_label(size_t k) { return "limit" + std::to_string(k + 1); }

}  // namespace

void tighten_scale(ExposureScale& x, double raw, int limit, int64_t voxel) {
  const double s = std::max(0.0, raw);
  if (s < x.scale || (s == x.scale && voxel >= 0 && (x.binding_voxel < 0 || voxel < x.binding_voxel))) {
    x.scale = s;
    x.binding_limit = limit;
    x.binding_voxel = voxel;
    x.others_pass = raw <= 0;  // the others alone reach the limit: no room for this one
  }
}

void merge_scales(std::vector<ExposureScale>& into, const std::vector<ExposureScale>& from) {
  for (size_t i = 0; i < into.size(); ++i)
    if (from[i].binding_limit >= 0) tighten_scale(into[i], from[i].others_pass ? 0.0 : from[i].scale, from[i].binding_limit, from[i].binding_voxel);
}

DoseLimit parse_limit(const std::string& text, bool rate, const Scene& scene, const MaterialTable& materials,
                      const TransportTables& tables) {
  const std::string option = rate ? "--rate-limit" : "--limit";
  const SourcePos where{option + " " + text, 0, 0};
  const std::string unit = rate ? "Gy/s" : "Gy";
  const std::string example = rate ? "NMC811=1e5" : "NMC811=1e6";
  DoseLimit l;
  l.text = text;
  l.rate = rate;
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError(where, "is not NAME=" + std::string(rate ? "GY_S" : "DOSE_GY"),
                    "write e.g. " + option + " " + example + " (a material, or material:component)");
  l.name = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  char* end = nullptr;
  l.limit = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(l.limit) || !(l.limit > 0))
    throw UserError(where, "the limit '" + value + "' is not a positive number of " + unit,
                    "write e.g. " + option + " " + example);
  const size_t colon = l.name.find(':');
  const std::string material = l.name.substr(0, colon);
  l.material = materials.index(material);
  std::vector<std::string> names;
  for (const Material& m : materials.materials) names.push_back(m.name);
  if (l.material < 0)
    throw UserError(where, "'" + material + "' is not a material of the scene", "use one of: " + join_alternatives(names));
  bool placed = false;
  for (const LayerSpec& layer : scene.sample.layers) placed = placed || layer.material == material;
  for (const ShapeSpec& shape : scene.sample.shapes) placed = placed || shape.material == material;
  for (const VolumeLabel& label : scene.sample.volume.labels) placed = placed || label.material == material;
  if (!placed) {
    std::vector<std::string> holders;
    for (const Material& m : materials.materials)
      for (const MaterialComponent& c : m.components)
        if (c.name == material) holders.push_back(m.name + ":" + material);
    throw UserError(where, "'" + material + "' fills no voxel of the sample (no layer, label or shape is made of it)",
                    holders.empty() ? "limit a material the sample holds"
                                    : "it is a component of a composite: limit " + join_alternatives(holders));
  }
  if (colon != std::string::npos) {
    const std::string component = l.name.substr(colon + 1);
    const Material& m = materials.materials[l.material];
    std::vector<std::string> held;
    for (const MaterialComponent& c : m.components)
      if (c.material >= 0) held.push_back(c.name);
    for (size_t g = 0; g < tables.component_grid_names.size(); ++g)
      if (tables.component_grid_names[g] == component && std::find(held.begin(), held.end(), component) != held.end())
        l.component_grid = static_cast<int>(g);
    if (l.component_grid < 0)
      throw UserError(where, "'" + material + "' holds no component '" + component + "'",
                      held.empty() ? "limit the material itself: " + option + " " + material + "=" + value
                                   : "use one of: " + join_alternatives(held));
  }
  return l;
}

Scene plan_thresholds(Scene scene, const std::vector<DoseLimit>& limits) {
  scene.output.thresholds.clear();
  for (MaterialSpec& m : scene.materials) {
    m.has_thresholds = true;
    m.thresholds.clear();
  }
  for (size_t k = 0; k < limits.size(); ++k) {
    const DoseLimit& l = limits[k];
    // A component's dose is judged against its own material's thresholds.
    const std::string judged = l.component_grid < 0 ? scene.materials[l.material].name : l.name.substr(l.name.find(':') + 1);
    MaterialSpec& m = scene.materials[scene.material_index(judged)];
    m.thresholds.push_back({threshold_label(k), l.limit});
    std::stable_sort(m.thresholds.begin(), m.thresholds.end(),
                     [](const Threshold& a, const Threshold& b) { return a.dose_Gy < b.dose_Gy; });
  }
  return scene;
}

InverseDose inverse_dose(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid_ptr,
                         const Timeline& timeline, const DoseResults& r, const std::vector<DoseLimit>& limits,
                         const std::vector<DoseLimit>& rate_limits, int threads) {
  InverseDose out;
  const VoxelGrid& grid = *grid_ptr;
  const TransportTables& tt = r.tables;

  // The scene as written: each limit's largest value, where, and when it was first reached.
  auto outcome = [&](const DoseLimit& l) {
    LimitOutcome o;
    o.limit = l;
    for (int64_t v = 0; v < r.voxels; ++v) {
      if (grid.material[v] != l.material) continue;
      double value = limited_value(r, l, v);
      if (l.rate) {
        const double dose = r.dose_Gy[v];  // a component's rate scales like its dose (one history)
        value = l.component_grid < 0 ? r.rate_peak_Gy_s[v] : (dose > 0 ? value * (r.rate_peak_Gy_s[v] / dose) : 0.0);
      }
      if (value > o.max_value) {
        o.max_value = value;
        o.max_voxel = v;
      }
    }
    if (o.max_value > 0) o.scale = l.limit / o.max_value;
    return o;
  };
  for (size_t k = 0; k < limits.size(); ++k) {
    LimitOutcome o = outcome(limits[k]);
    const auto& labels = tt.thresholds.labels;
    const int t = static_cast<int>(std::find(labels.begin(), labels.end(), threshold_label(k)) - labels.begin());
    DOSEMAP_BUG_CHECK(t < tt.thresholds.count(), "a dose limit without its threshold");
    if (limits[k].component_grid < 0) {
      const float* cross = r.crossing(t);
      for (int64_t v = 0; v < r.voxels; ++v)
        if (grid.material[v] == limits[k].material && cross[v] >= 0 &&
            (o.first_reached_s < 0 || cross[v] < o.first_reached_s))
          o.first_reached_s = cross[v];
    } else {
      for (int s = tt.component_begin[limits[k].material]; s < tt.component_begin[limits[k].material + 1]; ++s)
        if (tt.slot_grid[s] == limits[k].component_grid) o.first_reached_s = r.slot_first_crossing(s, t);
    }
    out.uniform_scale = std::min(out.uniform_scale, o.scale);
    out.limits.push_back(o);
  }
  for (const DoseLimit& l : rate_limits) {
    out.rate_limits.push_back(outcome(l));
    out.flux_scale = std::min(out.flux_scale, out.rate_limits.back().scale);
  }
  if (limits.empty() || timeline.exposures.empty()) return out;

  // Steps and points: a point is an exposure's place within its step, the same in every
  // repetition.
  const ScanPoints scan = scan_points(timeline);
  const std::vector<int32_t>& point_of = scan.point_of;
  for (const ScanPoint& p : scan.points) {
    ExposureScale x;
    x.step = p.step;
    x.point = p.point;
    x.x_um = p.x_um;
    x.y_um = p.y_um;
    x.beam_on_s = p.beam_on_s;
    out.points.push_back(x);
  }
  for (size_t s = 0; s < scene.scan.steps.size(); ++s) {
    ExposureScale st;
    st.step = static_cast<int32_t>(s);
    out.steps.push_back(st);
  }
  for (const Exposure& x : timeline.exposures) out.steps[x.step].beam_on_s += x.duration_s;

  // A scan that turns the sample has no one-pose ray form (host/plan/turned_inverse_dose.h).
  if (!at_one_pose(timeline)) {
    turned_scan_scales(scene, materials, grid_ptr, timeline, r, limits, point_of, threads, out.steps, out.points);
    return out;
  }

  std::vector<int32_t> step_of(timeline.exposures.size());
  for (size_t e = 0; e < timeline.exposures.size(); ++e) step_of[e] = timeline.exposures[e].step;

  // Each ray's fluence per exposure (F_{r,e}, host/plan/dose_operator.h).
  const DoseOperator A(scene, materials, grid_ptr, timeline, threads);
  const std::vector<int64_t>& offset = A.ray_offset();
  const std::vector<uint32_t>& event_exposure = A.event_exposure();
  const std::vector<double>& event_fluence = A.event_fluence_m2();
  const int64_t rays = static_cast<int64_t>(offset.size()) - 1;
  const int K = static_cast<int>(limits.size());
  const int nthreads = worker_threads(threads);
  // Per thread: the smallest scale of each point and step found so far, with what binds it.
  struct Best {
    std::vector<ExposureScale> points, steps;
  };
  std::vector<Best> best(nthreads, Best{out.points, out.steps});
#pragma omp parallel num_threads(nthreads)
  {
    Best& mine = best[omp_get_thread_num()];
    std::vector<double> budget(K);  // per limit: fluence the ray may still take
    std::vector<RayBinding> bind;
    std::vector<std::pair<int32_t, double>> by_point, by_step;
#pragma omp for schedule(dynamic, 256)
    for (int64_t ray = 0; ray < rays; ++ray) {
      const int64_t begin = offset[ray], end = offset[ray + 1];
      if (begin == end) continue;
      const double total = ray_fluence_m2(A, ray);
      if (!ray_bindings(A, r, limits, ray, total, bind)) continue;
      for (int k = 0; k < K; ++k) budget[k] = bind[k].g_max > 0 ? limits[k].limit / bind[k].g_max - total : kInf;
      // Each point's and step's share of the ray's fluence.
      by_point.clear();
      by_step.clear();
      for (int64_t ev = begin; ev < end; ++ev) {
        const uint32_t e = event_exposure[ev];
        by_point.push_back({point_of[e], event_fluence[ev]});
        by_step.push_back({step_of[e], event_fluence[ev]});
      }
      auto apply = [&](std::vector<std::pair<int32_t, double>>& shares, std::vector<ExposureScale>& scales) {
        for_each_share(shares, [&](int32_t id, double share) {
          for (int k = 0; k < K; ++k)
            if (budget[k] != kInf) tighten_scale(scales[id], 1.0 + budget[k] / share, k, bind[k].voxel);
        });
      };
      apply(by_point, mine.points);
      apply(by_step, mine.steps);
    }
  }
  // The smallest over threads.
  for (const Best& b : best) {
    merge_scales(out.points, b.points);
    merge_scales(out.steps, b.steps);
  }
  return out;
}

}  // namespace dosemap
