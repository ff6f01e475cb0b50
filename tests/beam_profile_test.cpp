// Beam profiles integrated over voxel columns: photons are conserved wherever the beam lies
// inside the grid, static or moving, whatever the beam's size relative to the voxels.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cuda/beam_profile.h"
#include "host/transport/exposure_plan.h"
#include "cuda/history_builder.h"
#include "host/transport/stage_poses.h"

namespace dosemap {
namespace {

GridGeometry grid(double voxel_um) {
  GridGeometry g;
  g.voxel_um = {voxel_um, voxel_um * 0.75, 1.0};
  g.dims = {static_cast<int64_t>(std::llround(200 / voxel_um)), static_cast<int64_t>(std::llround(200 / (0.75 * voxel_um))), 1};
  g.origin_um = {-0.5 * g.dims[0] * g.voxel_um[0], -0.5 * g.dims[1] * g.voxel_um[1], 0};
  return g;
}

// Sum over the footprint of the photon fraction on each column.
double total_fraction(const BeamProfile& p, const GridGeometry& g, const SubExposure& s) {
  const double centre[3] = {0, 0, 0};
  const RayLattice L = pose_lattice(make_pose(1, 0.0, 0.0, centre), g);  // the columns
  const ColumnRect r = footprint(p, L, s);
  double sum = 0;
  for (int64_t j = r.j0; j < r.j1; ++j)
    for (int64_t i = r.i0; i < r.i1; ++i) sum += ray_fluence_m2(p, L, s, i, j);
  return sum * g.column_area_m2() / s.photons;
}

std::vector<BeamProfile> profiles(std::vector<double>& image) {
  BeamSpec b;
  std::vector<BeamProfile> out;
  b.profile = ProfileKind::kGaussian;
  b.fwhm_um = {12.0, 3.0};
  out.push_back(make_beam_profile(b));
  b.fwhm_um = {0.7, 0.4};  // narrower than a voxel
  out.push_back(make_beam_profile(b));
  b.profile = ProfileKind::kTopHat;
  b.size_um = {17.0, 6.5};
  out.push_back(make_beam_profile(b));
  b.size_um = {0.3, 0.2};
  out.push_back(make_beam_profile(b));
  // An asymmetric 7 x 5 image of 1.3 x 0.9 um pixels.
  image.clear();
  double sum = 0;
  for (int i = 0; i < 35; ++i) image.push_back(1.0 + (i * 7919) % 13), sum += image.back();
  for (double& v : image) v /= sum;
  BeamProfile p;
  p.kind = kBeamImage;
  p.image = image.data();
  p.image_nx = 7;
  p.image_ny = 5;
  p.pixel_um[0] = 1.3;
  p.pixel_um[1] = 0.9;
  p.half_um[0] = p.reach_um[0] = 0.5 * 7 * 1.3;
  p.half_um[1] = p.reach_um[1] = 0.5 * 5 * 0.9;
  out.push_back(p);
  return out;
}

TEST(BeamProfile, StaticBeamsSumToThePhotonNumberInsideTheGrid) {
  std::vector<double> image;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> pos(-60.0, 60.0);
  for (double voxel : {0.5, 2.0, 5.0, 10.0}) {
    const GridGeometry g = grid(voxel);
    for (const BeamProfile& p : profiles(image))
      for (int n = 0; n < 20; ++n) {
        SubExposure s;
        s.x0_um = s.x1_um = pos(rng);
        s.y0_um = s.y1_um = pos(rng);
        s.photons = 1e12;
        EXPECT_NEAR(total_fraction(p, g, s), 1.0, 1e-9) << "kind " << p.kind << " voxel " << voxel;
      }
  }
}

TEST(BeamProfile, MovingBeamsSumToThePhotonNumberInsideTheGrid) {
  std::vector<double> image;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> pos(-50.0, 50.0);
  for (double voxel : {1.0, 5.0}) {
    const GridGeometry g = grid(voxel);
    for (const BeamProfile& p : profiles(image))
      for (int n = 0; n < 10; ++n) {
        SubExposure s;
        s.x0_um = pos(rng), s.y0_um = pos(rng), s.x1_um = pos(rng), s.y1_um = pos(rng);
        if (n == 0) s.y1_um = s.y0_um;  // along x
        if (n == 1) s.x1_um = s.x0_um;  // along y
        s.photons = 1e12;
        EXPECT_NEAR(total_fraction(p, g, s), 1.0, 1e-9) << "kind " << p.kind << " voxel " << voxel;
      }
  }
}

TEST(BeamProfile, ClippedBeamLosesExactlyWhatFallsOutside) {
  const GridGeometry g = grid(5.0);
  BeamSpec b;
  b.profile = ProfileKind::kTopHat;
  b.size_um = {40.0, 10.0};
  const BeamProfile p = make_beam_profile(b);
  SubExposure s;
  s.x0_um = s.x1_um = g.origin_um[0] + 5.0;  // 25 of the 40 um fall outside the grid's left edge
  s.y0_um = s.y1_um = 0;
  s.photons = 1;
  EXPECT_NEAR(total_fraction(p, g, s), 25.0 / 40.0, 1e-12);
}

TEST(BeamProfile, MovingFractionIsTheMeanOfStaticFractionsAlongThePath) {
  // Compare with a fine midpoint sum of static fractions over one column.
  std::vector<double> image;
  for (const BeamProfile& p : profiles(image)) {
    const double x0 = -3.1, y0 = 0.4, x1 = 4.7, y1 = -1.9;
    const double cx0 = -1.0, cx1 = 1.5, cy0 = -0.8, cy1 = 0.7;
    const int n = 200000;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const double f = (i + 0.5) / n;
      sum += profile_fraction(p, x0 + f * (x1 - x0), y0 + f * (y1 - y0), cx0, cx1, cy0, cy1);
    }
    const double moving = profile_fraction_moving(p, x0, y0, x1, y1, cx0, cx1, cy0, cy1);
    EXPECT_NEAR(moving, sum / n, 1e-7 * std::max(1e-3, moving)) << "kind " << p.kind;
  }
}

TEST(BeamProfile, GaussianFractionKeepsTailPrecision) {
  // Far in the tail a difference of erf values near 1 would cancel to 0; erfc keeps it.
  const double tail = gaussian_interval_fraction(0.0, 1.0, 7.0, 7.5);
  const double expect = 0.5 * (std::erfc(7.0 / std::sqrt(2.0)) - std::erfc(7.5 / std::sqrt(2.0)));
  EXPECT_GT(tail, 0.0);
  EXPECT_NEAR(tail, expect, 1e-6 * expect);
  EXPECT_NEAR(gaussian_interval_fraction(0.0, 1.0, -7.5, -7.0), expect, 1e-6 * expect);
}

TEST(BeamProfile, FlySubstepsResolveTheBeam) {
  GridGeometry g = grid(5.0);
  BeamSpec b;
  b.profile = ProfileKind::kGaussian;
  b.fwhm_um = {20.0, 5.0};
  const BeamProfile p = make_beam_profile(b);
  EXPECT_NEAR(fly_substep_um(p, g, 1, 0), 0.2 * p.sigma_um[0], 1e-12);   // along x: 0.2 sigma_x
  EXPECT_NEAR(fly_substep_um(p, g, 0, 1), 0.2 * p.sigma_um[1], 1e-12);   // along y: 0.2 sigma_y
  b.profile = ProfileKind::kTopHat;
  b.size_um = {630.0, 110.0};
  const BeamProfile t = make_beam_profile(b);
  EXPECT_NEAR(fly_substep_um(t, g, 1, 0), 630.0 / 8, 1e-9);  // plateau wide: 1/8 of the beam
  b.size_um = {5.0, 5.0};
  const BeamProfile same = make_beam_profile(b);
  EXPECT_NEAR(fly_substep_um(same, g, 1, 0), 0.05, 1e-12);  // no plateau: 1 % of the ramp
}

}  // namespace
}  // namespace dosemap
