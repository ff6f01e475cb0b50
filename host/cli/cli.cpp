#include "host/cli/cli.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "host/cli/commands.h"
#include "host/common/errors.h"
#include "host/materials/materials.h"

namespace dosemap {

namespace {

// A bounded number, with the bounds and unit in the message (CLI11's own Range prints
// six decimals, and PositiveNumber an upper bound of 1.8e308).
CLI::Validator between(double lo, double hi, const std::string& unit) {
  auto text = [](double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  };
  const std::string range = text(lo) + " to " + text(hi) + " " + unit;
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        double x = 0;
        if (!CLI::detail::lexical_cast(value, x)) return "'" + value + "' is not a number";
        if (!(x >= lo && x <= hi)) return value + " is outside " + range;
        return "";
      },
      range);
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"dosemap: voxel-by-voxel X-ray dose, dose rate and damage-threshold maps for synchrotron samples"};
  app.set_version_flag("--version", std::string("dosemap ") + DOSEMAP_VERSION);
  app.require_subcommand(1);
  app.footer("Scene format: docs/scene-format.md. Physics: docs/physics.md.");

  CheckOptions check;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Validate a scene; print its grid, memory need, scan timing, material coefficients and transmissions");
  check_cmd->add_option("SCENE", check.scene, "scene file (TOML, format 1)")->required();

  MaterialsOptions mats;
  CLI::App* mat_cmd = app.add_subcommand(
      "materials", "Print attenuation and dose coefficients of formulas or NIST compounds at given energies");
  mat_cmd->add_option("SPEC", mats.specs, "chemical formula (\"C3H4O3\") or NIST compound name (\"Water, Liquid\")");
  mat_cmd->add_option("--energy-keV,-e", mats.energies_keV, "photon energies in keV (comma separated or repeated)")
      ->delimiter(',')
      ->check(between(kMaterialEnergyMin_keV, kMaterialEnergyMax_keV, "keV"));
  mat_cmd->add_option("--density,-d", mats.density_g_cm3, "density in g/cm3 (needed for attenuation lengths of formulas)")
      ->check(between(kMaterialDensityMin_g_cm3, kMaterialDensityMax_g_cm3, "g/cm3"));
  mat_cmd->add_flag("--list-nist", mats.list_nist, "list the NIST compound names xraylib knows");

  RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Compute dose, dose rate and threshold crossings per voxel; write dose.vdb and summary.json; print a report");
  run_cmd->add_option("SCENE", run.scene, "scene file (TOML, format 1)")->required();
  run_cmd->add_option("-o,--output", run.output_dir, "output directory (default: out/<scene name>)");
  run_cmd->add_option("--threads", run.threads, "CPU threads (default: every core)")->check(CLI::Range(1, 4096));
  run_cmd->add_option("--backend", run.backend, "auto (GPU when usable), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run_cmd->add_flag("--overwrite", run.overwrite, "replace the results of an earlier run in the output directory");
  run_cmd->add_option("--format", run.formats, "output formats, overriding [output] formats: vdb, vti (ParaView) or both")
      ->delimiter(',')
      ->check(CLI::IsMember({"vdb", "vti"}));
  run_cmd->add_option("--crop", run.crop,
                      "dose.vti and its frames: auto (the dosed region and a margin, default) or none (the whole grid)")
      ->check(CLI::IsMember({"auto", "none"}));
  run_cmd->add_flag("--convergence", run.convergence,
                    "also run the hottest region on voxels halved along every axis and report how far the peak dose "
                    "is from converged in the voxel size");

  PlanOptions plan;
  CLI::App* plan_cmd = app.add_subcommand(
      "plan", "How far the scan's beam-on times (or its flux) may be scaled before a material reaches its limit; "
              "with --optimize, a dwell per point or the best raster pattern; writes plan.json and planned.toml");
  plan_cmd->add_option("SCENE", plan.scene, "scene file (TOML, format 1)")->required();
  // One value per occurrence (repeat the option for more), so that SCENE may follow it.
  plan_cmd->add_option("--limit", plan.limits, "NAME=DOSE_Gy: a material (or material:component) and its dose limit")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  plan_cmd->add_option("--rate-limit", plan.rate_limits, "NAME=GY_S: a material (or material:component) and its peak "
                                                          "dose-rate limit (scales the flux: the attenuator)")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  plan_cmd->add_option("-o,--output", plan.output_dir, "output directory (default: out/<scene name>_plan)");
  plan_cmd->add_option("--threads", plan.threads, "CPU threads (default: every core)")->check(CLI::Range(1, 4096));
  plan_cmd->add_option("--backend", plan.backend, "auto (GPU when usable), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  plan_cmd->add_flag("--overwrite", plan.overwrite, "replace an earlier plan in the output directory");
  CLI::Option* optimize = plan_cmd->add_option(
      "--optimize", plan.optimize,
      "dwell: a dwell time per raster and point position (a linear programme): first the largest common factor, then "
      "the most beam-on time; planned.toml spells the raster as its points. pattern: raster families (step, dwell, "
      "order, shifts between repetitions, pauses) on the Pareto front of beam-on time against max dose and dose rate; "
      "planned.toml is the best, pareto.png the front");
  plan_cmd
      ->add_option("--max-dwell-scale", plan.max_dwell_scale,
                   "with --optimize dwell: the largest factor on any point's dwell (default 10; a point that lights no "
                   "limited voxel takes it)")
      ->needs(optimize);
  plan_cmd
      ->add_option("--rate-window-s", plan.rate_window_s,
                   "with --optimize pattern: the dose-rate objective is the largest dose a voxel takes in any window of "
                   "this many seconds, divided by it (default 60)")
      ->needs(optimize);

  PlotOptions plot;
  CLI::App* plot_cmd = app.add_subcommand(
      "plot", "Draw a run's figures (PNG, into the run directory): depth profile, lateral map, dose against time");
  plot_cmd->add_option("RUN_DIR", plot.run_dir, "output directory of dosemap run (or of dosemap plan --optimize pattern: pareto.png)")->required();
  plot_cmd->add_option("--material", plot.material,
                       "the material whose most dosed voxel, column and thresholds the figures show (default: the "
                       "material most at risk: largest peak dose over its lowest threshold)");

  InfoOptions info;
  CLI::App* info_cmd = app.add_subcommand("info", "List the grids of a dose.vdb: dimensions, units, value ranges, metadata");
  info_cmd->add_option("FILE", info.file, "a .vdb file written by dosemap run")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e, out, err);  // --help, --version
  } catch (const CLI::ParseError& e) {
    err << "dosemap: error: " << e.what() << "; run 'dosemap --help' (or 'dosemap COMMAND --help')\n";
    return kExitUserError;
  }

  try {
    if (*check_cmd) return check_command(check, out);
    if (*run_cmd) return run_command(run, out);
    if (*info_cmd) return info_command(info, out);
    if (*plan_cmd) {
      plan.max_dwell_scale_given = plan_cmd->count("--max-dwell-scale") > 0;
      plan.rate_window_given = plan_cmd->count("--rate-window-s") > 0;
      return plan_command(plan, out);
    }
    if (*plot_cmd) return plot_command(plot, out);
    if (*mat_cmd) {
      if (!mats.list_nist && (mats.specs.empty() || mats.energies_keV.empty()))
        throw UserError(SourcePos{}, "materials needs at least one SPEC and --energy-keV",
                        "e.g. dosemap materials C3H4O3 \"Water, Liquid\" --energy-keV 27 --density 1.32");
      return materials_command(mats, out);
    }
  } catch (const UserError& e) {
    for (const auto& d : e.diagnostics()) err << d.format() << "\n";
    return kExitUserError;
  } catch (const std::exception& e) {
    err << "dosemap: internal error: " << e.what() << " (this is a bug in dosemap; please report it with the scene)\n";
    return kExitBug;
  }
  return kExitBug;
}

}  // namespace dosemap
