// Turned, rotating and tilted samples (docs/physics.md, "Poses and passes") against
// analytic laws: a slab turned about y, 90 degree turns against the transposed scene, a
// cylinder under continuous rotation against a quadrature over angle, laminography of a
// slab, the energy of an XRD-CT of a cylinder against the chord law, and threshold times
// across angles computed by hand. Every pass must also balance energy ray by ray.
#include <gtest/gtest.h>

#include <cmath>
#include <array>
#include <numeric>

#include "cuda/pose.h"
#include "tests/engine_harness.h"

namespace dosemap {
namespace {

constexpr double kJoulePerKeV = 1.602176634e-16;
constexpr double kPi = 3.14159265358979323846;

const std::string kAluminium = "[materials.al]\nformula = \"Al\"\n";

// Linear attenuation (1/um) and deposition coefficient (m^2/kg) of the scene's first
// material at its (single) energy.
struct Coefficients {
  double mu_per_um, dep_m2_kg, dep_over_mu;
};
Coefficients coefficients(const test::EngineRun& run) {
  const Material& m = run.materials.materials[0];
  const MaterialCoefficients& k = m.lines[0];
  return {k.mu_rho() * m.density_g_cm3 * 1e-4, k.deposition(run.materials.model) * 0.1,
          k.deposition(run.materials.model) / k.mu_rho()};
}

double voxel_mean(double mu_l) { return -std::expm1(-mu_l) / mu_l; }

// Lab (x, y) of a sample point for a stage pose (the contract's formula).
std::array<double, 2> lab_xy(const test::EngineRun& run, double angle_deg, const std::array<double, 3>& p) {
  const StageSpec& st = run.scene.sample.stage;
  const std::array<double, 3> c =
      st.has_center ? st.center_um : std::array<double, 3>{0, 0, 0.5 * run.g().dims[2] * run.g().voxel_um[2]};
  const Pose pose = make_pose(st.axis, angle_deg, st.tilt_deg, c.data());
  double lab[3];
  pose_to_lab(pose, p.data(), lab);
  return {lab[0], lab[1]};
}

std::array<double, 3> centre(const GridGeometry& g, int64_t i, int64_t j, int64_t k) {
  return {g.center_um(0, i), g.center_um(1, j), g.center_um(2, k)};
}

// ---- a slab turned about y ----

std::string turned_slab(double angle_deg) {
  return test::make_scene(kAluminium,
                          "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [400.0, 60.0]\n"
                          "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 100.0\n"
                          "[sample.stage]\naxis = \"y\"\n",
                          "energy_keV = 27.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [100.0, 40.0]\n",
                          "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 2.0\nangle_deg = " +
                              std::to_string(angle_deg) + "\n");
}

class TurnedSlab : public ::testing::TestWithParam<double> {};

TEST_P(TurnedSlab, InteriorDosesAndDepositedEnergyFollowThePathOverCosine) {
  const double a = GetParam();
  auto run = test::run_engine(turned_slab(a));
  const GridGeometry& g = run->g();
  const Coefficients c = coefficients(*run);
  // Beyond 90 degrees the beam enters through the far face (z = 100 um).
  const double cos_a = std::fabs(std::cos(a * kPi / 180));
  const bool enters_at_far_face = std::cos(a * kPi / 180) < 0;
  const double photons = 2.0e10, E = 27.0 * kJoulePerKeV;
  const double psi = photons / (100e-6 * 40e-6) * E;  // energy fluence across the beam (J/m^2)
  int checked = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const auto lab = lab_xy(*run, a, centre(g, i, j, k));
        if (std::fabs(lab[0]) > 50 - 10 || std::fabs(lab[1]) > 20 - 10) continue;  // a voxel from the beam's edge
        const double z0 = (enters_at_far_face ? g.dims[2] - 1 - k : k) * g.voxel_um[2];
        const double expect = psi * c.dep_m2_kg * std::exp(-c.mu_per_um * z0 / cos_a) *
                              voxel_mean(c.mu_per_um * g.voxel_um[2] / cos_a);
        const double got = run->results.dose_Gy[g.index(i, j, k)];
        ASSERT_NEAR(got, expect, 1e-4 * expect) << "voxel " << i << "," << j << "," << k;
        ++checked;
      }
  EXPECT_GT(checked, 100);
  // Every photon crosses the whole slab (the beam is inside the grid at every depth).
  const double expect_J = photons * E * c.dep_over_mu * -std::expm1(-c.mu_per_um * 100.0 / cos_a);
  EXPECT_NEAR(run->results.energy.deposited_J, expect_J, 1e-4 * expect_J);
  EXPECT_NEAR(run->results.energy.incident_J, photons * E, 1e-9 * photons * E);
  EXPECT_LT(run->results.energy.max_ray_imbalance, 1e-6);
  EXPECT_EQ(run->results.poses, 1);
}

INSTANTIATE_TEST_SUITE_P(Angles, TurnedSlab, ::testing::Values(0.0, 17.0, 30.0, -40.0, 180.0 + 25.0));

// ---- a 90 degree turn is the transposed scene ----

TEST(TurnedScans, NinetyDegreeTurnEqualsTheTransposedAxisAlignedScene) {
  // A: Al then Cu along z, turned by 90 degrees about y: the beam crosses it along -x.
  // B: the same voxels transposed (B's x = A's z, B's z = -A's x), beam along +z.
  const std::string materials = kAluminium + "[materials.cu]\nformula = \"Cu\"\n";
  const std::string beam = "energy_keV = 20.0\nflux_ph_s = 1.0e9\nprofile = \"gaussian\"\nfwhm_um = [9.0, 6.0]\n";
  const std::string scan =
      "[[scan.steps]]\nkind = \"point\"\nat_um = [2.0, 1.0]\nexposure_s = 3.0\nANGLE"
      "[[scan.steps]]\nkind = \"wait\"\nduration_s = 2.0\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [-4.0, 3.0]\nexposure_s = 5.0\nANGLE";
  auto with_angle = [&](std::string s, const std::string& angle) {
    for (size_t p; (p = s.find("ANGLE")) != std::string::npos;) s.replace(p, 5, angle);
    return s;
  };
  const std::string output = "[output]\nthresholds_Gy = { low = 1.0e2, high = 1.0e4 }\n";
  auto a = test::run_engine(test::make_scene(materials,
                                             "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [40.0, 20.0]\n"
                                             "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 15.0\n"
                                             "[[sample.layers]]\nmaterial = \"cu\"\nthickness_um = 15.0\n"
                                             "[sample.stage]\naxis = \"y\"\n",
                                             beam, with_angle(scan, "angle_deg = 90.0\n"), output));
  auto b = test::run_engine(test::make_scene(materials,
                                             "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [30.0, 20.0]\n"
                                             "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 40.0\n"
                                             "[[sample.shapes]]\nkind = \"box\"\nmaterial = \"cu\"\n"
                                             "center_um = [7.5, 0.0, 20.0]\nsize_um = [15.0, 20.0, 40.0]\n",
                                             beam, with_angle(scan, ""), output));
  const GridGeometry& ga = a->g();
  const GridGeometry& gb = b->g();
  ASSERT_EQ(gb.dims[0], ga.dims[2]);
  ASSERT_EQ(gb.dims[2], ga.dims[0]);
  const DoseResults& ra = a->results;
  const DoseResults& rb = b->results;
  int compared = 0;
  for (int64_t k = 0; k < ga.dims[2]; ++k)
    for (int64_t j = 0; j < ga.dims[1]; ++j)
      for (int64_t i = 0; i < ga.dims[0]; ++i) {
        const int64_t va = ga.index(i, j, k), vb = gb.index(k, j, ga.dims[0] - 1 - i);
        ASSERT_EQ(a->grid->material[va], b->grid->material[vb]);
        const double d = rb.dose_Gy[vb];
        EXPECT_NEAR(ra.dose_Gy[va], d, 1e-6 * d) << i << "," << j << "," << k;
        EXPECT_NEAR(ra.rate_peak_Gy_s[va], rb.rate_peak_Gy_s[vb], 1e-6 * rb.rate_peak_Gy_s[vb]);
        EXPECT_NEAR(ra.rate_mean_Gy_s[va], rb.rate_mean_Gy_s[vb], 1e-6 * rb.rate_mean_Gy_s[vb]);
        for (int t = 0; t < 2; ++t) EXPECT_NEAR(ra.crossing(t)[va], rb.crossing(t)[vb], 1e-5) << "threshold " << t;
        compared += d > 0;
      }
  EXPECT_GT(compared, 50);
  EXPECT_NEAR(ra.energy.deposited_J, rb.energy.deposited_J, 1e-6 * rb.energy.deposited_J);
  EXPECT_NEAR(ra.energy.transmitted_J, rb.energy.transmitted_J, 1e-6 * rb.energy.transmitted_J);
}

// ---- a cylinder under continuous rotation ----

// Exact path length, upstream of point (px, pz) along the beam direction (ux, uz), inside a
// voxelized shape given per x-column of width h (x from x0) as the z range [zlo, zhi) of
// its voxels (empty when zlo >= zhi): the chord of the actual voxels, not of the ideal shape,
// and computed column by column (not by the engine's slice march).
double upstream_path(const std::vector<std::array<double, 2>>& columns, double x0, double h, double px, double pz,
                     double ux, double uz) {
  double L = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    const double zlo = columns[i][0], zhi = columns[i][1];
    if (zlo >= zhi) continue;
    const double xa = x0 + i * h, xb = xa + h;
    // Upstream points: (px - s ux, pz - s uz), s >= 0.
    double s0 = 0, s1 = 1e300;
    if (std::fabs(ux) < 1e-15) {
      if (px < xa || px >= xb) continue;
    } else {
      const double sa = (px - xa) / ux, sb = (px - xb) / ux;
      s0 = std::max(s0, std::min(sa, sb));
      s1 = std::min(s1, std::max(sa, sb));
    }
    if (std::fabs(uz) < 1e-15) {
      if (pz < zlo || pz >= zhi) continue;
    } else {
      const double sa = (pz - zlo) / uz, sb = (pz - zhi) / uz;
      s0 = std::max(s0, std::min(sa, sb));
      s1 = std::min(s1, std::max(sa, sb));
    }
    if (s1 > s0) L += s1 - s0;
  }
  return L;
}

