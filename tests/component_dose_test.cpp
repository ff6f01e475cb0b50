// Per-component doses in composite voxels: each component absorbs with its own coefficient
// in the fluence the composite leaves, exactly as a voxel of the pure component would in
// the same fluence; the voxel's dose is their mass-weighted mean.
#include <gtest/gtest.h>

#include <cmath>

#include "host/transport/transport_tables.h"
#include "tests/engine_harness.h"

namespace dosemap {
namespace {

const std::string kMaterials = test::kCathodeMaterials;

std::string scene(const std::string& layer_material) {
  return test::make_scene(kMaterials,
                          "voxel_um = [10.0, 10.0, 2.0]\nlateral_um = [40.0, 40.0]\n[[sample.layers]]\nmaterial = \"" +
                              layer_material + "\"\nthickness_um = 30.0\n",
                          "energy_keV = 27.0\nflux_ph_s = 1e10\nprofile = \"gaussian\"\nfwhm_um = [15.0, 10.0]\n",
                          "[[scan.steps]]\nkind = \"point\"\nat_um = [3.0, -2.0]\nexposure_s = 5.0\n");
}

// Mean fluence in voxel k relative to the column's incident fluence: exp(-mu k dz) f(mu dz).
double mean_fluence(const test::EngineRun& r, const std::string& material, int64_t k) {
  const Material& m = r.materials.materials[r.materials.index(material)];
  const double mu = m.lines[0].mu_rho() * m.density_g_cm3 * 1e-4, dz = r.g().voxel_um[2];
  return std::exp(-mu * k * dz) * (-std::expm1(-mu * dz)) / (mu * dz);
}

int grid_index(const test::EngineRun& r, const std::string& name) {
  const auto& names = r.results.tables.component_grid_names;
  return static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
}

TEST(ComponentDose, EqualsSingleMaterialRunsInTheSameFluence) {
  auto composite = test::run_engine(scene("cathode"));
  const GridGeometry& g = composite->g();
  for (const char* part : {"NMC811", "EC"}) {
    auto pure = test::run_engine(scene(part));
    const float* dc = composite->results.component_dose(grid_index(*composite, part));
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      // The pure slab attenuates differently: compare in the same fluence.
      const double fluence_ratio = mean_fluence(*composite, "cathode", k) / mean_fluence(*pure, part, k);
      for (int64_t c = 0; c < g.columns(); ++c) {
        const int64_t v = k * g.columns() + c;
        const double expect = pure->results.dose_Gy[v] * fluence_ratio;
        EXPECT_NEAR(dc[v], expect, 1e-6 * expect + 1e-30) << part << " voxel " << v;
      }
    }
  }
}

TEST(ComponentDose, VoxelDoseIsTheMassWeightedMeanOfItsComponents) {
  auto run = test::run_engine(scene("cathode"));
  const Material& cathode = run->materials.materials[run->materials.index("cathode")];
  const float* nmc = run->results.component_dose(grid_index(*run, "NMC811"));
  const float* ec = run->results.component_dose(grid_index(*run, "EC"));
  const double w_nmc = cathode.components[0].mass_fraction, w_ec = cathode.components[1].mass_fraction;
  EXPECT_NEAR(w_nmc + w_ec, 1.0, 1e-12);
  for (int64_t v = 0; v < run->results.voxels; ++v) {
    const double d = run->results.dose_Gy[v];
    EXPECT_NEAR(w_nmc * nmc[v] + w_ec * ec[v], d, 1e-6 * d + 1e-30);
    EXPECT_GT(nmc[v], ec[v]);  // NMC absorbs ~40x more per gram at 27 keV
  }
}

TEST(ComponentDose, PureComponentVoxelsReportTheirOwnDose) {
  // A pure NMC811 layer behind the cathode: dose:NMC811 there is the voxel dose.
  const std::string text = test::make_scene(
      kMaterials,
      "voxel_um = [10.0, 10.0, 2.0]\nlateral_um = [40.0, 40.0]\n[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 10.0\n"
      "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 4.0\n",
      "energy_keV = 27.0\nflux_ph_s = 1e10\nprofile = \"tophat\"\nsize_um = [40.0, 40.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n");
  auto run = test::run_engine(text);
  const float* nmc = run->results.component_dose(grid_index(*run, "NMC811"));
  const float* ec = run->results.component_dose(grid_index(*run, "EC"));
  const GridGeometry& g = run->g();
  for (int64_t k = 5; k < 7; ++k)
    for (int64_t c = 0; c < g.columns(); ++c) {
      const int64_t v = k * g.columns() + c;
      EXPECT_EQ(nmc[v], run->results.dose_Gy[v]);
      EXPECT_EQ(ec[v], 0.0f);  // no EC there
    }
  const auto presence = component_presence(run->results.tables);
  EXPECT_TRUE(presence[grid_index(*run, "NMC811")][run->materials.index("NMC811")]);
  EXPECT_FALSE(presence[grid_index(*run, "EC")][run->materials.index("NMC811")]);
}

}  // namespace
}  // namespace dosemap
