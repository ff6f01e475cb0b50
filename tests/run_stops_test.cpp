// A run stops when its Progress is asked to (the Python package's Ctrl-C and progress
// callback, host/python/watched_work.h): compute_dose throws RunStopped at its first stop
// point, on a straight scan (the march's stages) and a turned one (the poses loop), and
// leaks nothing (the sanitizer suite runs this too). Without a request the same Progress
// changes nothing: the grids equal those of a run without one.
#include <gtest/gtest.h>

#include <cstring>

#include "host/common/progress.h"
#include "tests/engine_harness.h"

namespace dosemap {
namespace {

const std::string kStraight = test::make_scene(
    "[materials.cu]\nformula = \"Cu\"\n", "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [40.0, 30.0]\n"
    "[[sample.layers]]\nmaterial = \"cu\"\nthickness_um = 10.0\n",
    "energy_keV = 20.0\nflux_ph_s = 1.0e10\nprofile = \"gaussian\"\nfwhm_um = [6.0, 6.0]\n",
    "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-10.0, -5.0]\nto_um = [10.0, 5.0]\nstep_um = [5.0, 5.0]\n"
    "dwell_s = 1.0\n");

const std::string kTurned = test::make_scene(
    "[materials.cu]\nformula = \"Cu\"\n", "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [40.0, 4.0]\n"
    "[[sample.layers]]\nmaterial = \"cu\"\nthickness_um = 40.0\n[sample.stage]\naxis = \"y\"\n",
    "energy_keV = 20.0\nflux_ph_s = 1.0e10\nprofile = \"tophat\"\nsize_um = [60.0, 10.0]\n",
    "[[scan.steps]]\nkind = \"rotate\"\nat_um = [0.0, 0.0]\nfrom_deg = 0.0\nto_deg = 90.0\nstep_deg = 10.0\n"
    "dwell_s = 1.0\n");

DoseResults run_with(const test::EngineRun& r, Progress* progress) {
  EngineOptions o;
  o.backend = Backend::kCpu;
  o.threads = 2;
  o.progress = progress;
  return compute_dose(r.params, r.timeline, o);
}

TEST(RunStops, AStopRequestedEndsTheRunWithRunStopped) {
  for (const std::string* text : {&kStraight, &kTurned}) {
    const auto reference = test::run_engine(*text);
    Progress stopped(false);
    stopped.request_stop();
    EXPECT_THROW(run_with(*reference, &stopped), RunStopped);

    Progress untouched(false);
    const DoseResults r = run_with(*reference, &untouched);
    EXPECT_FALSE(untouched.state().stage.empty());
    ASSERT_EQ(r.voxels, reference->results.voxels);
    EXPECT_EQ(0, std::memcmp(r.dose_Gy.data(), reference->results.dose_Gy.data(), r.voxels * sizeof(float)));
  }
}

TEST(RunStops, ProgressStateIsTheStageAndItsCounts) {
  Progress p(false);
  EXPECT_TRUE(p.state().stage.empty());
  p.start("march", 10);
  p.advance(3);
  EXPECT_EQ(p.state().stage, "march");
  EXPECT_EQ(p.state().done, 3);
  EXPECT_EQ(p.state().total, 10);
  p.finish();
  EXPECT_EQ(p.state().done, 10);
  p.request_stop();
  EXPECT_THROW(p.start("statistics", 1), RunStopped);
  EXPECT_THROW(p.finish(), RunStopped);
  EXPECT_THROW(stop_point(&p), RunStopped);
  EXPECT_NO_THROW(stop_point(nullptr));
}

}  // namespace
}  // namespace dosemap
