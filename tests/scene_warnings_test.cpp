// Warnings for scenes that are valid but doubtful (host/cli/scene_warnings.h): voxels too
// coarse for the beam or a layer, with the fraction of the peak a voxel mean keeps (checked
// against the engine on a coarse and a fine grid), and values that look like a unit slip,
// each saying what was probably meant. `check` lists them with their place, `run` prints
// them on stderr and runs all the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "host/cli/scene_setup.h"
#include "host/cli/scene_warnings.h"
#include "host/scene/scene_reader.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

// A thin NMC811 layer under a static Gaussian beam of `fwhm_um` (both axes), centred on a
// voxel centre, on cubic voxels of `voxel_um`.
std::string beam_scene(double fwhm_um, double voxel_um, const std::string& flux = "1.0e10",
                       const std::string& thickness = "") {
  const double lateral = 40 * std::max(fwhm_um, voxel_um);
  const double n = std::round(lateral / voxel_um / 2) * 2 + 1;  // odd: a voxel centred at 0
  const std::string v = std::to_string(voxel_um);
  return test::make_scene(test::kCathodeMaterials,
                          "voxel_um = [" + v + ", " + v + ", " + v + "]\nlateral_um = [" + std::to_string(n * voxel_um) +
                              ", " + std::to_string(n * voxel_um) + "]\n[[sample.layers]]\nmaterial = \"NMC811\"\n" +
                              "thickness_um = " + (thickness.empty() ? std::to_string(2 * voxel_um) : thickness) + "\n",
                          "energy_keV = 27.0\nflux_ph_s = " + flux + "\nprofile = \"gaussian\"\nfwhm_um = [" +
                              std::to_string(fwhm_um) + ", " + std::to_string(fwhm_um) + "]\n",
                          "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n");
}

std::vector<Diagnostic> warnings_of(const std::string& text, test::ScratchDir& dir) {
  test::write_file(dir / "scene.toml", text);
  return scene_warnings(set_up_scene((dir / "scene.toml").string()));
}

bool any_says(const std::vector<Diagnostic>& w, const std::string& text) {
  return std::any_of(w.begin(), w.end(), [&](const Diagnostic& d) { return (d.what + "; " + d.fix).find(text) != std::string::npos; });
}

TEST(SceneWarnings, AFiveMicronBeamOnFiveMicronVoxelsIsFlaggedAndOnOneMicronVoxelsIsNot) {
  test::ScratchDir dir;
  const auto coarse = warnings_of(beam_scene(5.0, 5.0), dir);
  ASSERT_EQ(coarse.size(), 2u);  // x and y
  for (const Diagnostic& d : coarse) {
    EXPECT_NE(d.what.find("spans 1 voxel(s) of 5 um"), std::string::npos) << d.what;
    EXPECT_NE(d.fix.find("at most 1.67 um"), std::string::npos) << d.fix;
    EXPECT_EQ(d.where.line, 22) << d.format("warning");  // the fwhm_um line
  }
  EXPECT_TRUE(warnings_of(beam_scene(5.0, 1.0), dir).empty());
}

TEST(SceneWarnings, TheVoxelMeanFractionItQuotesIsWhatTheEngineReports) {
  // Centred on a voxel: the coarse grid's peak over the fine grid's is the product of the
  // two axes' centred fractions (the fine grid itself keeps 99.6 % of the peak: divided out).
  auto coarse = test::run_engine(beam_scene(5.0, 5.0));
  auto fine = test::run_engine(beam_scene(5.0, 0.5));
  const auto peak = [](const test::EngineRun& r) {
    return *std::max_element(r.results.dose_Gy.begin(), r.results.dose_Gy.end());
  };
  const double sigma = 5.0 / 2.3548200450309493;
  const auto centred = [&](double w) { return std::erf(w / (2 * std::sqrt(2.0) * sigma)) * sigma * std::sqrt(2 * M_PI) / w; };
  const double want = std::pow(centred(5.0), 2) / std::pow(centred(0.5), 2);  // 81 % per axis: 0.656
  // The top voxel of a layer 2 voxels thick: the same depth mean only if the voxels are as
  // thick, so compare per unit fluence through equal depths: both grids' top voxel spans
  // 0-5 um and 0-0.5 um; NMC's attenuation over 5 um at 27 keV is 2 %, divided out below.
  const double mu_um = 1.0 / coarse->materials.materials[0].lines[0].mu_rho() / 4.8 * 1e4;  // 1/mu in um
  const auto mean_transmission = [&](double t) { return mu_um / t * (1 - std::exp(-t / mu_um)); };
  const double depth_mean = mean_transmission(5.0) / mean_transmission(0.5);
  EXPECT_NEAR(peak(*coarse) / peak(*fine) / depth_mean, want, 0.005 * want);
  test::ScratchDir dir;
  const auto w = warnings_of(beam_scene(5.0, 5.0), dir);
  EXPECT_NE(w[0].what.find("81 % of the beam's peak"), std::string::npos) << w[0].what;
  EXPECT_NE(w[0].what.find("52 % on a voxel edge"), std::string::npos) << w[0].what;
}

