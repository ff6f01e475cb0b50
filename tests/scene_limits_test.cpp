// The limits of host/scene/scene_limits.h, for the inputs too large for the invalid-scene
// corpus (generated here): each is refused with file:line:col and exit code 2 by `check`
// and `run` alike, quickly and without a crash, and a scene exactly at a limit runs. The
// counts behind the limits are checked against hand calculations.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "host/cli/scene_setup.h"
#include "host/common/saturating.h"
#include "host/scene/scene_limits.h"
#include "host/scene/scene_reader.h"
#include "host/scene/toml_reader.h"
#include "host/transport/exposure_plan.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

using test::run_dosemap;
using test::ScratchDir;

const std::string kSample = R"([sample]
voxel_um = [5.0, 5.0, 1.0]
lateral_um = [50.0, 50.0]
[[sample.layers]]
material = "copper"
thickness_um = 10.0
)";
const std::string kBeam = R"([beam]
energy_keV = 27.0
flux_ph_s = 1e10
profile = "gaussian"
fwhm_um = [10.0, 10.0]
)";
const std::string kPoint = R"([[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1.0
)";
const std::string kCopper = "[materials.copper]\nformula = \"Cu\"\n";

std::string scene_with(const std::string& materials, const std::string& sample = kSample,
                       const std::string& beam = kBeam, const std::string& scan = kPoint,
                       const std::string& extra = "") {
  return "format = 1\n" + materials + sample + beam + scan + extra;
}

