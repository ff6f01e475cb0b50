#include "host/scene/scene.h"

namespace dosemap {

const char* dose_model_name(DoseModel m) {
  switch (m) {
    case DoseModel::kMuEn: return "mu_en";
    case DoseModel::kPhoto: return "photo";
    case DoseModel::kAbsorbed: return "absorbed";
  }
  return "?";
}

const char* step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::kPoint: return "point";
    case StepKind::kRaster: return "raster";
    case StepKind::kFly: return "fly";
    case StepKind::kWait: return "wait";
    case StepKind::kRotate: return "rotate";
    case StepKind::kXrdct: return "xrdct";
    case StepKind::kLog: return "log";
  }
  return "?";
}

const char* profile_name(ProfileKind p) {
  switch (p) {
    case ProfileKind::kGaussian: return "gaussian";
    case ProfileKind::kTopHat: return "tophat";
    case ProfileKind::kImage: return "image";
  }
  return "?";
}

int64_t VolumeSpec::sample_dims(int a) const {
  for (int n = 0; n < 3; ++n)
    if (file_axis_to_sample[n] == a) return file_dims[n];
  return 0;
}

std::string VolumeSpec::axes_text() const {
  std::string out;
  for (int n = 0; n < 3; ++n) out += std::string(file_axis_flipped[n] ? "-" : "") + char('x' + file_axis_to_sample[n]);
  return out;
}

double BeamSpec::mean_energy_keV() const {
  double e = 0;
  for (const auto& l : spectrum) e += l.weight * l.energy_keV;
  return e;
}

int Scene::material_index(const std::string& name) const {
  if (material_ids.size() == materials.size()) {
    const auto it = material_ids.find(name);
    return it == material_ids.end() ? -1 : it->second;
  }
  for (size_t i = 0; i < materials.size(); ++i)
    if (materials[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace dosemap
