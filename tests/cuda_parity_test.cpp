// CPU/GPU parity: random scenes (layers, composites, beams, spectra, rasters, fly segments,
// waits, repetitions), also turned and rotating, run on both backends give the same grids:
// doses and rates within 1e-5 relative, crossing times within one float ulp of the scan's
// time scale, the same energy balance. Skipped, with the reason, where no GPU is usable (CI,
// the build machine).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "host/transport/exposure_plan.h"
#include "tests/engine_harness.h"
#include "tests/random_scene.h"
#ifdef DOSEMAP_HAVE_CUDA
#include "host/transport/cuda_backend.h"
#endif
#include "tests/test_support.h"

namespace dosemap {
namespace {

void expect_close(const BulkVector<float>& cpu, const BulkVector<float>& gpu, double rel, const std::string& what) {
  ASSERT_EQ(cpu.size(), gpu.size()) << what;
  int bad = 0;
  for (size_t v = 0; v < cpu.size(); ++v)
    if (std::fabs(cpu[v] - gpu[v]) > rel * std::fabs(cpu[v]) + 1e-30 && bad++ < 5)
      ADD_FAILURE() << what << " voxel " << v << ": cpu " << cpu[v] << " gpu " << gpu[v];
}

// Runs the scene on both backends and compares every grid and the energy balance.
void expect_same_on_cpu_and_gpu(const Scene& scene) {
  auto cpu = test::run_engine(scene, 4, Backend::kCpu);
  auto gpu = test::run_engine(scene, 4, Backend::kCuda);
  ASSERT_EQ(gpu->results.backend, "cuda");
  const DoseResults& a = cpu->results;
  const DoseResults& b = gpu->results;
  EXPECT_EQ(a.fluence_events, b.fluence_events);
  EXPECT_EQ(a.poses, b.poses);
  expect_close(a.dose_Gy, b.dose_Gy, 1e-5, "dose");
  expect_close(a.rate_peak_Gy_s, b.rate_peak_Gy_s, 1e-5, "dose_rate_peak");
  expect_close(a.rate_mean_Gy_s, b.rate_mean_Gy_s, 1e-5, "dose_rate_mean");
  expect_close(a.component_dose_Gy, b.component_dose_Gy, 1e-5, "component doses");
  expect_close(a.frame_dose_Gy, b.frame_dose_Gy, 1e-5, "frame doses");
  // Crossing times: within one float ulp of the scan's time scale, unless the dose sits
  // on the threshold to within the 1e-5 tolerance (then either answer is right).
  const double ulp = std::ldexp(cpu->timeline.duration_s, -23);
  const ThresholdScale& scale = a.tables.thresholds;
  for (int t = 0; t < scale.count(); ++t) {
    int bad = 0;
    for (int64_t v = 0; v < a.voxels; ++v) {
      const float ta = a.crossing(t)[v], tb = b.crossing(t)[v];
      if ((ta < 0) != (tb < 0)) {
        const MaterialId m = cpu->grid->material[v];
        const double threshold = m == kVoidId ? 0.0 : scale.at(m, t);  // void: never crossed on either
        if (!(std::fabs(a.dose_Gy[v] - threshold) <= 1e-5 * threshold) && bad++ < 5)
          ADD_FAILURE() << "threshold " << t << " voxel " << v << " crossed on one backend only";
        continue;
      }
      if (std::fabs(ta - tb) > ulp && bad++ < 5)
        ADD_FAILURE() << "threshold " << t << " voxel " << v << ": cpu " << ta << " s, gpu " << tb << " s";
    }
  }
  EXPECT_NEAR(a.energy.deposited_J, b.energy.deposited_J, 1e-9 * a.energy.deposited_J + 1e-300);
  EXPECT_NEAR(a.energy.incident_J, b.energy.incident_J, 1e-9 * a.energy.incident_J + 1e-300);
  EXPECT_NEAR(a.energy.transmitted_J, b.energy.transmitted_J, 1e-9 * a.energy.incident_J + 1e-300);
}

TEST(CudaParity, RandomScenesGiveTheSameGridsOnCpuAndGpu) {
  std::string why;
  if (!cuda_backend_usable(why)) GTEST_SKIP() << "no GPU usable here (" << why << "): the CUDA backend is compiled but not run";
  for (int seed = 1; seed <= 24; ++seed) {
    test::ScratchDir dir;
    std::string text;
    const Scene scene = test::load_random_scene(seed, dir, &text);
    SCOPED_TRACE("seed " + std::to_string(seed) + "\n" + text);
    expect_same_on_cpu_and_gpu(scene);
  }
}

TEST(CudaParity, TurnedRandomScenesGiveTheSameGridsOnCpuAndGpu) {
  std::string why;
  if (!cuda_backend_usable(why)) GTEST_SKIP() << "no GPU usable here (" << why << "): the CUDA backend is compiled but not run";
  // The random scenes turned about x or y, each step at its own angle, then the same scene
  // turning continuously: the GPU's resident-state path for many poses.
  for (int seed = 1; seed <= 12; ++seed) {
    test::ScratchDir dir;
    std::string text;
    Scene scene = test::load_random_scene(seed, dir, &text);
    test::turn_random_scene(scene, seed, false);
    SCOPED_TRACE("seed " + std::to_string(seed) + " turned about " + (seed % 2 ? "y" : "x") + "\n" + text);
    expect_same_on_cpu_and_gpu(scene);
    test::turn_random_scene(scene, seed, true);
    expect_same_on_cpu_and_gpu(scene);
  }
}

#ifdef DOSEMAP_HAVE_CUDA
TEST(CudaParity, SlabsGiveTheSameGridsAsOneSlab) {
  std::string why;
  if (!cuda_backend_usable(why)) GTEST_SKIP() << "no GPU usable here (" << why << "): the CUDA backend is compiled but not run";
  // Force many slabs by giving the backend a sliver of the device memory.
  test::ScratchDir dir;
  auto run = test::run_engine(test::load_random_scene(99, dir), 4, Backend::kCpu);
  const test::EngineRun& r = *run;
  const TransportTables& t = r.results.tables;
  const BeamProfile beam = make_beam_profile(r.scene.beam);
  const auto subs = plan_sub_exposures(r.timeline, beam, r.g(), 360.0);  // the stage never turns
  DoseResults one = r.results, many = r.results;
  for (DoseResults* d : {&one, &many}) {
    std::vector<double> energy(r.g().columns() * 4), fluence(r.g().columns());
    DoseState out{d->dose_Gy.data(), d->rate_peak_Gy_s.data(), d->rate_mean_Gy_s.data(), d->crossing_s.data(),
                  d->component_dose_Gy.data(), d->slot_first_crossing_s.data(), d->frame_dose_Gy.data(),
                  energy.data(), fluence.data()};
    // A budget of a fifth of the grid's device bytes: at least 5 slabs, each at least a row.
    const double budget = d == &one ? 0.0 : r.g().voxels() * 60.0 / 5;
    const CudaRunStats stats = run_transport_cuda(t.params(), r.grid->material, subs, beam, r.g(), out, nullptr, 0.8, budget);
    if (d == &many) {
      EXPECT_GT(stats.slabs, 1);
    }
  }
  EXPECT_EQ(one.dose_Gy, many.dose_Gy);
  EXPECT_EQ(one.crossing_s, many.crossing_s);
  EXPECT_EQ(one.slot_first_crossing_s, many.slot_first_crossing_s);
  EXPECT_EQ(one.frame_dose_Gy, many.frame_dose_Gy);
}
#endif

}  // namespace
}  // namespace dosemap