TEST(TurnedScans, CylinderUnderContinuousRotationIsRadiallySymmetricAndMatchesQuadrature) {
  const double R = 40.0, h = 2.0;
  auto run = test::run_engine(test::make_scene(
      "[materials.cu]\nformula = \"Cu\"\n",
      "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [90.0, 4.0]\n"
      "[[sample.layers]]\nmaterial = \"void\"\nthickness_um = 90.0\n"
      "[[sample.shapes]]\nkind = \"cylinder\"\nmaterial = \"cu\"\ncenter_um = [0.0, 0.0, 45.0]\nradius_um = 40.0\n"
      "length_um = 10.0\naxis = \"y\"\n"
      "[sample.stage]\naxis = \"y\"\n",
      "energy_keV = 20.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [150.0, 20.0]\n",
      "[[scan.steps]]\nkind = \"rotate\"\nat_um = [0.0, 0.0]\nfrom_deg = 0.0\nto_deg = 360.0\nspeed_deg_s = 10.0\n"));
  const GridGeometry& g = run->g();
  const Coefficients c = coefficients(*run);
  ASSERT_GT(run->results.poses, 100);
  EXPECT_LT(run->results.energy.max_ray_imbalance, 1e-6);
  const double fluence_rate = 1.0e10 / (150e-6 * 20e-6), seconds = 36.0, E = 20.0 * kJoulePerKeV;
  ASSERT_GT(c.mu_per_um * R, 1.0);  // attenuation shapes the profile: mu R > 1 at 20 keV in copper
  // The independent law: the dose at a point is the mean over angle of exp(-mu L), L the
  // exact path through the cylinder's voxels; a voxel's is that averaged over its
  // cross-section (4 x 4 points, the midpoint rule).
  std::vector<std::array<double, 2>> columns(g.dims[0], {0.0, 0.0});
  for (int64_t i = 0; i < g.dims[0]; ++i) {
    double lo = 1e300, hi = -1e300;
    for (int64_t k = 0; k < g.dims[2]; ++k)
      if (run->grid->material[g.index(i, 0, k)] != kVoidId) {
        lo = std::min(lo, k * h - 45.0);
        hi = std::max(hi, (k + 1) * h - 45.0);
      }
    if (lo < hi) columns[i] = {lo, hi};
  }
  auto expected = [&](double x, double z) {
    const int n_angles = 720, n_sub = 4;
    double sum = 0;
    for (int sx = 0; sx < n_sub; ++sx)
      for (int sz = 0; sz < n_sub; ++sz) {
        const double px = x + ((sx + 0.5) / n_sub - 0.5) * h, pz = z + ((sz + 0.5) / n_sub - 0.5) * h;
        for (int p = 0; p < n_angles; ++p) {
          const double theta = 2 * kPi * (p + 0.5) / n_angles;  // beam along (-sin, cos) in the sample's x-z
          sum += std::exp(-c.mu_per_um * upstream_path(columns, g.origin_um[0], h, px, pz, -std::sin(theta),
                                                        std::cos(theta)));
        }
      }
    return fluence_rate * seconds * E * c.dep_m2_kg * sum / (n_angles * n_sub * n_sub);
  };
  // Rings of one voxel width, split into 8 sectors.
  const int rings = static_cast<int>((R - 2 * h) / h);
  std::vector<std::array<double, 8>> sector_sum(rings), sector_n(rings);
  double worst_quadrature = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t i = 0; i < g.dims[0]; ++i) {
      const double x = g.center_um(0, i), z = g.center_um(2, k) - 45.0;
      const double r = std::hypot(x, z);
      if (r > R - 2 * h) continue;
      const double dose = run->results.dose_Gy[g.index(i, 0, k)];
      const double law = expected(x, z);
      worst_quadrature = std::max(worst_quadrature, std::fabs(dose / law - 1));
      const int ring = std::min(rings - 1, static_cast<int>(r / h));
      const int sector = static_cast<int>(std::floor((std::atan2(x, z) + kPi) / (2 * kPi) * 8)) % 8;
      sector_sum[ring][sector] += dose / law;  // relative to the smooth law: what is left is pattern
      sector_n[ring][sector] += 1;
    }
  // Within 1 % of the quadrature everywhere inside, and no pattern above 0.5 %: one bound.
  EXPECT_LT(worst_quadrature, 0.005) << "a voxel departs from the quadrature over angle";
  for (int ring = 1; ring < rings; ++ring) {
    double lo = 1e300, hi = -1e300;
    for (int s = 0; s < 8; ++s) {
      if (sector_n[ring][s] == 0) continue;
      const double m = sector_sum[ring][s] / sector_n[ring][s];
      lo = std::min(lo, m), hi = std::max(hi, m);
    }
    EXPECT_LT(hi - lo, 0.003) << "ring " << ring << ": sector means differ";
  }
}

