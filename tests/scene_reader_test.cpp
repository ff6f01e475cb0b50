// The scene reader: what valid scenes turn into (defaults, order, units, normalisation)
// and that several mistakes are reported together.
#include <gtest/gtest.h>

#include "host/scene/scene_reader.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

TEST(SceneReader, ReadsTheDemoSceneInSceneOrder) {
  const Scene s = read_scene(test::source_path("scenes/operando_pouch_27keV.toml").string());
  ASSERT_EQ(s.materials.size(), 9u);
  // toml++ sorts keys; the contract numbers materials in the order of the file.
  const char* order[] = {"copper", "graphite", "electrolyte", "glass_fibre", "NMC811", "aluminium", "anode", "separator", "cathode"};
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(s.materials[i].name, order[i]);
  EXPECT_EQ(s.materials[8].kind, MaterialSpec::Kind::kComposite);
  EXPECT_NEAR(s.materials[8].components[0].volume_fraction, 0.72, 1e-12);
  ASSERT_EQ(s.sample.layers.size(), 5u);
  EXPECT_EQ(s.sample.layers[3].material, "cathode");
  EXPECT_EQ(s.sample.layers[3].thickness_um, 32.0);
  EXPECT_EQ(s.beam.profile, ProfileKind::kTopHat);
  EXPECT_EQ(s.beam.size_um[0], 630.0);
  ASSERT_EQ(s.beam.spectrum.size(), 1u);
  EXPECT_EQ(s.beam.spectrum[0].energy_keV, 27.0);
  EXPECT_EQ(s.beam.spectrum[0].weight, 1.0);
  EXPECT_EQ(s.scan.repeat, 25);
  ASSERT_EQ(s.scan.steps.size(), 3u);
  EXPECT_EQ(s.scan.steps[2].exposure_s, 1050.0);
  ASSERT_EQ(s.output.thresholds.size(), 4u);
  EXPECT_EQ(s.output.thresholds[0].label, "safe");
  EXPECT_EQ(s.output.thresholds[3].label, "kinetics");
}

const char* kMinimal = R"(format = 1
[materials.cu]
formula = "Cu"
[sample]
voxel_um = [5.0, 5.0, 1.0]
lateral_um = [100.0, 50.0]
[[sample.layers]]
material = "cu"
thickness_um = 10
[beam]
energy_keV = 27
flux_ph_s = 1e10
profile = "gaussian"
fwhm_um = [20.0, 5.0]
[[scan.steps]]
kind = "raster"
from_um = [-10.0, -10.0]
to_um = [10.0, 10.0]
step_um = [5.0, 5.0]
dwell_s = 1
)";

TEST(SceneReader, AppliesTheDocumentedDefaults) {
  const Scene s = read_scene_text(kMinimal, "dir/minimal.toml");
  EXPECT_EQ(s.title, "minimal");  // the file name when no title is given
  EXPECT_EQ(s.directory, "dir");
  EXPECT_EQ(s.dose_model, DoseModel::kMuEn);
  EXPECT_EQ(s.scan.repeat, 1);
  EXPECT_EQ(s.scan.period_s, 0.0);
  EXPECT_EQ(s.scan.steps[0].order, RasterOrder::kSnake);
  EXPECT_EQ(s.scan.steps[0].move_s, 0.0);
  const auto d = default_thresholds();
  ASSERT_EQ(s.output.thresholds.size(), d.size());
  for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(s.output.thresholds[i].dose_Gy, d[i].dose_Gy);
  EXPECT_EQ(s.sample.layers[0].thickness_um, 10.0);  // integers are accepted as numbers
}

TEST(SceneReader, NormalisesSpectrumWeightsToPhotonFractions) {
  std::string text = kMinimal;
  text.replace(text.find("energy_keV = 27"), 15, "spectrum = [[26.9, 1], [27.0, 2], [27.1, 1]]");
  const Scene s = read_scene_text(text, "s.toml");
  ASSERT_EQ(s.beam.spectrum.size(), 3u);
  EXPECT_DOUBLE_EQ(s.beam.spectrum[0].weight, 0.25);
  EXPECT_DOUBLE_EQ(s.beam.spectrum[1].weight, 0.5);
  EXPECT_DOUBLE_EQ(s.beam.mean_energy_keV(), 27.0);
}

