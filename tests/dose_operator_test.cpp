// The linear dose operator (host/plan/dose_operator.h): its forward map at the scene's own
// weights is the run's dose, a step's exposure scaled in the weights is the run of the scene
// with that exposure lengthened, and its adjoint passes the dot-product test
// <A w, u> = <w, A^T u> for random w and u.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "host/plan/dose_operator.h"
#include "tests/engine_harness.h"

namespace dosemap {
namespace {

// A raster, a fly line and point steps over copper and the cathode composite, with a
// two-line spectrum, optionally seen through a stage held at one angle (slanted rays).
std::string scene(const std::string& stage = "") {
  const std::string angle = stage.empty() ? "" : "angle_deg = 30.0\n";  // every step at the one angle
  return test::make_scene("[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
                          "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [60.0, 40.0]\n" + stage +
                              "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 4.0\n"
                              "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 16.0\n",
                          "spectrum = [[25.0, 1.0], [30.0, 0.5]]\nflux_ph_s = 1e11\nprofile = \"gaussian\"\n"
                          "fwhm_um = [6.0, 4.0]\n",
                          "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-10.0, -6.0]\nto_um = [10.0, 6.0]\n"
                          "step_um = [5.0, 6.0]\ndwell_s = 0.5\nmove_s = 0.1\n" + angle +
                              "[[scan.steps]]\nkind = \"fly\"\npath_um = [[-20.0, 10.0], [20.0, 12.0]]\nspeed_um_s = 8.0\n" +
                              angle + "[[scan.steps]]\nkind = \"point\"\nat_um = [15.0, -8.0]\nexposure_s = 3.0\n" + angle);
}

void expect_forward_is_the_run(const std::string& text) {
  auto run = test::run_engine(text);
  ASSERT_TRUE(at_one_pose(run->timeline));
  const DoseOperator A(run->scene, run->materials, run->grid, run->timeline, 2);
  std::vector<double> dose;
  A.forward(std::vector<double>(A.exposures(), 1.0), dose);
  int64_t dosed = 0;
  for (int64_t v = 0; v < A.voxels(); ++v) {
    const float engine = run->results.dose_Gy[v];
    // The run stores G F rounded to float; the operator keeps the double.
    ASSERT_LE(std::fabs(dose[v] - engine), std::ldexp(std::fabs(engine), -23)) << "voxel " << v;
    dosed += engine > 0;
  }
  EXPECT_GT(dosed, 100);
}

TEST(DoseOperator, ForwardAtTheScenesWeightsIsTheRunsDose) { expect_forward_is_the_run(scene()); }

TEST(DoseOperator, ForwardThroughATurnedStageIsTheRunsDose) {
  expect_forward_is_the_run(scene("[sample.stage]\naxis = \"y\"\n"));
}

TEST(DoseOperator, WeightsScaleExposuresLikeLongerBeamOnTimes) {
  auto run = test::run_engine(scene());
  const DoseOperator A(run->scene, run->materials, run->grid, run->timeline, 2);
  // The point step (the last exposure) three times longer.
  std::vector<double> w(A.exposures(), 1.0);
  w.back() = 3.0;
  std::vector<double> dose;
  A.forward(w, dose);
  Scene longer = run->scene;
  longer.scan.steps[2].exposure_s *= 3.0;
  auto again = test::run_engine(longer);
  for (int64_t v = 0; v < A.voxels(); ++v) {
    const double engine = again->results.dose_Gy[v];
    ASSERT_NEAR(dose[v], engine, 1e-6 * engine + 1e-30) << "voxel " << v;
  }
}

TEST(DoseOperator, AdjointPassesTheDotProductTest) {
  for (const std::string& text : {scene(), scene("[sample.stage]\naxis = \"y\"\n")}) {
    auto run = test::run_engine(text);
    const DoseOperator A(run->scene, run->materials, run->grid, run->timeline, 2);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<double> w(A.exposures()), u(static_cast<size_t>(A.voxels())), Aw, ATu;
      for (double& x : w) x = uniform(rng);
      for (double& x : u) x = uniform(rng);
      A.forward(w, Aw);
      A.adjoint(u, ATu);
      double lhs = 0, rhs = 0, scale = 0;
      for (size_t v = 0; v < u.size(); ++v) {
        lhs += Aw[v] * u[v];
        scale += std::fabs(Aw[v] * u[v]);
      }
      for (size_t e = 0; e < w.size(); ++e) rhs += w[e] * ATu[e];
      EXPECT_NEAR(lhs, rhs, 1e-9 * scale) << "trial " << trial;
    }
    // The same for any thread count, bit for bit.
    const DoseOperator one(run->scene, run->materials, run->grid, run->timeline, 1);
    std::vector<double> u(static_cast<size_t>(A.voxels()), 1.0), a, b;
    A.adjoint(u, a);
    one.adjoint(u, b);
    EXPECT_EQ(a, b);
  }
}

}  // namespace
}  // namespace dosemap
