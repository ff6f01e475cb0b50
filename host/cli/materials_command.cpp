// `dosemap materials SPEC... --energy-keV E [--density D]`: the numbers `check` shows for a
// scene's materials, for any formula or NIST compound, so a user can check a material
// before writing a scene.
#include <cmath>

#include "host/cli/commands.h"
#include "host/common/text.h"
#include "host/materials/materials.h"

namespace dosemap {

int materials_command(const MaterialsOptions& o, std::ostream& out) {
  if (o.list_nist) {
    out << "NIST compounds known to xraylib (use as nist = \"NAME\" in a scene):\n";
    for (const auto& n : nist_compound_names()) out << "  " << n << "\n";
    if (o.specs.empty()) return 0;
    out << "\n";
  }
  for (size_t n = 0; n < o.specs.size(); ++n) {
    const Material m = material_from_text(o.specs[n], o.density_g_cm3, o.energies_keV);
    if (n > 0) out << "\n";
    out << m.name << "  (" << m.source;
    if (m.density_g_cm3 > 0) out << ", density " << fmt_g(m.density_g_cm3, 4) << " g/cm3" << (o.density_g_cm3 ? " as given" : "");
    else out << ", no density: pass --density for attenuation lengths";
    out << ")\n  elements (mass fraction):";
    for (const auto& e : m.elements) out << " " << element_symbol(e.Z) << " " << fmt_g(e.mass_fraction, 4);
    out << "\n";
    TextTable t({"E keV", "mu/rho", "photo", "coherent", "incoherent", "mu_en/rho", "photo model", "absorbed model",
                 "1/mu um"});
    for (const auto& c : m.lines) {
      t.add_row({fmt_g(c.energy_keV, 6), fmt_g(c.mu_rho(), 4), fmt_g(c.c.photo, 4), fmt_g(c.c.coherent, 4),
                 fmt_g(c.c.incoherent, 4), fmt_g(c.mu_en_rho(), 4), fmt_g(c.c.photo_model(), 4),
                 fmt_g(c.c.absorbed_model(), 4),
                 m.density_g_cm3 > 0 ? fmt_g(1e4 / (c.mu_rho() * m.density_g_cm3), 4) : std::string("-")});
    }
    t.print(out, "  ");
  }
  out << "\n  coefficients in cm2/g; mu_en/rho, photo and absorbed are the deposition coefficients of the\n"
         "  three dose models (docs/physics.md); 1/mu is the attenuation length.\n";
  return 0;
}

}  // namespace dosemap