TEST(SceneReader, ThresholdsAreSortedByDose) {
  std::string text = std::string(kMinimal) + "[output]\nthresholds_Gy = { high = 2e6, low = 1e3, mid = 5e4 }\n";
  const Scene s = read_scene_text(text, "s.toml");
  ASSERT_EQ(s.output.thresholds.size(), 3u);
  EXPECT_EQ(s.output.thresholds[0].label, "low");
  EXPECT_EQ(s.output.thresholds[1].label, "mid");
  EXPECT_EQ(s.output.thresholds[2].label, "high");
}

TEST(SceneReader, ReportsEveryMistakeAtOnceWithPositions) {
  std::string text = kMinimal;
  text.replace(text.find("flux_ph_s = 1e10"), 16, "flux_ph_s = -1e10");
  text.replace(text.find("dwell_s = 1"), 11, "dwel_s = 1");
  try {
    read_scene_text(text, "s.toml");
    FAIL() << "no error";
  } catch (const UserError& e) {
    const auto& d = e.diagnostics();
    ASSERT_GE(d.size(), 2u) << e.what();
    bool flux = false, dwell = false;
    for (const auto& x : d) {
      if (x.what.find("flux_ph_s") != std::string::npos) flux = x.where.line == 12;
      if (x.what.find("dwel_s") != std::string::npos) dwell = x.where.line == 20 && x.fix.find("dwell_s") != std::string::npos;
    }
    EXPECT_TRUE(flux) << e.what();
    EXPECT_TRUE(dwell) << e.what();
    EXPECT_NE(std::string(e.what()).find("s.toml:12:"), std::string::npos) << e.what();
  }
}

TEST(SceneReader, ReadsABeamImageRelativeToTheScene) {
  test::ScratchDir dir;
  test::write_file(dir / "beam.csv", "# relative intensity\n0, 1, 0\n1, 2, 1\n0 1 0\n");
  std::string text = kMinimal;
  const std::string gaussian = "profile = \"gaussian\"\nfwhm_um = [20.0, 5.0]";
  text.replace(text.find(gaussian), gaussian.size(), "profile = \"image\"\nimage = \"beam.csv\"\npixel_um = [1.0, 2.0]");
  test::write_file(dir / "s.toml", text);
  const Scene s = read_scene((dir / "s.toml").string());
  EXPECT_EQ(s.beam.image.nx, 3);
  EXPECT_EQ(s.beam.image.ny, 3);
  EXPECT_DOUBLE_EQ((*s.beam.image.intensity)[4], 2.0 / 6.0);  // normalised to sum 1
  EXPECT_EQ(s.beam.image.pixel_um[1], 2.0);
}

