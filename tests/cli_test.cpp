// The command line as a user meets it: help, version, exit codes, readable output.
#include <gtest/gtest.h>

#include <regex>

#include "tests/test_support.h"

namespace dosemap {
namespace {

using test::run_dosemap;
using test::source_path;

TEST(Cli, VersionAndHelpOnEveryCommand) {
  auto v = run_dosemap({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("dosemap " DOSEMAP_VERSION), std::string::npos);
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"check", "--help"}, {"materials", "--help"}}) {
    auto r = run_dosemap(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
}

TEST(Cli, BadArgumentsExitWithTwo) {
  EXPECT_EQ(run_dosemap({}).exit_code, 2);
  EXPECT_EQ(run_dosemap({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_dosemap({"check"}).exit_code, 2);
  EXPECT_EQ(run_dosemap({"check", "a.toml", "--bogus"}).exit_code, 2);
  auto r = run_dosemap({"materials", "H2O", "--energy-keV", "0.1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--energy-keV: 0.1 is outside 1 to 500 keV"), std::string::npos) << r.err;
  auto density = run_dosemap({"materials", "H2O", "--energy-keV", "27", "--density", "-1"});
  EXPECT_EQ(density.exit_code, 2);
  EXPECT_NE(density.err.find("--density: -1 is outside 1e-06 to 30 g/cm3"), std::string::npos) << density.err;
  auto nan = run_dosemap({"materials", "H2O", "--energy-keV", "nan"});
  EXPECT_EQ(nan.exit_code, 2) << nan.out;
}

TEST(Cli, CheckOnAMissingFileSaysSoAndExitsWithTwo) {
  auto r = run_dosemap({"check", "no/such/scene.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no/such/scene.toml: error: cannot read scene file"), std::string::npos) << r.err;
}

TEST(Cli, CheckPrintsTheDemoSceneTable) {
  auto r = run_dosemap({"check", source_path("scenes/operando_pouch_27keV.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* want : {"is valid", "300 x 30 x 133 = 1 197 000 voxels", "a run needs about", "28762.5 s (7 h 59 min)",
                           "NMC811", "cathode", "72 vol%", "whole stack: 0.79"})
    EXPECT_NE(r.out.find(want), std::string::npos) << "missing '" << want << "' in\n" << r.out;
  // The fields' column widens with the longest key: match the values, not the padding.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\n  exposures +75\\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\n    copper +none\\n"))) << r.out;  // a metal foil: no damage scale
}

TEST(Cli, CheckTransmissionCountsTheShapesPerColumn) {
  // A 20 um copper box in vacuum: the columns it covers transmit what a 20 um copper layer
  // does, the others everything.
  const std::string head = "format = 1\n[materials.copper]\nformula = \"Cu\"\n[beam]\nenergy_keV = 27.0\n"
                           "flux_ph_s = 1e10\nprofile = \"gaussian\"\nfwhm_um = [10.0, 10.0]\n"
                           "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n"
                           "[sample]\nvoxel_um = [5.0, 5.0, 5.0]\nlateral_um = [100.0, 100.0]\n";
  test::ScratchDir dir;
  test::write_file(dir / "layer.toml", head + "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 20.0\n");
  test::write_file(dir / "box.toml", head + "[[sample.layers]]\nmaterial = \"void\"\nthickness_um = 40.0\n"
                                            "[[sample.shapes]]\nkind = \"box\"\nmaterial = \"copper\"\n"
                                            "center_um = [0.0, 0.0, 20.0]\nsize_um = [40.0, 40.0, 20.0]\n");
  auto layer = run_dosemap({"check", (dir / "layer.toml").string()});
  auto box = run_dosemap({"check", (dir / "box.toml").string()});
  ASSERT_EQ(layer.exit_code, 0) << layer.err;
  ASSERT_EQ(box.exit_code, 0) << box.err;
  const size_t at = layer.out.find("whole stack: ");
  ASSERT_NE(at, std::string::npos) << layer.out;
  const std::string t = layer.out.substr(at + 13, 6);  // e.g. 0.4406
  EXPECT_NE(box.out.find("with the shapes, per column: whole stack " + t), std::string::npos) << t << "\n" << box.out;
  EXPECT_NE(box.out.find("to " + t + " (column"), std::string::npos) << box.out;
  EXPECT_NE(box.out.find("over the 64 columns the shapes reach; elsewhere 1.0000"), std::string::npos) << box.out;
}

TEST(Cli, CheckOnQuickstartSucceeds) {
  auto r = run_dosemap({"check", source_path("scenes/quickstart.toml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("copper"), std::string::npos);
}

TEST(Cli, MaterialsPrintsCoefficientsForFormulasAndNistNames) {
  auto r = run_dosemap({"materials", "Water, Liquid", "C3H4O3", "--energy-keV", "30", "--density", "1.32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NIST \"Water, Liquid\""), std::string::npos);
  EXPECT_NE(r.out.find("0.1558"), std::string::npos) << r.out;  // mu_en/rho of water at 30 keV (NIST 0.1557)
  EXPECT_NE(r.out.find("formula C3H4O3"), std::string::npos);
  auto bad = run_dosemap({"materials", "Xq2O", "--energy-keV", "30"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("neither a NIST compound"), std::string::npos) << bad.err;
  auto nist = run_dosemap({"materials", "--list-nist"});
  EXPECT_EQ(nist.exit_code, 0);
  EXPECT_NE(nist.out.find("Polyethylene"), std::string::npos);
}

}  // namespace
}  // namespace dosemap
