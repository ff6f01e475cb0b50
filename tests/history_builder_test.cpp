// The fluence-history builder (cuda/history_builder.h), the one both backends run, on the
// host's primitives: every ray's history equals the definition (each sub-exposure whose
// footprint reaches the ray, in time order, with the fluence ray_fluence_m2 gives, summed
// one after the other) bit for bit, for static, moving and image beams, turned and tilted
// poses and windows of rows, whatever the thread count (the host groups events by time
// slices of the sub-exposures, one per thread).
#include <gtest/gtest.h>

#include <random>

#include "cuda/history_builder.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"

namespace dosemap {
namespace {

GridGeometry small_grid() {
  GridGeometry g;
  g.voxel_um = {4.0, 3.0, 5.0};
  g.dims = {17, 13, 11};
  g.origin_um = {-34.0, -19.5, 0.0};
  return g;
}

struct NamedLattice {
  const char* name;
  RayLattice L;
};

std::vector<NamedLattice> lattices(const GridGeometry& g) {
  const double centre[3] = {0.0, 0.0, 27.5};
  std::vector<NamedLattice> out = {
      {"beam along +z", pose_lattice(make_pose(1, 0.0, 0.0, centre), g)},
      {"turned 33 deg about y", pose_lattice(make_pose(1, 33.0, 0.0, centre), g)},
      {"turned 90 deg about x", pose_lattice(make_pose(0, 90.0, 0.0, centre), g)},
      {"turned 140 deg about y", pose_lattice(make_pose(1, 140.0, 0.0, centre), g)},
  };
  GridGeometry square = g;
  square.voxel_um = {4.0, 4.0, 5.0};
  out.push_back({"laminography: axis z tilted 25 deg, at 40 deg", pose_lattice(make_pose(2, 40.0, 25.0, centre), square)});
  for (const NamedLattice& n : out) EXPECT_TRUE(pose_is_supported(n.L)) << n.name;
  return out;
}

std::vector<BeamProfile> beams(std::vector<double>& image) {
  std::vector<BeamProfile> out;
  BeamSpec b;
  b.profile = ProfileKind::kGaussian;
  b.fwhm_um = {9.0, 5.0};
  out.push_back(make_beam_profile(b));
  b.profile = ProfileKind::kTopHat;
  b.size_um = {11.0, 7.0};
  out.push_back(make_beam_profile(b));
  image.assign(12, 0.0);
  for (int i = 0; i < 12; ++i) image[i] = (1.0 + (i * 7) % 5) / 36.0;
  BeamProfile p;
  p.kind = kBeamImage;
  p.image = image.data();
  p.image_nx = 4;
  p.image_ny = 3;
  p.pixel_um[0] = 2.5;
  p.pixel_um[1] = 3.5;
  p.half_um[0] = p.reach_um[0] = 5.0;
  p.half_um[1] = p.reach_um[1] = 5.25;
  out.push_back(p);
  return out;
}

// Static points, fly segments and points off the grid, in time order.
std::vector<SubExposure> scan(std::mt19937& rng) {
  std::uniform_real_distribution<double> pos(-45.0, 45.0);
  std::vector<SubExposure> subs;
  for (int n = 0; n < 60; ++n) {
    SubExposure s;
    s.t_start_s = n;
    s.duration_s = 0.5;
    s.x0_um = s.x1_um = pos(rng);
    s.y0_um = s.y1_um = pos(rng);
    if (n % 3 == 1) s.x1_um = pos(rng), s.y1_um = s.y0_um + 0.25 * pos(rng);  // a fly segment
    if (n % 17 == 5) s.x0_um = s.x1_um = 900.0;                               // misses the grid
    s.photons = 1e9 * (1 + n % 4);
    subs.push_back(s);
  }
  return subs;
}

// The histories by their definition, ray by ray.
FluenceHistory by_definition(const HistoryJob& job) {
  FluenceHistory h;
  const long long rays = history_rays(job);
  h.offset.push_back(0);
  for (long long r = 0; r < rays; ++r) {
    const long long r1 = r % job.L.n1, r2 = job.row0 + r / job.L.n1;
    double sum = 0;
    for (long long s = 0; s < job.n; ++s) {
      const SubExposure& x = job.subs[s];
      const ColumnRange c = ray_footprint(job.beam, job.L, x.x0_um, x.y0_um, x.x1_um, x.y1_um);
      if (r1 < c.i0 || r1 >= c.i1 || r2 < c.j0 || r2 >= c.j1) continue;
      sum += ray_fluence_m2(job.beam, job.L, x, r1, r2);
      h.sub_exposure.push_back(static_cast<uint32_t>(s));
      h.cum_fluence_m2.push_back(sum);
    }
    h.offset.push_back(static_cast<int64_t>(h.sub_exposure.size()));
  }
  return h;
}

TEST(HistoryBuilder, EveryRayHoldsItsSubExposuresInTimeOrderWithTheirFluenceBitForBit) {
  const GridGeometry g = small_grid();
  std::vector<double> image;
  std::mt19937 rng(3);
  const std::vector<SubExposure> subs = scan(rng);
  for (const NamedLattice& nl : lattices(g))
    for (const BeamProfile& beam : beams(image)) {
      SCOPED_TRACE(std::string(nl.name) + ", beam kind " + std::to_string(beam.kind));
      const HistoryJob windows[] = {
          {subs.data(), static_cast<long long>(subs.size()), beam, nl.L, 0, nl.L.n2},           // every ray
          {subs.data(), static_cast<long long>(subs.size()), beam, nl.L, 2, nl.L.n2 / 2 + 1},   // a slab of rows
          {subs.data(), 0, beam, nl.L, 0, nl.L.n2},                                             // no sub-exposure
      };
      for (const HistoryJob& job : windows) {
        const FluenceHistory want = by_definition(job);
        for (int threads : {1, 3, 64}) {
          const FluenceHistory got = build_fluence_history(job, threads, nullptr);
          EXPECT_EQ(got.offset, want.offset) << threads << " threads";
          EXPECT_EQ(got.sub_exposure, want.sub_exposure) << threads << " threads";
          EXPECT_EQ(got.cum_fluence_m2, want.cum_fluence_m2) << threads << " threads";
          ASSERT_EQ(got.t_start_s.size(), static_cast<size_t>(job.n));
          for (long long s = 0; s < job.n; ++s) {
            EXPECT_EQ(got.t_start_s[s], subs[s].t_start_s);
            EXPECT_EQ(got.duration_s[s], subs[s].duration_s);
          }
        }
        if (job.n > 0 && job.row0 == 0) {
          EXPECT_GT(want.events(), 200) << "the scan must reach the grid for this test to mean anything";
        }
      }
    }
}

}  // namespace
}  // namespace dosemap