TEST(SceneReader, ReadsTheStageAndTurningSteps) {
  const std::string text = std::string(kMinimal) + R"(angle_deg = 90.0
[sample.stage]
axis = "x"
center_um = [1.5, -2.5, 4.0]
tilt_deg = -15.0
[[scan.steps]]
kind = "rotate"
at_um = [3.0, -4.0]
from_deg = -10.0
to_deg = 170.0
step_deg = 0.5
dwell_s = 0.2
move_s = 0.05
[[scan.steps]]
kind = "rotate"
at_um = [0.0, 1.0]
from_deg = 180.0
to_deg = 0.0
speed_deg_s = 6.0
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 179.0
step_deg = 1.0
x_from_um = -40.0
x_to_um = 40.0
x_step_um = 2.0
dwell_s = 0.05
move_s = 0.01
y_um = [-2.0, 0.0, 2.0]
line_move_s = 0.3
order = "lines"
[[scan.steps]]
kind = "xrdct"
from_deg = 90.0
to_deg = -90.0
step_deg = 3.0
x_from_um = 30.0
x_to_um = -30.0
speed_um_s = 150.0
y_um = [5.0]
line_move_s = 0.7
order = "snake"
[[scan.steps]]
kind = "xrdct"
from_deg = 0.0
to_deg = 10.0
step_deg = 5.0
x_from_um = 0.0
x_to_um = 10.0
x_step_um = 5.0
dwell_s = 1.0
)";
  const Scene s = read_scene_text(text, "stage.toml");
  const StageSpec& st = s.sample.stage;
  EXPECT_TRUE(st.present);
  EXPECT_EQ(st.axis, 0);
  EXPECT_TRUE(st.has_center);
  EXPECT_EQ(st.center_um[0], 1.5);
  EXPECT_EQ(st.center_um[1], -2.5);
  EXPECT_EQ(st.center_um[2], 4.0);
  EXPECT_EQ(st.tilt_deg, -15.0);
  EXPECT_EQ(st.where.line, 22);

  ASSERT_EQ(s.scan.steps.size(), 6u);
  EXPECT_EQ(s.scan.steps[0].kind, StepKind::kRaster);
  EXPECT_EQ(s.scan.steps[0].angle_deg, 90.0);  // held at an angle

  const ScanStep& r = s.scan.steps[1];
  EXPECT_EQ(r.kind, StepKind::kRotate);
  EXPECT_FALSE(r.continuous);
  EXPECT_EQ(r.at_um[0], 3.0);
  EXPECT_EQ(r.at_um[1], -4.0);
  EXPECT_EQ(r.from_deg, -10.0);
  EXPECT_EQ(r.to_deg, 170.0);
  EXPECT_EQ(r.step_deg, 0.5);
  EXPECT_EQ(r.dwell_s, 0.2);
  EXPECT_EQ(r.move_s, 0.05);
  EXPECT_EQ(r.angle_deg, 0.0);
  EXPECT_EQ(r.where.line, 26);

  const ScanStep& c = s.scan.steps[2];
  EXPECT_EQ(c.kind, StepKind::kRotate);
  EXPECT_TRUE(c.continuous);
  EXPECT_EQ(c.at_um[1], 1.0);
  EXPECT_EQ(c.from_deg, 180.0);
  EXPECT_EQ(c.to_deg, 0.0);
  EXPECT_EQ(c.speed_deg_s, 6.0);

  const ScanStep& x = s.scan.steps[3];
  EXPECT_EQ(x.kind, StepKind::kXrdct);
  EXPECT_FALSE(x.continuous);
  EXPECT_EQ(x.from_deg, 0.0);
  EXPECT_EQ(x.to_deg, 179.0);
  EXPECT_EQ(x.step_deg, 1.0);
  EXPECT_EQ(x.x_from_um, -40.0);
  EXPECT_EQ(x.x_to_um, 40.0);
  EXPECT_EQ(x.x_step_um, 2.0);
  EXPECT_EQ(x.dwell_s, 0.05);
  EXPECT_EQ(x.move_s, 0.01);
  EXPECT_EQ(x.y_um, (std::vector<double>{-2.0, 0.0, 2.0}));
  EXPECT_EQ(x.line_move_s, 0.3);
  EXPECT_EQ(x.order, RasterOrder::kLines);

  const ScanStep& f = s.scan.steps[4];
  EXPECT_EQ(f.kind, StepKind::kXrdct);
  EXPECT_TRUE(f.continuous);
  EXPECT_EQ(f.from_deg, 90.0);
  EXPECT_EQ(f.to_deg, -90.0);
  EXPECT_EQ(f.step_deg, 3.0);
  EXPECT_EQ(f.x_from_um, 30.0);
  EXPECT_EQ(f.x_to_um, -30.0);
  EXPECT_EQ(f.speed_um_s, 150.0);
  EXPECT_EQ(f.y_um, (std::vector<double>{5.0}));
  EXPECT_EQ(f.line_move_s, 0.7);
  EXPECT_EQ(f.order, RasterOrder::kSnake);

  const ScanStep& d = s.scan.steps[5];  // the documented defaults
  EXPECT_EQ(d.y_um, (std::vector<double>{0.0}));
  EXPECT_EQ(d.line_move_s, 0.0);
  EXPECT_EQ(d.move_s, 0.0);
  EXPECT_EQ(d.order, RasterOrder::kSnake);
}

TEST(SceneReader, StageDefaultsToAVerticalUntiltedAxisAndIsAbsentWithoutTheTable) {
  const Scene none = read_scene_text(kMinimal, "s.toml");
  EXPECT_FALSE(none.sample.stage.present);
  EXPECT_EQ(none.scan.steps[0].angle_deg, 0.0);
  const Scene s = read_scene_text(std::string(kMinimal) + "[sample.stage]\n", "s.toml");
  EXPECT_TRUE(s.sample.stage.present);
  EXPECT_EQ(s.sample.stage.axis, 1);
  EXPECT_FALSE(s.sample.stage.has_center);
  EXPECT_EQ(s.sample.stage.tilt_deg, 0.0);
}

TEST(SceneReader, MissingFileIsAUserError) {
  EXPECT_THROW(read_scene("/nonexistent/scene.toml"), UserError);
}

}  // namespace
}  // namespace dosemap
