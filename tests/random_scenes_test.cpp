// Invariants that hold for any scene, checked on random ones with the CPU backend, also
// turned and rotating: energy is conserved (ray by ray), nothing is negative, crossing
// times lie within the scan and follow the thresholds' order, and the result does not
// depend on the thread count. (The same scenes drive the CPU/GPU parity test.)
#include <gtest/gtest.h>

#include <cmath>

#include "host/transport/dose_bounds.h"
#include "tests/engine_harness.h"
#include "tests/random_scene.h"

namespace dosemap {
namespace {

void expect_every_invariant(const Scene& scene) {
  {
    auto run = test::run_engine(scene, 2);
    const DoseResults& r = run->results;
    const EnergyBalance& e = r.energy;
    EXPECT_GE(e.other_J, 0.0);
    EXPECT_GE(e.deposited_J, 0.0);
    EXPECT_NEAR(e.incident_J, e.deposited_J + e.transmitted_J + e.other_J, 1e-9 * e.incident_J + 1e-300);
    EXPECT_LT(e.max_ray_imbalance, 1e-6);  // and so every exposure's balance
    EXPECT_LE(e.incident_J, e.beam_J * (1 + 1e-12));
    const double duration = run->timeline.duration_s;
    const ThresholdScale& scale = r.tables.thresholds;
    for (int64_t v = 0; v < r.voxels; ++v) {
      ASSERT_GE(r.dose_Gy[v], 0.0f);
      ASSERT_GE(r.rate_peak_Gy_s[v], r.rate_mean_Gy_s[v] * (1 - 1e-6f));  // a mean never exceeds the peak
      const MaterialId m = run->grid->material[v];
      for (int t = 0; t < scale.count(); ++t)
        if (m == kVoidId || !scale.applies(m, t)) {
          ASSERT_LT(r.crossing(t)[v], 0) << "label " << t << " is not the material's; voxel " << v;
        }
      if (m == kVoidId) continue;
      float previous = 0;
      for (const auto& [t, threshold] : scale.of(m)) {  // the material's own scale, ascending
        const float c = r.crossing(t)[v];
        // Crossed iff the final dose reaches the threshold (either answer within rounding).
        const double d = r.dose_Gy[v];
        if (d >= threshold * (1 + 1e-6)) {
          ASSERT_GE(c, 0) << "threshold " << t << " voxel " << v;
        }
        if (d < threshold * (1 - 1e-6)) {
          ASSERT_LT(c, 0) << "threshold " << t << " voxel " << v;
        }
        if (c < 0) continue;
        ASSERT_LE(c, duration * (1 + 1e-6));
        ASSERT_GE(c, previous * (1 - 1e-6f));  // higher thresholds are reached later
        previous = c;
      }
    }
    // Frames: each voxel's dose never decreases from frame to frame, and a frame at the
    // scan's end is the final dose, bit for bit (the same additions in the same order).
    const auto& frames = r.tables.frame_time_s;
    for (size_t f = 0; f < frames.size(); ++f)
      for (int64_t v = 0; v < r.voxels; ++v) {
        const float now = r.frame_dose(static_cast<int>(f))[v];
        ASSERT_LE(now, r.dose_Gy[v] * (1 + 1e-6f)) << "frame " << f << " voxel " << v;
        if (f > 0) {
          ASSERT_GE(now, r.frame_dose(static_cast<int>(f) - 1)[v] * (1 - 1e-6f)) << "frame " << f;
        }
        if (frames[f] >= duration) {
          ASSERT_EQ(now, r.dose_Gy[v]) << "frame " << f << " voxel " << v;
        }
      }
    // The set-up's upper bounds (host/transport/dose_bounds.h) hold every dose, component
    // dose and peak rate: a scene they let through never overflows the float grids.
    const DoseBounds bound = dose_bounds(run->scene, run->materials, run->g(), run->timeline);
    for (int64_t v = 0; v < r.voxels; ++v) {
      ASSERT_LE(r.dose_Gy[v], bound.dose_Gy * (1 + 1e-6)) << "voxel " << v;
      ASSERT_LE(r.rate_peak_Gy_s[v], bound.rate_Gy_s * (1 + 1e-6)) << "voxel " << v;
    }
    for (size_t c = 0; c < r.component_dose_Gy.size(); ++c)
      ASSERT_LE(r.component_dose_Gy[c], bound.dose_Gy * (1 + 1e-6)) << "component value " << c;
    auto four = test::run_engine(scene, 4);
    EXPECT_EQ(r.dose_Gy, four->results.dose_Gy);
    EXPECT_EQ(r.crossing_s, four->results.crossing_s);
    EXPECT_EQ(r.slot_first_crossing_s, four->results.slot_first_crossing_s);
  }
}

TEST(RandomScenes, ConserveEnergyAndKeepEveryInvariant) {
  for (int seed = 1; seed <= 24; ++seed) {
    test::ScratchDir dir;
    std::string text;
    const Scene scene = test::load_random_scene(seed, dir, &text);
    SCOPED_TRACE("seed " + std::to_string(seed) + "\n" + text);
    expect_every_invariant(scene);
  }
}

TEST(RandomScenes, TurnedAndRotatingKeepEveryInvariant) {
  for (int seed = 1; seed <= 12; ++seed) {
    test::ScratchDir dir;
    std::string text;
    Scene scene = test::load_random_scene(seed, dir, &text);
    test::turn_random_scene(scene, seed, seed % 3 == 0);
    if (seed % 2) {  // one frame, at the scan's end: it must be the final dose
      scene.output.frames_s.clear();
      scene.output.frame_every_s = 1e9;
    }
    SCOPED_TRACE("seed " + std::to_string(seed) + " turned\n" + text);
    expect_every_invariant(scene);
  }
}

}  // namespace
}  // namespace dosemap
