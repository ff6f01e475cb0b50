#include "host/materials/materials.h"

#include <map>

#include <xraylib.h>

#include "host/common/text.h"

namespace dosemap {

double MaterialCoefficients::deposition(DoseModel m) const {
  switch (m) {
    case DoseModel::kMuEn: return c.mu_en();
    case DoseModel::kPhoto: return c.photo_model();
    case DoseModel::kAbsorbed: return c.absorbed_model();
  }
  return 0;
}

int MaterialTable::index(const std::string& name) const {
  for (size_t i = 0; i < materials.size(); ++i)
    if (materials[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<std::string> nist_compound_names() {
  std::vector<std::string> names;
  int n = 0;
  char** list = GetCompoundDataNISTList(&n, nullptr);
  for (int i = 0; i < n; ++i) {
    names.emplace_back(list[i]);
    xrlFree(list[i]);
  }
  xrlFree(list);
  return names;
}

namespace {

struct Composition {
  std::vector<ElementFraction> elements;
  double density_g_cm3 = 0;  // 0: none known
};

// Parses a formula with xraylib's CompoundParser. Throws XrayDataError.
Composition parse_formula(const std::string& formula) {
  xrl_error* err = nullptr;
  compoundData* cd = CompoundParser(formula.c_str(), &err);
  if (err || !cd) {
    std::string msg = err ? err->message : "cannot parse";
    if (err) xrl_error_free(err);
    throw XrayDataError(msg);
  }
  Composition out;
  for (int i = 0; i < cd->nElements; ++i) out.elements.push_back({cd->Elements[i], cd->massFractions[i]});
  if (cd->nElements == 1) out.density_g_cm3 = ElementDensity(cd->Elements[0], nullptr);
  FreeCompoundData(cd);
  return out;
}

// Looks up a NIST compound. Returns false when xraylib does not know the name.
bool lookup_nist(const std::string& name, Composition& out) {
  xrl_error* err = nullptr;
  compoundDataNIST* cd = GetCompoundDataNISTByName(name.c_str(), &err);
  if (err || !cd) {
    if (err) xrl_error_free(err);
    return false;
  }
  for (int i = 0; i < cd->nElements; ++i) out.elements.push_back({cd->Elements[i], cd->massFractions[i]});
  out.density_g_cm3 = cd->density;
  FreeCompoundDataNIST(cd);
  return true;
}

MaterialCoefficients mix_coefficients(const std::vector<ElementFraction>& elements, double energy_keV) {
  MaterialCoefficients m;
  m.energy_keV = energy_keV;
  for (const auto& e : elements) {
    const ElementCoefficients c = element_coefficients(e.Z, energy_keV);
    m.c.total += e.mass_fraction * c.total;
    m.c.photo += e.mass_fraction * c.photo;
    m.c.coherent += e.mass_fraction * c.coherent;
    m.c.incoherent += e.mass_fraction * c.incoherent;
    m.c.compton_transfer += e.mass_fraction * c.compton_transfer;
    m.c.fluorescence += e.mass_fraction * c.fluorescence;
  }
  return m;
}

std::vector<double> energies_of(const std::vector<SpectrumLine>& spectrum) {
  std::vector<double> e;
  for (const auto& l : spectrum) e.push_back(l.energy_keV);
  return e;
}

void fill_lines(Material& m, const std::vector<double>& energies_keV) {
  m.lines.clear();
  for (double e : energies_keV) m.lines.push_back(mix_coefficients(m.elements, e));
}

}  // namespace

MaterialTable resolve_materials(const Scene& scene) {
  Diagnostics diag;
  MaterialTable table;
  table.model = scene.dose_model;
  table.spectrum = scene.beam.spectrum;
  const std::vector<double> energies = energies_of(scene.beam.spectrum);

  // Plain materials first (composites refer to them), kept in scene order.
  table.materials.resize(scene.materials.size());
  for (size_t i = 0; i < scene.materials.size(); ++i) {
    const MaterialSpec& spec = scene.materials[i];
    Material& m = table.materials[i];
    m.name = spec.name;
    if (spec.kind == MaterialSpec::Kind::kComposite) continue;
    const std::string shown = "[materials." + spec.name + "]";
    Composition comp;
    if (spec.kind == MaterialSpec::Kind::kFormula) {
      m.source = "formula " + spec.formula;
      try {
        comp = parse_formula(spec.formula);
      } catch (const XrayDataError& e) {
        diag.error(spec.value_where, shown + " formula \"" + spec.formula + "\" is not a valid chemical formula (" + e.what() + ")",
                   "use element symbols with counts, e.g. \"LiNi0.8Mn0.1Co0.1O2\" or \"C3H4O3\" (case matters: Co is cobalt, CO is carbon monoxide)");
        continue;
      }
      if (!spec.has_density && comp.elements.size() > 1) {
        diag.error(spec.where, shown + " needs density_g_cm3: a formula of several elements has no default density",
                   "add density_g_cm3 = <g/cm3> (e.g. 1.32 for ethylene carbonate)");
        continue;
      }
    } else {
      m.source = "NIST \"" + spec.nist_name + "\"";
      if (!lookup_nist(spec.nist_name, comp)) {
        std::string fix = did_you_mean(spec.nist_name, nist_compound_names());
        if (fix.empty()) fix = "run `dosemap materials --list-nist` for the names xraylib knows, or use formula = ...";
        diag.error(spec.value_where, shown + " nist = \"" + spec.nist_name + "\" is not a NIST compound known to xraylib", fix);
        continue;
      }
    }
    m.elements = comp.elements;
    m.density_g_cm3 = spec.has_density ? spec.density_g_cm3 : comp.density_g_cm3;
    try {
      fill_lines(m, energies);
    } catch (const XrayDataError& e) {
      diag.error(spec.value_where, shown + " has no cross-section data at the beam energies (" + std::string(e.what()) + ")",
                 "check the elements and the beam energy (1-500 keV)");
    }
  }
  diag.throw_if_any();

  // Composites: density from volume fractions, mass fractions from partial densities.
  for (size_t i = 0; i < scene.materials.size(); ++i) {
    const MaterialSpec& spec = scene.materials[i];
    if (spec.kind != MaterialSpec::Kind::kComposite) continue;
    Material& m = table.materials[i];
    m.source = "composite";
    double density = 0;
    for (const auto& c : spec.components) {
      MaterialComponent mc;
      mc.name = c.material;
      mc.volume_fraction = c.volume_fraction;
      mc.material = c.material == kVoidMaterial ? -1 : scene.material_index(c.material);
      if (mc.material >= 0) density += c.volume_fraction * table.materials[mc.material].density_g_cm3;
      m.components.push_back(mc);
    }
    if (!(density > 0)) {
      diag.error(spec.value_where, "[materials." + spec.name + "] has no mass: every component is void",
                 "add a non-void component");
      continue;
    }
    m.density_g_cm3 = density;
    std::map<int, double> by_element;
    for (auto& mc : m.components) {
      if (mc.material < 0) continue;
      const Material& part = table.materials[mc.material];
      mc.mass_fraction = mc.volume_fraction * part.density_g_cm3 / density;
      for (const auto& e : part.elements) by_element[e.Z] += mc.mass_fraction * e.mass_fraction;
    }
    for (const auto& [z, w] : by_element) m.elements.push_back({z, w});
    // Mixing elements or mixing components' coefficients is the same linear sum.
    fill_lines(m, energies);
  }
  diag.throw_if_any();
  return table;
}

Material material_from_text(const std::string& spec, std::optional<double> density_g_cm3,
                            const std::vector<double>& energies_keV) {
  Material m;
  m.name = spec;
  Composition comp;
  if (lookup_nist(spec, comp)) {
    m.source = "NIST \"" + spec + "\"";
  } else {
    try {
      comp = parse_formula(spec);
      m.source = "formula " + spec;
    } catch (const XrayDataError& e) {
      std::string fix = did_you_mean(spec, nist_compound_names());
      if (fix.empty()) fix = "give a formula such as \"C3H4O3\" or a NIST name (see --list-nist)";
      throw UserError(SourcePos{}, "'" + spec + "' is neither a NIST compound known to xraylib nor a valid formula (" +
                                       std::string(e.what()) + ")",
                      fix);
    }
  }
  m.elements = comp.elements;
  m.density_g_cm3 = density_g_cm3.value_or(comp.density_g_cm3);
  try {
    fill_lines(m, energies_keV);
  } catch (const XrayDataError& e) {
    throw UserError(SourcePos{}, "'" + spec + "' has no cross-section data at these energies (" + std::string(e.what()) + ")",
                    "use energies between 1 and 500 keV");
  }
  return m;
}

}  // namespace dosemap