// ---- laminography: a flat slab turned about its normal, the axis tilted ----

class Laminography : public ::testing::TestWithParam<double> {};

TEST_P(Laminography, InteriorDoseFollowsThePathOverCosineTiltAtEveryStageAngle) {
  const double tilt = 30.0, angle = GetParam();
  auto run = test::run_engine(test::make_scene(
      kAluminium,
      "voxel_um = [10.0, 10.0, 5.0]\nlateral_um = [600.0, 600.0]\n"
      "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 60.0\n"
      "[sample.stage]\naxis = \"z\"\ntilt_deg = 30.0\n",
      "energy_keV = 25.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [200.0, 200.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\nangle_deg = " + std::to_string(angle) + "\n"));
  const GridGeometry& g = run->g();
  const Coefficients c = coefficients(*run);
  const double cos_t = std::cos(tilt * kPi / 180);
  const double psi = 1.0e10 / (200e-6 * 200e-6) * 25.0 * kJoulePerKeV;
  int checked = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        const auto lab = lab_xy(*run, angle, centre(g, i, j, k));
        if (std::fabs(lab[0]) > 100 - 20 || std::fabs(lab[1]) > 100 - 20) continue;
        const double expect = psi * c.dep_m2_kg * std::exp(-c.mu_per_um * k * g.voxel_um[2] / cos_t) *
                              voxel_mean(c.mu_per_um * g.voxel_um[2] / cos_t);
        ASSERT_NEAR(run->results.dose_Gy[g.index(i, j, k)], expect, 1e-4 * expect) << i << "," << j << "," << k;
        ++checked;
      }
  EXPECT_GT(checked, 100);
  EXPECT_LT(run->results.energy.max_ray_imbalance, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(StageAngles, Laminography, ::testing::Values(0.0, 20.0, 45.0, 90.0, 133.0, 270.0));

// ---- XRD-CT of a homogeneous cylinder ----

TEST(TurnedScans, XrdctOfACylinderDepositsTheChordLawEnergy) {
  const double R = 60.0;
  auto run = test::run_engine(test::make_scene(
      "[materials.cu]\nformula = \"Cu\"\n",
      "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [140.0, 6.0]\n"
      "[[sample.layers]]\nmaterial = \"void\"\nthickness_um = 140.0\n"
      "[[sample.shapes]]\nkind = \"cylinder\"\nmaterial = \"cu\"\ncenter_um = [0.0, 0.0, 70.0]\nradius_um = 60.0\n"
      "length_um = 20.0\naxis = \"y\"\n"
      "[sample.stage]\naxis = \"y\"\n",
      "energy_keV = 60.0\nflux_ph_s = 1.0e9\nprofile = \"tophat\"\nsize_um = [4.0, 2.0]\n",
      "[[scan.steps]]\nkind = \"xrdct\"\nfrom_deg = 0.0\nto_deg = 170.0\nstep_deg = 10.0\nx_from_um = -66.0\n"
      "x_to_um = 66.0\nx_step_um = 4.0\ndwell_s = 0.1\ny_um = [0.0, 2.0]\nline_move_s = 0.5\n"));
  const Coefficients c = coefficients(*run);
  // 18 angles x 2 heights x 34 points, ordered angle, height, point (snake lines).
  const Timeline& tl = run->timeline;
  ASSERT_EQ(tl.exposures.size(), 18u * 2 * 34);
  EXPECT_EQ(tl.exposures[0].x0_um, -66.0);
  EXPECT_EQ(tl.exposures[33].x0_um, 66.0);
  EXPECT_EQ(tl.exposures[34].x0_um, 66.0);  // the second line runs back
  EXPECT_EQ(tl.exposures[34].y0_um, 2.0);
  EXPECT_EQ(tl.exposures[68].angle0_deg, 10.0);
  EXPECT_NEAR(tl.exposures[34].t_start_s, 34 * 0.1 + 0.5, 1e-12);
  EXPECT_EQ(run->results.poses, 18);
  // Chord law per beam position: a tophat of width w at offset b covers chords 2 sqrt(R^2 - u^2).
  double expect_J = 0;
  const double N = 1.0e9 * 0.1, E = 60.0 * kJoulePerKeV;
  for (const Exposure& e : tl.exposures) {
    const int n = 400;
    double mean = 0;
    for (int s = 0; s < n; ++s) {
      const double u = e.x0_um + ((s + 0.5) / n - 0.5) * 4.0;
      if (std::fabs(u) < R) mean += -std::expm1(-c.mu_per_um * 2 * std::sqrt(R * R - u * u));
    }
    expect_J += N * E * c.dep_over_mu * mean / n;
  }
  EXPECT_NEAR(run->results.energy.deposited_J, expect_J, 0.005 * expect_J);
  EXPECT_LT(run->results.energy.max_ray_imbalance, 1e-6);
}

// ---- threshold times across angles ----

TEST(TurnedScans, ThresholdCrossedInTheSecondAngleAtTheHandComputedTime) {
  // A 40 um aluminium cube, a wide uniform beam: 4 s at angle 0 (beam along +z), a 10 s
  // pause, then 8 s at angle 90 (beam along -x). Voxel (i, k) gets D1 = Psi1 c exp(-mu k h) m
  // then D2 = Psi2 c exp(-mu (n - 1 - i) h) m per second of the second exposure.
  auto run = test::run_engine(test::make_scene(
      kAluminium,
      "voxel_um = [10.0, 10.0, 10.0]\nlateral_um = [40.0, 40.0]\n"
      "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 40.0\n"
      "[sample.stage]\naxis = \"y\"\n",
      "energy_keV = 15.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [100.0, 100.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 4.0\n"
      "[[scan.steps]]\nkind = \"wait\"\nduration_s = 10.0\n"
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 8.0\nangle_deg = 90.0\n",
      "[output]\nthresholds_Gy = { mark = 1.0e4 }\n"));
  const GridGeometry& g = run->g();
  const Coefficients c = coefficients(*run);
  const double rate = 1.0e10 / (100e-6 * 100e-6) * 15.0 * kJoulePerKeV * c.dep_m2_kg * voxel_mean(c.mu_per_um * 10.0);
  int crossed_in_second = 0;
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t i = 0; i < 4; ++i) {
      const double d1 = 4.0 * rate * std::exp(-c.mu_per_um * 10.0 * k);
      const double d2_per_s = rate * std::exp(-c.mu_per_um * 10.0 * (3 - i));
      const double threshold = 1.0e4;
      double expect = -1;
      if (d1 >= threshold) expect = threshold / (d1 / 4.0);
      else if (d1 + 8 * d2_per_s >= threshold) expect = 14.0 + (threshold - d1) / d2_per_s;
      const float got = run->results.crossing(0)[g.index(i, 1, k)];
      if (expect < 0) {
        EXPECT_LT(got, 0) << i << "," << k;
      } else {
        EXPECT_NEAR(got, expect, 1e-5 * expect) << i << "," << k;
      }
      crossed_in_second += expect > 14.0;
      EXPECT_NEAR(run->results.dose_Gy[g.index(i, 1, k)], d1 + 8 * d2_per_s, 1e-5 * (d1 + 8 * d2_per_s));
    }
  EXPECT_GT(crossed_in_second, 0) << "the threshold should be crossed during the second angle somewhere";
}

