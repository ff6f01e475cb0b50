// A homogeneous slab in a uniform beam: every voxel's dose against the analytic formula
// D_k = Psi exp(-mu k dz) (1 - exp(-mu dz)) / (mu dz) (c/rho), and the deposited energy
// against N E (c/mu) (1 - exp(-mu T)), for every dose model and several voxel sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

#include "tests/engine_harness.h"

namespace dosemap {
namespace {

constexpr double kJoulePerKeV = 1.602176634e-16;

std::string slab_scene(const std::string& formula, double thickness_um, const std::string& voxel_um,
                       const std::string& model, const std::string& beam_shape) {
  // Single elements take xraylib's density; water needs its own.
  const std::string density = formula == "H2O" ? "density_g_cm3 = 1.0\n" : "";
  return test::make_scene("[physics]\ndose_model = \"" + model + "\"\n[materials.m]\nformula = \"" + formula + "\"\n" + density,
                          "voxel_um = " + voxel_um + "\nlateral_um = [100.0, 100.0]\n[[sample.layers]]\nmaterial = \"m\"\n" +
                              "thickness_um = " + std::to_string(thickness_um) + "\n",
                          "energy_keV = 27.0\nflux_ph_s = 1.0e10\n" + beam_shape,
                          "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 2.0\n");
}

struct SlabCase {
  const char* formula;
  const char* model;
  const char* voxel_um;
};

// Shown by GoogleTest instead of the struct's bytes.
void PrintTo(const SlabCase& c, std::ostream* os) { *os << c.formula << ", " << c.model << ", voxel_um " << c.voxel_um; }

class SlabDose : public ::testing::TestWithParam<SlabCase> {};

TEST_P(SlabDose, VoxelDosesAndDepositedEnergyMatchTheAnalyticSlab) {
  const SlabCase c = GetParam();
  const double thickness_um = 20.0;
  // A 40 x 40 um top-hat on 10 um columns: 16 columns each get exactly 1/16 of the photons.
  auto run = test::run_engine(slab_scene(c.formula, thickness_um, c.voxel_um, c.model,
                                         "profile = \"tophat\"\nsize_um = [40.0, 40.0]\n"));
  const GridGeometry& g = run->g();
  const Material& m = run->materials.materials[0];
  const MaterialCoefficients& k = m.lines[0];
  const double mu_per_um = k.mu_rho() * m.density_g_cm3 * 1e-4;
  const double dep_m2_kg = k.deposition(run->materials.model) * 0.1;
  const double photons = 1.0e10 * 2.0;
  const double energy_J = 27.0 * kJoulePerKeV;
  const double fluence_m2 = photons / (40e-6 * 40e-6);
  const double dz = g.voxel_um[2];
  int checked = 0;
  for (int64_t k_ = 0; k_ < g.dims[2]; ++k_) {
    const double m_k = std::exp(-mu_per_um * k_ * dz) * (-std::expm1(-mu_per_um * dz)) / (mu_per_um * dz);
    const double expect = fluence_m2 * energy_J * m_k * dep_m2_kg;
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const double x = g.center_um(0, i), y = g.center_um(1, j);
        const bool lit = std::fabs(x) < 20 && std::fabs(y) < 20;
        const double got = run->dose(i, j, k_);
        if (lit) {
          EXPECT_NEAR(got, expect, 1e-6 * expect) << "voxel " << i << "," << j << "," << k_;
          ++checked;
        } else {
          EXPECT_EQ(got, 0.0f) << "voxel " << i << "," << j << "," << k_;
        }
      }
  }
  EXPECT_EQ(checked, 16 * g.dims[2]);
  // Deposited energy: N E (c/mu) (1 - exp(-mu T)).
  const double expect_J = photons * energy_J * (k.deposition(run->materials.model) / k.mu_rho()) *
                          (-std::expm1(-mu_per_um * thickness_um));
  EXPECT_NEAR(run->results.energy.deposited_J, expect_J, 1e-6 * expect_J);
  double from_grid = 0;
  const double voxel_mass_kg = m.density_g_cm3 * g.voxel_volume_cm3() * 1e-3;
  for (float d : run->results.dose_Gy) from_grid += d * voxel_mass_kg;
  EXPECT_NEAR(from_grid, expect_J, 1e-6 * expect_J);
  // Energy balance: incident = deposited + transmitted + other, other >= 0.
  const EnergyBalance& e = run->results.energy;
  EXPECT_NEAR(e.incident_J, photons * energy_J, 1e-9 * e.incident_J);
  EXPECT_NEAR(e.transmitted_J, photons * energy_J * std::exp(-mu_per_um * thickness_um), 1e-9 * e.incident_J);
  EXPECT_GE(e.other_J, 0.0);
  EXPECT_NEAR(e.incident_J, e.deposited_J + e.transmitted_J + e.other_J, 1e-9 * e.incident_J);
}

INSTANTIATE_TEST_SUITE_P(
    ModelsAndVoxelSizes, SlabDose,
    ::testing::Values(SlabCase{"Cu", "mu_en", "[10.0, 10.0, 1.0]"}, SlabCase{"Cu", "photo", "[10.0, 10.0, 0.5]"},
                      SlabCase{"Cu", "absorbed", "[10.0, 10.0, 2.5]"}, SlabCase{"H2O", "mu_en", "[10.0, 10.0, 0.25]"},
                      SlabCase{"H2O", "absorbed", "[10.0, 10.0, 5.0]"}, SlabCase{"Pb", "mu_en", "[10.0, 10.0, 0.1]"},
                      SlabCase{"Pb", "photo", "[10.0, 10.0, 20.0]"}),
    [](const auto& info) {
      std::string v = info.param.voxel_um;
      std::string dz = v.substr(v.rfind(',') + 2);
      dz = dz.substr(0, dz.size() - 1);
      for (char& ch : dz)
        if (ch == '.') ch = 'p';
      return std::string(info.param.formula) + "_" + info.param.model + "_dz" + dz;
    });

TEST(SlabDose, GaussianBeamDepositsTheSlabEnergy) {
  auto run = test::run_engine(slab_scene("Cu", 20.0, "[2.0, 2.0, 1.0]", "mu_en", "profile = \"gaussian\"\nfwhm_um = [12.0, 7.0]\n"));
  const Material& m = run->materials.materials[0];
  const MaterialCoefficients& k = m.lines[0];
  const double mu_per_um = k.mu_rho() * m.density_g_cm3 * 1e-4;
  const double expect = 2e10 * 27.0 * kJoulePerKeV * (k.mu_en_rho() / k.mu_rho()) * (-std::expm1(-mu_per_um * 20.0));
  EXPECT_NEAR(run->results.energy.deposited_J, expect, 1e-6 * expect);
}

TEST(SlabDose, BeamNarrowerThanAVoxelStillDepositsTheRightEnergy) {
  // A 1 um FWHM beam off-centre inside one 10 um column, and a 2 um top-hat across a column edge.
  for (const std::string& beam : {std::string("profile = \"gaussian\"\nfwhm_um = [1.0, 1.0]\n"),
                                 std::string("profile = \"tophat\"\nsize_um = [2.0, 2.0]\n")}) {
    std::string text = slab_scene("Cu", 20.0, "[10.0, 10.0, 1.0]", "mu_en", beam);
    text.replace(text.find("at_um = [0.0, 0.0]"), 18, "at_um = [3.3, 9.6]");
    auto run = test::run_engine(text);
    const Material& m = run->materials.materials[0];
    const MaterialCoefficients& k = m.lines[0];
    const double mu_per_um = k.mu_rho() * m.density_g_cm3 * 1e-4;
    const double expect = 2e10 * 27.0 * kJoulePerKeV * (k.mu_en_rho() / k.mu_rho()) * (-std::expm1(-mu_per_um * 20.0));
    EXPECT_NEAR(run->results.energy.deposited_J, expect, 1e-6 * expect) << beam;
  }
}

TEST(SlabDose, RefiningVoxelsKeepsLayerMeanDose) {
  // Exact in-voxel integration: the mean dose of each layer does not depend on dz.
  const std::string materials = "[materials.cu]\nformula = \"Cu\"\n[materials.w]\nformula = \"H2O\"\ndensity_g_cm3 = 1.0\n";
  auto scene = [&](const char* voxel) {
    return test::make_scene(materials,
                            std::string("voxel_um = ") + voxel +
                                "\nlateral_um = [40.0, 40.0]\n[[sample.layers]]\nmaterial = \"cu\"\nthickness_um = 10.0\n"
                                "[[sample.layers]]\nmaterial = \"w\"\nthickness_um = 30.0\n",
                            "energy_keV = 30.0\nflux_ph_s = 1e9\nprofile = \"tophat\"\nsize_um = [20.0, 20.0]\n",
                            "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n");
  };
  auto layer_mean = [](const test::EngineRun& r, double z0, double z1) {
    const GridGeometry& g = r.g();
    double sum = 0;
    int64_t n = 0;
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      const double z = g.center_um(2, k);
      if (z < z0 || z > z1) continue;
      for (int64_t c = 0; c < g.columns(); ++c) {
        sum += r.results.dose_Gy[k * g.columns() + c];
        ++n;
      }
    }
    return sum / n;
  };
  auto coarse = test::run_engine(scene("[10.0, 10.0, 5.0]"));
  auto fine = test::run_engine(scene("[10.0, 10.0, 0.25]"));
  for (auto [z0, z1] : {std::pair<double, double>{0, 10}, {10, 40}}) {
    const double a = layer_mean(*coarse, z0, z1), b = layer_mean(*fine, z0, z1);
    EXPECT_NEAR(a, b, 1e-3 * b) << z0 << "-" << z1;  // physics invariant: < 0.1 %
    EXPECT_NEAR(a, b, 1e-6 * b) << z0 << "-" << z1;  // and exact, up to float rounding
  }
}

}  // namespace
}  // namespace dosemap