// `check` and `run` on the text: both exit 2 with the same first line, which names the
// scene at `line` and contains `text`; nothing is written.
void expect_refused(const std::string& scene, int line, const std::string& text) {
  ScratchDir dir;
  const auto path = dir / "scene.toml";
  test::write_file(path, scene);
  const auto check = run_dosemap({"check", path.string()});
  EXPECT_EQ(check.exit_code, 2) << check.err.substr(0, 2000);
  const std::string first = check.err.substr(0, check.err.find('\n'));
  EXPECT_EQ(first.rfind(path.string() + ":" + std::to_string(line) + ":", 0), 0u) << first;
  EXPECT_NE(first.find(text), std::string::npos) << first;
  const auto run = run_dosemap({"run", path.string(), "-o", (dir / "out").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err.substr(0, run.err.find('\n')), first);
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

// ---- deep nesting: refused before the TOML parser recurses ----

TEST(SceneLimits, KeysAndValuesNested100000DeepAreRefusedNotACrash) {
  const std::string dotted = "x" + std::string() + [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += ".a";
    return s;
  }() + " = 1\n";
  expect_refused(scene_with(kCopper) + dotted, 19, "a key here has more than 32 dotted parts");
  std::string header = "[";
  for (int i = 0; i < 100000; ++i) header += "a.";
  expect_refused(scene_with(kCopper) + header + "b]\n", 19, "a key here has more than 32 dotted parts");
  const std::string arrays = "x = " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  expect_refused(scene_with(kCopper) + arrays, 19, "arrays or inline tables nest more than 32 deep");
  const std::string inline_tables = [] {
    std::string s = "x = ";
    for (int i = 0; i < 100000; ++i) s += "{a = ";
    s += "1";
    for (int i = 0; i < 100000; ++i) s += "}";
    return s + "\n";
  }();
  expect_refused(scene_with(kCopper) + inline_tables, 19, "arrays or inline tables nest more than 32 deep");
}

TEST(SceneLimits, NestingScanIgnoresDotsAndBracketsInStringsCommentsAndNumbers) {
  // Valid TOML with many dots and brackets where they are not keys or nesting.
  const std::string text = "title = \"" + std::string(200, '.') + std::string(100, '[') + "\"\n" +
                           "# " + std::string(200, '.') + "\n" + "a = '''" + std::string(100, '.') + "\n" +
                           std::string(50, '{') + "'''\n" + "b = \"\"\"x\\\"" + std::string(60, '.') + "\"\"\"\n" +
                           "c = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5,\n"
                           "     17.5, 18.5, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5, 29.5, 30.5,\n"
                           "     31.5, 32.5, 33.5]\n"
                           "d = 1979-05-27T07:32:00.999\n"
                           "[x.y.z]\n[[p.q]]\n";
  Diagnostics diag;
  EXPECT_TRUE(check_toml_nesting(text, "t.toml", diag));
  EXPECT_TRUE(diag.empty());
  // Exactly at the limits: 32 key parts and 32 levels of arrays.
  std::string key = "k";
  for (int i = 1; i < kMaxKeyDepth; ++i) key += ".k";
  EXPECT_TRUE(check_toml_nesting(key + " = 1\n", "t.toml", diag));
  EXPECT_TRUE(check_toml_nesting("v = " + std::string(kMaxValueNesting, '[') + std::string(kMaxValueNesting, ']'),
                                 "t.toml", diag));
  EXPECT_FALSE(check_toml_nesting(key + ".k = 1\n", "t.toml", diag));
}

// ---- sizes: grids and counts beyond what indices hold ----

TEST(SceneLimits, GridOfMoreVoxelsThanIndicesHoldIsRefusedAtVoxelSize) {
  // 1e4 x 1e4 x 1.6e7 = 1.6e15 voxels (each axis within its limit).
  const std::string sample = R"([sample]
voxel_um = [0.01, 0.01, 0.001]
lateral_um = [100.0, 100.0]
[[sample.layers]]
material = "copper"
thickness_um = 16000.0
)";
  expect_refused(scene_with(kCopper, sample), 5, "= 1.6e+15 voxels; at most 1 099 511 627 776 are supported");
}

TEST(SceneLimits, ExposureCountsSaturateInsteadOfWrapping) {
  ScanStep raster;
  raster.kind = StepKind::kRaster;
  raster.from_um = {0, 0};
  raster.to_um = {9e6, 9e6};
  raster.step_um = {1, 1};
  EXPECT_EQ(count_step_exposures(raster), 81000018000001);  // (9e6 + 1)^2
  ScanSpec scan;
  scan.steps = {raster};
  scan.repeat = 1000000;
  EXPECT_EQ(count_exposures(scan), kSaturated);  // 8.1e19 > INT64_MAX: it wrapped before
  scan.repeat = 1000;
  EXPECT_EQ(count_exposures(scan), 81000018000001000);
  EXPECT_EQ(saturating_add(kSaturated, 1), kSaturated);
  EXPECT_EQ(saturating_count(1e300), kSaturated);
  EXPECT_EQ(saturating_count(std::nan("")), kSaturated);
}

TEST(SceneLimits, FlySubStepsAreCountedFromTheSceneAsTheyWillBeCut) {
  // A Gaussian of FWHM F is cut every 0.2 sigma = 0.2 F / 2.3548 along the path.
  const std::string scan = R"([scan]
repeat = 3
[[scan.steps]]
kind = "fly"
path_um = [[-20.0, 0.0], [20.0, 0.0], [20.0, 10.0]]
speed_um_s = 10.0
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 1.0
)";
  auto run = test::run_engine(scene_with(kCopper, kSample, kBeam, scan));
  const GridGeometry& g = run->g();
  const BeamProfile beam = make_beam_profile(run->scene.beam);
  const double h = 0.2 * 10.0 / 2.3548200450309493;
  const int64_t per_repetition = static_cast<int64_t>(std::ceil(40.0 / h - 1e-9) + std::ceil(10.0 / h - 1e-9)) + 1;
  EXPECT_EQ(count_sub_exposures(run->scene.scan, beam, g, 360.0), 3 * per_repetition);
  // What the transport plans from the expanded scan is the same number.
  EXPECT_EQ(static_cast<int64_t>(plan_sub_exposures(run->timeline, beam, g, 360.0).size()), 3 * per_repetition);
  EXPECT_EQ(run->results.sub_exposures, 3 * per_repetition);
}