TEST(SceneWarnings, ALayerUnderTwoVoxelsIsFlagged) {
  test::ScratchDir dir;
  const auto w = warnings_of(beam_scene(10.0, 2.0, "1.0e10", "2.0"), dir);
  EXPECT_TRUE(any_says(w, "is 1 voxel(s) of 2 um thick")) << (w.empty() ? "" : w[0].what);
  EXPECT_TRUE(any_says(w, "voxel_um z of at most 1 um"));
  EXPECT_FALSE(any_says(warnings_of(beam_scene(10.0, 2.0, "1.0e10", "4.0"), dir), "thick"));
}

TEST(SceneWarnings, UnitSlipsSayWhatWasProbablyMeant) {
  test::ScratchDir dir;
  // A FWHM in mm typed in um (and no resolution warning on top of it).
  auto w = warnings_of(beam_scene(0.005, 0.5), dir);
  EXPECT_TRUE(any_says(w, "is below any X-ray focus")) << (w.empty() ? "" : w[0].what);
  EXPECT_TRUE(any_says(w, "if you meant mm, write fwhm_um = [5, 5]"));
  EXPECT_EQ(w.size(), 1u);
  // An exponent slip in the flux.
  w = warnings_of(beam_scene(10.0, 2.0, "5.0e21"), dir);
  EXPECT_TRUE(any_says(w, "flux_ph_s = 5e+21 is far above what beamlines deliver"));
  EXPECT_FALSE(any_says(warnings_of(beam_scene(10.0, 2.0, "1.0e14"), dir), "flux_ph_s"));
  // A raster step in mm.
  std::string text = beam_scene(10.0, 2.0);
  const std::string point = "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n";
  text.replace(text.find(point), point.size(),
               "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-0.02, -0.02]\nto_um = [0.02, 0.02]\n"
               "step_um = [0.01, 0.01]\ndwell_s = 0.1\n");
  EXPECT_TRUE(any_says(warnings_of(text, dir), "if you meant mm, write step_um = [10, 10]"));
}

TEST(SceneWarnings, AThicknessInMillimetresGetsTheMillimetreReadingInItsError) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", beam_scene(10.0, 5.0, "1.0e10", "0.025"));
  try {
    set_up_scene((dir / "scene.toml").string());
    FAIL() << "a layer of 0.025 um on 5 um voxels must be refused";
  } catch (const UserError& e) {
    ASSERT_FALSE(e.diagnostics().empty());
    EXPECT_NE(e.diagnostics()[0].fix.find("if you meant 0.025 mm, write thickness_um = 25"), std::string::npos)
        << e.diagnostics()[0].format();
  }
}

TEST(SceneWarnings, CheckListsThemWithTheirPlaceAndRunPrintsThemAndRuns) {
  test::ScratchDir dir;
  test::write_file(dir / "scene.toml", beam_scene(5.0, 5.0));
  const auto c = test::run_dosemap({"check", (dir / "scene.toml").string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("scene.toml:22:11: warning: the beam's FWHM along x"), std::string::npos) << c.out;
  const auto r = test::run_dosemap({"run", (dir / "scene.toml").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scene.toml:22:11: warning: the beam's FWHM along y"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "summary.json"));
}

}  // namespace
}  // namespace dosemap
