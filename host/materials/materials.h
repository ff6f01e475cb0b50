// Materials of a scene resolved to element mass fractions, density and, for every line of
// the beam spectrum, the coefficients transport needs (cm^2/g). Composites are mixed by
// mass fraction; their density follows from the components' volume fractions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/materials/xray_coefficients.h"
#include "host/scene/scene.h"

namespace dosemap {

struct ElementFraction {
  int Z = 0;
  double mass_fraction = 0;
};

// Coefficients of a material at one photon energy, cm^2/g.
struct MaterialCoefficients {
  double energy_keV = 0;
  ElementCoefficients c;  // mass-fraction mix of the elements'

  double mu_rho() const { return c.total; }
  double mu_en_rho() const { return c.mu_en(); }
  // The deposition coefficient c/rho of a dose model.
  double deposition(DoseModel m) const;
};

struct MaterialComponent {
  int material = -1;  // index in MaterialTable::materials, or -1 for void (empty pores)
  std::string name;
  double volume_fraction = 0;
  double mass_fraction = 0;
};

struct Material {
  std::string name;
  std::string source;  // how it was defined: formula "...", NIST "...", composite
  double density_g_cm3 = 0;
  std::vector<ElementFraction> elements;
  std::vector<MaterialComponent> components;  // composites only
  std::vector<MaterialCoefficients> lines;    // one per spectrum line
  bool composite() const { return !components.empty(); }
};

struct MaterialTable {
  DoseModel model = DoseModel::kMuEn;
  std::vector<SpectrumLine> spectrum;
  std::vector<Material> materials;  // scene order
  int index(const std::string& name) const;
  // Photon-weighted mean over the spectrum of a per-line quantity.
  template <typename F>
  double spectrum_mean(const Material& m, F f) const {
    double s = 0;
    for (size_t i = 0; i < spectrum.size(); ++i) s += spectrum[i].weight * f(m.lines[i]);
    return s;
  }
};

// Resolves every material of the scene with xraylib. Throws UserError (with the scene's
// file:line:col) for unknown elements, bad formulas, unknown NIST names, missing densities.
MaterialTable resolve_materials(const Scene& scene);

// The energies and densities `dosemap materials` (and dosemap.materials) accept.
inline constexpr double kMaterialEnergyMin_keV = 1.0, kMaterialEnergyMax_keV = 500.0;
inline constexpr double kMaterialDensityMin_g_cm3 = 1e-6, kMaterialDensityMax_g_cm3 = 30.0;

// A material named on the command line: a NIST compound name or a formula.
// `density` overrides; formulas of several elements have no density without it (0).
Material material_from_text(const std::string& spec, std::optional<double> density_g_cm3,
                            const std::vector<double>& energies_keV);

// The names xraylib knows as NIST compounds.
std::vector<std::string> nist_compound_names();

}  // namespace dosemap