TEST(SceneLimits, WorkLimitsRefuseBeforeExpanding) {
  // Smaller limits (as the fuzzer uses) take the same refusal paths.
  Scene scene = read_scene_text(scene_with(kCopper, kSample, kBeam, R"([scan]
repeat = 1000
[[scan.steps]]
kind = "fly"
path_um = [[-20.0, 0.0], [20.0, 0.0]]
speed_um_s = 10.0
)"),
                                "fly.toml");
  WorkLimits limits;
  limits.max_sub_exposures = 1000;
  try {
    set_up_scene(scene, limits);
    ADD_FAILURE() << "expected the sub-step limit";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("more than dosemap handles (1 000)"), std::string::npos) << e.what();
    EXPECT_EQ(e.diagnostics().front().where.line, 17);  // the fly step
  }
  limits = WorkLimits{};
  limits.max_exposures = 999;
  EXPECT_THROW(set_up_scene(scene, limits), UserError);
  limits.max_exposures = 1000;
  EXPECT_EQ(set_up_scene(scene, limits).timeline.exposures.size(), 1000u);
}

// ---- unbounded work: generated scenes whose checks were quadratic ----

TEST(SceneLimits, ThousandsOfLayersOffTheVoxelGridAreReportedInLinearTime) {
  // 100 000 layers, none a whole number of z voxels: the fitting voxel size was searched
  // over all layers once per layer (hours); now once. A few errors, then the count.
  std::string layers;
  for (int i = 0; i < 100000; ++i) layers += "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 1.5\n";
  const std::string sample = "[sample]\nvoxel_um = [5.0, 5.0, 1.0]\nlateral_um = [50.0, 50.0]\n" + layers;
  try {
    read_scene_text(scene_with(kCopper, sample), "layers.toml");
    ADD_FAILURE() << "expected errors";
  } catch (const UserError& e) {
    const auto& d = e.diagnostics();
    ASSERT_EQ(d.size(), Diagnostics::kKeptPerKind + 1);
    EXPECT_NE(d.front().fix.find("voxel_um = [5, 5, 0.5]"), std::string::npos) << d.front().fix;
    EXPECT_NE(d.back().what.find("... and 99 995 more like this"), std::string::npos) << d.back().what;
  }
}

