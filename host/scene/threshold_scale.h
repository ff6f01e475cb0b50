// The dose thresholds each material is judged against (docs/scene-format.md, "Thresholds per
// material"): its own `[materials.NAME] thresholds_Gy` when it has one, else `[output]
// thresholds_Gy` (the paper's scale by default). Steel passing "kinetics" is noise, an
// electrolyte decomposes at ~20 kGy: one scale for every material misleads.
//
// The labels of all the scales the sample uses, together, name the crossing-time and mask
// grids (t_<label>_s, dose_gt_<label>); a label a material does not carry never applies to
// its voxels (its dose is +infinity: never reached). A component grid "dose:<name>" is judged
// against the scale of the material <name>, wherever that material is.
#pragma once

#include <string>
#include <vector>

#include "host/scene/scene.h"

namespace dosemap {

struct ThresholdScale {
  // The grids' labels, in increasing order of the lowest dose any material gives them.
  std::vector<std::string> labels;
  int n_materials = 0;
  // [material * labels + label]: the dose at which material crosses label; +inf where the
  // material does not carry it.
  std::vector<double> dose_Gy;

  int count() const { return static_cast<int>(labels.size()); }
  double at(int material, int label) const { return dose_Gy[static_cast<size_t>(material) * labels.size() + label]; }
  bool applies(int material, int label) const;
  // A voxel of the material with this dose is at or above the label (dose_gt_<label>).
  bool reached(int material, int label, double dose) const { return dose >= at(material, label); }
  // The material's own thresholds, ascending (label index and dose).
  std::vector<std::pair<int, double>> of(int material) const;
  // The label's dose for each material, then +inf at index n_materials: a table for per-voxel
  // loops, which clamp a voxel's material id to n_materials so that void never reaches it.
  std::vector<double> doses_of_label(int label) const;
  // The one dose every material carrying the label gives it, or NaN when they differ.
  double common_dose(int label) const;
  // Every material has the same scale (the report then shows one header row of doses).
  bool uniform() const;
};

// The materials the sample uses: in a layer or a shape, or a component of one of those.
std::vector<bool> materials_in_use(const Scene& scene);

// From a scene whose materials and [output] the reader has validated.
ThresholdScale threshold_scale(const Scene& scene);

}  // namespace dosemap