// ---- a beam that misses the grid ----

TEST(TurnedScans, ABeamThatMissesTheGridAtSomePosesDepositsNothingThere) {
  // A 40 um cube: the beam parked 30 um off the axis hits it only at some angles of a
  // continuous turn (the cube's half-diagonal is 28 um), and one far away never does.
  auto run = test::run_engine(test::make_scene(
      kAluminium,
      "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [40.0, 40.0]\n"
      "[[sample.layers]]\nmaterial = \"al\"\nthickness_um = 40.0\n"
      "[sample.stage]\naxis = \"y\"\n",
      "energy_keV = 20.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [4.0, 4.0]\n",
      "[[scan.steps]]\nkind = \"rotate\"\nat_um = [24.0, 0.0]\nfrom_deg = 0.0\nto_deg = 360.0\nspeed_deg_s = 36.0\n"
      "[[scan.steps]]\nkind = \"rotate\"\nat_um = [5000.0, 0.0]\nfrom_deg = 0.0\nto_deg = 90.0\nstep_deg = 1.0\n"
      "dwell_s = 0.1\n"));
  const DoseResults& r = run->results;
  EXPECT_TRUE(r.column_marched.empty()) << "a turned scan's rays are not the grid's columns";
  double total = 0;
  int dosed = 0;
  for (int64_t v = 0; v < r.voxels; ++v) {
    ASSERT_TRUE(std::isfinite(r.dose_Gy[v]) && r.dose_Gy[v] >= 0) << v;
    ASSERT_TRUE(std::isfinite(r.rate_peak_Gy_s[v]) && std::isfinite(r.rate_mean_Gy_s[v])) << v;
    total += r.dose_Gy[v];
    dosed += r.dose_Gy[v] > 0;
  }
  EXPECT_GT(dosed, 0);                        // the corners pass through the beam
  EXPECT_LT(dosed, static_cast<int>(r.voxels));  // the core never does (24 um off the axis)
  // Only what hit the grid is incident; it balances; the far beam added nothing.
  EXPECT_LT(r.energy.incident_J, 0.5 * r.energy.beam_J);
  EXPECT_NEAR(r.energy.incident_J, r.energy.deposited_J + r.energy.transmitted_J + r.energy.other_J,
              1e-9 * r.energy.incident_J);
  EXPECT_GT(total, 0);
  EXPECT_GT(r.poses, 300);
}

}  // namespace
}  // namespace dosemap