TEST(SceneLimits, CheckOfAStackOfManyLayersAndLinesTakesLinearTime) {
  // check's transmission table summed every layer above each layer for every spectrum
  // line: 200 000 layers x 64 lines took about half an hour (32 000 took 44 s); now a pass.
  std::string layers;
  for (int i = 0; i < 200000; ++i) layers += "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 0.001\n";
  const std::string sample = "[sample]\nvoxel_um = [10.0, 10.0, 0.001]\nlateral_um = [50.0, 50.0]\n" + layers;
  std::string spectrum;
  for (int i = 0; i < 64; ++i) spectrum += std::string(i ? ", " : "") + "[" + std::to_string(20 + i) + ".0, 1.0]";
  std::string beam = kBeam;
  beam.replace(beam.find("energy_keV = 27.0"), 17, "spectrum = [" + spectrum + "]");
  ScratchDir dir;
  test::write_file(dir / "stack.toml", scene_with(kCopper, sample, beam));
  const auto r = run_dosemap({"check", (dir / "stack.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 1000);
  // The stack transmits what one 200 um layer of the same copper does.
  const std::string one = "[sample]\nvoxel_um = [10.0, 10.0, 0.001]\nlateral_um = [50.0, 50.0]\n"
                          "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 200.0\n";
  test::write_file(dir / "one.toml", scene_with(kCopper, one, beam));
  const auto single = run_dosemap({"check", (dir / "one.toml").string()});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  auto whole_stack = [](const std::string& out) { return out.substr(out.find("whole stack:"), 40); };
  EXPECT_EQ(whole_stack(r.out), whole_stack(single.out));
}

TEST(SceneLimits, ManyMaterialsAndLayersReferToEachOtherInLinearTime) {
  // 65 535 materials (the limit) and 30 000 layers naming them, several unknown: look-ups
  // were linear scans (and every unknown name was compared with every material).
  std::string materials;
  for (int i = 0; i < 65535; ++i) materials += "[materials.m" + std::to_string(i) + "]\nformula = \"Cu\"\n";
  std::string layers;
  for (int i = 0; i < 30000; ++i)
    layers += "[[sample.layers]]\nmaterial = \"" + std::string(i % 3 ? "m" : "x") + std::to_string(i) + "\"\nthickness_um = 1.0\n";
  const std::string sample = "[sample]\nvoxel_um = [5.0, 5.0, 1.0]\nlateral_um = [50.0, 50.0]\n" + layers;
  try {
    read_scene_text(scene_with(materials, sample), "many.toml");
    ADD_FAILURE() << "expected errors for the unknown materials";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("uses material 'x0', which is not defined"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("more like this"), std::string::npos);
  }
  // One more material than ids hold: refused at [materials] (check accepted, run crashed).
  expect_refused(scene_with(materials + "[materials.extra]\nformula = \"Cu\"\n"), 2,
                 "[materials] defines 65 536 materials; at most 65 535 are supported");
}

// ---- check == run at the limits: exactly at each one, a run works ----

TEST(SceneLimits, ScenesExactlyAtTheEngineLimitsRun) {
  // 16 thresholds, 64 spectrum lines, 32 component materials in 32 + 32 = 64 slots.
  std::string materials;
  std::string components;
  for (int i = 0; i < 32; ++i) {
    materials += "[materials.c" + std::to_string(i) + "]\nformula = \"" + (i % 2 ? "Cu" : "Al") + "\"\n";
    components += std::string(i ? ", " : "") + "{ material = \"c" + std::to_string(i) + "\", volume_fraction = 0.03125 }";
  }
  materials += "[materials.copper]\ncomponents = [" + components + "]\n";
  std::string spectrum;
  for (int i = 0; i < 64; ++i) spectrum += std::string(i ? ", " : "") + "[" + std::to_string(20 + i) + ".0, 1.0]";
  std::string beam = kBeam;
  beam.replace(beam.find("energy_keV = 27.0"), 17, "spectrum = [" + spectrum + "]");
  std::string thresholds = "[output]\nthresholds_Gy = { ";
  for (int i = 0; i < 16; ++i) thresholds += std::string(i ? ", " : "") + "t" + std::to_string(i) + " = " + std::to_string(i + 1) + "e3";
  thresholds += " }\n";
  ScratchDir dir;
  test::write_file(dir / "limits.toml", scene_with(materials, kSample, beam, kPoint, thresholds));
  const auto check = run_dosemap({"check", (dir / "limits.toml").string()});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const auto run = run_dosemap({"run", (dir / "limits.toml").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "out/summary.json"));
}

// ---- inputs that are not files ----

TEST(SceneLimits, ADeviceOrFifoAsSceneIsRefusedWithoutReadingForEver) {
  for (const char* path : {"/dev/zero", "/dev/urandom"}) {
    const auto r = run_dosemap({"check", path});
    EXPECT_EQ(r.exit_code, 2) << path;
    EXPECT_NE(r.err.find("is not a regular file"), std::string::npos) << r.err;
  }
  ScratchDir dir;
  const std::string fifo = (dir / "scene.toml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const auto r = run_dosemap({"check", fifo});  // opening a FIFO for reading used to block
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a regular file"), std::string::npos) << r.err;
}

// ---- values: intermediates stay finite ----

TEST(SceneLimits, SpectrumWeightsNearTheLargestDoubleAreNormalisedExactly) {
  std::string beam = kBeam;
  beam.replace(beam.find("energy_keV = 27.0"), 17, "spectrum = [[27.0, 1.7e308], [30.0, 1.7e308]]");
  const Scene s = read_scene_text(scene_with(kCopper, kSample, beam), "w.toml");
  ASSERT_EQ(s.beam.spectrum.size(), 2u);
  EXPECT_EQ(s.beam.spectrum[0].weight, 0.5);  // the sum overflowed to inf: weights 0, dose 0
  EXPECT_EQ(s.beam.spectrum[1].weight, 0.5);
}

}  // namespace
}  // namespace dosemap
