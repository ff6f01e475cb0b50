#include "host/scene/threshold_scale.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dosemap {

bool ThresholdScale::applies(int material, int label) const { return std::isfinite(at(material, label)); }

std::vector<std::pair<int, double>> ThresholdScale::of(int material) const {
  std::vector<std::pair<int, double>> own;
  for (int t = 0; t < count(); ++t)
    if (applies(material, t)) own.push_back({t, at(material, t)});
  std::stable_sort(own.begin(), own.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return own;
}

std::vector<double> ThresholdScale::doses_of_label(int label) const {
  std::vector<double> table(static_cast<size_t>(n_materials) + 1, std::numeric_limits<double>::infinity());
  for (int m = 0; m < n_materials; ++m) table[static_cast<size_t>(m)] = at(m, label);
  return table;
}

double ThresholdScale::common_dose(int label) const {
  double common = std::numeric_limits<double>::quiet_NaN();
  for (int m = 0; m < n_materials; ++m) {
    const double d = at(m, label);
    if (!std::isfinite(d)) continue;
    if (std::isnan(common)) common = d;
    else if (d != common) return std::numeric_limits<double>::quiet_NaN();
  }
  return common;
}

bool ThresholdScale::uniform() const {
  for (int m = 1; m < n_materials; ++m)
    for (int t = 0; t < count(); ++t)
      if (at(m, t) != at(0, t)) return false;
  return true;
}

std::vector<bool> materials_in_use(const Scene& scene) {
  std::vector<bool> used(scene.materials.size(), false);
  auto use = [&](const std::string& name) {
    const int m = scene.material_index(name);
    if (m < 0 || used[m]) return;
    used[m] = true;
    for (const ComponentSpec& c : scene.materials[m].components) {
      const int cm = scene.material_index(c.material);
      if (cm >= 0) used[cm] = true;
    }
  };
  for (const LayerSpec& l : scene.sample.layers) use(l.material);
  for (const VolumeLabel& l : scene.sample.volume.labels) use(l.material);
  for (const ShapeSpec& s : scene.sample.shapes) use(s.material);
  return used;
}

ThresholdScale threshold_scale(const Scene& scene) {
  ThresholdScale scale;
  scale.n_materials = static_cast<int>(scene.materials.size());
  auto list_of = [&](const MaterialSpec& m) -> const std::vector<Threshold>& {
    return m.has_thresholds ? m.thresholds : scene.output.thresholds;
  };
  // Each label once, ranked by the lowest dose a used material gives it (ties: first seen).
  const std::vector<bool> used = materials_in_use(scene);
  std::vector<Threshold> ranked;
  for (size_t m = 0; m < scene.materials.size(); ++m) {
    if (!used[m]) continue;
    for (const Threshold& t : list_of(scene.materials[m])) {
      auto same = std::find_if(ranked.begin(), ranked.end(), [&](const Threshold& r) { return r.label == t.label; });
      if (same == ranked.end()) ranked.push_back(t);
      else same->dose_Gy = std::min(same->dose_Gy, t.dose_Gy);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Threshold& a, const Threshold& b) { return a.dose_Gy < b.dose_Gy; });
  for (const Threshold& t : ranked) scale.labels.push_back(t.label);
  scale.dose_Gy.assign(scene.materials.size() * ranked.size(), std::numeric_limits<double>::infinity());
  for (size_t m = 0; m < scene.materials.size(); ++m)
    for (const Threshold& t : list_of(scene.materials[m]))
      for (size_t l = 0; l < ranked.size(); ++l)
        if (ranked[l].label == t.label) scale.dose_Gy[m * ranked.size() + l] = t.dose_Gy;
  return scale;
}

}  // namespace dosemap
