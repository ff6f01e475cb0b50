// Materials: the three dose models, composites, densities, and xraylib errors as scene errors.
#include <gtest/gtest.h>

#include <cmath>

#include "host/materials/materials.h"
#include "host/scene/scene_reader.h"

namespace dosemap {
namespace {

const std::string kSceneTail = R"(
[sample]
voxel_um = [10.0, 10.0, 1.0]
lateral_um = [100.0, 100.0]
[[sample.layers]]
material = "m"
thickness_um = 10.0
[beam]
energy_keV = 27.0
flux_ph_s = 1e10
profile = "tophat"
size_um = [50.0, 50.0]
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1.0
)";

MaterialTable resolve(const std::string& materials) {
  return resolve_materials(read_scene_text("format = 1\n" + materials + kSceneTail, "test.toml"));
}

TEST(Materials, DoseModelsAreOrderedForLightMaterials) {
  // absorbed counts all Compton scattering, photo only the electron's share, mu_en also
  // lets fluorescence escape: absorbed >= photo >= mu_en.
  for (const char* f : {"H2O", "C", "C3H4O3", "C2H4", "C2H2F2", "LiPF6", "C3H6O3", "SiO2", "Al"}) {
    for (double e : {10.0, 20.0, 27.0, 50.0, 100.0}) {
      const MaterialCoefficients c = material_from_text(f, 1.0, {e}).lines[0];
      EXPECT_GE(c.deposition(DoseModel::kAbsorbed), c.deposition(DoseModel::kPhoto)) << f << " " << e;
      EXPECT_GE(c.deposition(DoseModel::kPhoto), c.deposition(DoseModel::kMuEn)) << f << " " << e;
      EXPECT_LE(c.deposition(DoseModel::kAbsorbed), c.mu_rho()) << f << " " << e;
    }
  }
}

TEST(Materials, PhotoMinusMuEnIsTheFluorescenceTermForNmc811) {
  const Material nmc = material_from_text("LiNi0.8Mn0.1Co0.1O2", 4.8, {27.0});
  const MaterialCoefficients& c = nmc.lines[0];
  // The fluorescence term built element by element: sum of w_Z tau_Z (X/E)_Z.
  double fluorescence = 0;
  for (const auto& e : nmc.elements)
    fluorescence += e.mass_fraction * element_coefficients(e.Z, 27.0).photo * fluorescence_energy_fraction(e.Z, 27.0);
  EXPECT_NEAR(c.deposition(DoseModel::kPhoto) - c.deposition(DoseModel::kMuEn), fluorescence, 1e-9 * fluorescence);
  // Ni/Co/Mn K fluorescence (7-8 keV lines, yields ~0.3-0.4) carries away ~10 % of the
  // photoabsorbed energy at 27 keV.
  EXPECT_GT(fluorescence / c.c.photo, 0.07);
  EXPECT_LT(fluorescence / c.c.photo, 0.13);
}

TEST(Materials, CompositeMixesByMassFractionWithDensityFromVolumeFractions) {
  const MaterialTable t = resolve(R"(
[materials.NMC811]
formula = "LiNi0.8Mn0.1Co0.1O2"
density_g_cm3 = 4.8
[materials.EC]
formula = "C3H4O3"
density_g_cm3 = 1.32
[materials.m]
components = [ { material = "NMC811", volume_fraction = 0.72 }, { material = "EC", volume_fraction = 0.28 } ]
)");
  const Material& m = t.materials[t.index("m")];
  const Material& nmc = t.materials[t.index("NMC811")];
  const Material& ec = t.materials[t.index("EC")];
  const double density = 0.72 * 4.8 + 0.28 * 1.32;
  EXPECT_NEAR(m.density_g_cm3, density, 1e-12);
  ASSERT_EQ(m.components.size(), 2u);
  const double w_nmc = 0.72 * 4.8 / density, w_ec = 0.28 * 1.32 / density;
  EXPECT_NEAR(m.components[0].mass_fraction, w_nmc, 1e-12);
  EXPECT_NEAR(m.components[1].mass_fraction, w_ec, 1e-12);
  for (DoseModel model : {DoseModel::kMuEn, DoseModel::kPhoto, DoseModel::kAbsorbed}) {
    const double expect = w_nmc * nmc.lines[0].deposition(model) + w_ec * ec.lines[0].deposition(model);
    EXPECT_NEAR(m.lines[0].deposition(model), expect, 1e-12 * expect);
  }
  EXPECT_NEAR(m.lines[0].mu_rho(), w_nmc * nmc.lines[0].mu_rho() + w_ec * ec.lines[0].mu_rho(), 1e-12);
  double sum = 0;
  for (const auto& e : m.elements) sum += e.mass_fraction;
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(Materials, VoidComponentIsPorosity) {
  const MaterialTable t = resolve(R"(
[materials.Al]
formula = "Al"
[materials.m]
components = [ { material = "Al", volume_fraction = 0.5 }, { material = "void", volume_fraction = 0.5 } ]
)");
  const Material& m = t.materials[t.index("m")];
  EXPECT_NEAR(m.density_g_cm3, 0.5 * 2.699, 0.01);
  // Same mass coefficients as aluminium: the pores hold no mass.
  EXPECT_NEAR(m.lines[0].mu_rho(), t.materials[t.index("Al")].lines[0].mu_rho(), 1e-12);
  EXPECT_EQ(m.components[1].material, -1);
  EXPECT_EQ(m.components[1].mass_fraction, 0.0);
}

TEST(Materials, DensitiesComeFromXraylibForElementsAndNistCompounds) {
  const MaterialTable t = resolve(R"(
[materials.cu]
formula = "Cu"
[materials.m]
nist = "Water, Liquid"
)");
  EXPECT_NEAR(t.materials[t.index("cu")].density_g_cm3, 8.96, 0.01);
  EXPECT_NEAR(t.materials[t.index("m")].density_g_cm3, 1.0, 1e-9);
  EXPECT_NEAR(t.materials[t.index("m")].lines[0].mu_en_rho(), 0.2157, 0.02 * 0.2157);
}

TEST(Materials, GivenDensityOverridesTheElementDensity) {
  const MaterialTable t = resolve("[materials.m]\nformula = \"Cu\"\ndensity_g_cm3 = 4.0\n");
  EXPECT_EQ(t.materials[0].density_g_cm3, 4.0);
}

TEST(Materials, XraylibErrorsBecomeSceneErrorsWithPosition) {
  try {
    resolve("[materials.m]\nformula = \"Xq2O\"\ndensity_g_cm3 = 1.0\n");
    FAIL() << "no error";
  } catch (const UserError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].where.line, 3);  // "format = 1" is line 1, the header line 2
    EXPECT_NE(e.diagnostics()[0].what.find("not a valid chemical formula"), std::string::npos);
  }
  try {
    resolve("[materials.m]\nnist = \"Watr, Liquid\"\n");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.diagnostics()[0].fix.find("Water, Liquid"), std::string::npos) << e.what();
  }
  try {
    resolve("[materials.m]\nformula = \"C3H4O3\"\n");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.diagnostics()[0].what.find("needs density_g_cm3"), std::string::npos);
  }
}

TEST(Materials, PolychromaticBeamGetsCoefficientsPerLine) {
  Scene s = read_scene_text("format = 1\n[materials.m]\nformula = \"Cu\"\n" + kSceneTail, "t.toml");
  s.beam.spectrum = {{20.0, 0.5}, {30.0, 0.5}};
  const MaterialTable t = resolve_materials(s);
  ASSERT_EQ(t.materials[0].lines.size(), 2u);
  EXPECT_EQ(t.materials[0].lines[0].energy_keV, 20.0);
  EXPECT_GT(t.materials[0].lines[0].mu_rho(), t.materials[0].lines[1].mu_rho());
  const double mean = t.spectrum_mean(t.materials[0], [](const MaterialCoefficients& c) { return c.mu_rho(); });
  EXPECT_NEAR(mean, 0.5 * (t.materials[0].lines[0].mu_rho() + t.materials[0].lines[1].mu_rho()), 1e-12);
}

}  // namespace
}  // namespace dosemap
