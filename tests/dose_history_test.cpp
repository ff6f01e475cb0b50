// Peak and dose-weighted mean dose rate, and threshold crossing times, against values
// computed by hand for a multi-exposure history of one column.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/engine_harness.h"

namespace dosemap {
namespace {

constexpr double kJoulePerKeV = 1.602176634e-16;

// One 10 x 10 um column of aluminium (2 voxels of 1 um), a 20 x 20 um top-hat beam.
// Centred on the column the beam puts 1/4 of its photons on it (rate r); at x = 10 um the
// overlap is half a column: rate r/2. History: r for 10 s, off 5 s, r/2 for 20 s, r for 4 s.
std::string history_scene(const std::string& thresholds) {
  return test::make_scene(
      "[materials.al]\nformula = \"Al\"\n",
      "voxel_um = [10.0, 10.0, 1.0]\nlateral_um = [10.0, 10.0]\n[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 2.0\n",
      "energy_keV = 20.0\nflux_ph_s = 4.0e9\nprofile = \"tophat\"\nsize_um = [20.0, 20.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 10.0\n"
      "[[scan.steps]]\nkind = \"wait\"\nduration_s = 5.0\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [10.0, 0.0]\nexposure_s = 20.0\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 4.0\n",
      "[output]\nthresholds_Gy = { " + thresholds + " }\n");
}

// Time at which the cumulative fluence (in units of r x 1 s) reaches `target`.
double hand_crossing(double target) {
  struct Piece { double t0, duration, rate; };
  const Piece pieces[] = {{0, 10, 1.0}, {15, 20, 0.5}, {35, 4, 1.0}};
  double cum = 0;
  for (const Piece& p : pieces) {
    if (cum + p.duration * p.rate >= target) return p.t0 + (target - cum) / p.rate;
    cum += p.duration * p.rate;
  }
  return -1;
}

TEST(DoseHistory, RatesAndCrossingTimesMatchAHandComputedHistory) {
  // Dose per unit fluence of each voxel, from the coefficients.
  const Scene probe = read_scene_text(history_scene("x = 1.0"), "h.toml");
  const MaterialTable mt = resolve_materials(probe);
  const MaterialCoefficients& c = mt.materials[0].lines[0];
  const double mu_per_um = c.mu_rho() * mt.materials[0].density_g_cm3 * 1e-4;
  const double f = -std::expm1(-mu_per_um) / mu_per_um;  // mean fluence in a 1 um voxel
  const double r = 4.0e9 * 0.25 / 1e-10;                 // photons / m^2 / s on the column
  double g[2];
  for (int k = 0; k < 2; ++k) g[k] = 20.0 * kJoulePerKeV * std::exp(-mu_per_um * k) * f * c.mu_en_rho() * 0.1;
  const double total = 24.0;  // fluence in units of r x 1 s: 10 + 20 / 2 + 4
  const double d0 = g[0] * r * total;
  // Thresholds at 25 %, 60 % and 95 % of voxel 0's final dose, and one never reached.
  char thr[256];
  std::snprintf(thr, sizeof thr, "a = %.17g, b = %.17g, c = %.17g, never = %.17g", 0.25 * d0, 0.6 * d0, 0.95 * d0, 1.5 * d0);
  auto run = test::run_engine(history_scene(thr));
  const DoseResults& res = run->results;
  EXPECT_EQ(res.sub_exposures, 3);
  const double levels[4] = {0.25 * d0, 0.6 * d0, 0.95 * d0, 1.5 * d0};
  for (int k = 0; k < 2; ++k) {
    const int64_t v = run->g().index(0, 0, k);
    EXPECT_NEAR(res.dose_Gy[v], g[k] * r * total, 1e-6 * d0);
    EXPECT_NEAR(res.rate_peak_Gy_s[v], g[k] * r, 1e-6 * g[k] * r);
    // sum(dD^2/dt) / sum(dD) = g r (10 + 20/4 + 4) / 24
    EXPECT_NEAR(res.rate_mean_Gy_s[v], g[k] * r * 19.0 / 24.0, 1e-6 * g[k] * r);
    for (int t = 0; t < 4; ++t) {
      const double expect = g[k] * r * total >= levels[t] ? hand_crossing(levels[t] / (g[k] * r)) : -1.0;
      EXPECT_NEAR(res.crossing(t)[v], expect, 1e-6 * 40) << "voxel " << k << " threshold " << t;
    }
  }
  // Voxel 0: a crossed inside the first exposure, b inside the half-rate one, c in the last.
  EXPECT_NEAR(res.crossing(0)[0], 6.0, 1e-5);
  EXPECT_NEAR(res.crossing(1)[0], 23.8, 1e-5);
  EXPECT_NEAR(res.crossing(2)[0], 37.8, 1e-5);
  EXPECT_EQ(res.crossing(3)[0], -1.0f);
}

TEST(DoseHistory, ThresholdReachedExactlyAtTheEndCounts) {
  // The last voxel reaches exactly its final dose: crossing at the end of the last exposure.
  const Scene probe = read_scene_text(history_scene("x = 1.0"), "h.toml");
  const MaterialTable mt = resolve_materials(probe);
  const MaterialCoefficients& c = mt.materials[0].lines[0];
  const double mu_per_um = c.mu_rho() * mt.materials[0].density_g_cm3 * 1e-4;
  const double d0 = 20.0 * kJoulePerKeV * (-std::expm1(-mu_per_um) / mu_per_um) * c.mu_en_rho() * 0.1 * 1e19 * 24.0;
  char thr[128];
  std::snprintf(thr, sizeof thr, "end = %.17g", d0 * (1 - 1e-9));
  auto run = test::run_engine(history_scene(thr));
  EXPECT_NEAR(run->results.crossing(0)[0], 39.0, 1e-5);
}

}  // namespace
}  // namespace dosemap
