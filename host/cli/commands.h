// One function per command, called by the CLI after parsing; each prints to `out` and
// throws UserError for user mistakes.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace dosemap {

struct CheckOptions {
  std::string scene;
};
int check_command(const CheckOptions& o, std::ostream& out);

struct SceneSetup;
// What `check` prints about a scene that was set up (also run by the scene fuzzer).
void print_check_report(const SceneSetup& setup, std::ostream& out);

struct MaterialsOptions {
  std::vector<std::string> specs;
  std::vector<double> energies_keV;
  std::optional<double> density_g_cm3;
  bool list_nist = false;
};
int materials_command(const MaterialsOptions& o, std::ostream& out);

struct RunOptions {
  std::string scene;
  std::string output_dir;  // default: out/<scene file stem>
  int threads = 0;         // 0: every core
  std::string backend = "auto";
  bool overwrite = false;
  std::vector<std::string> formats;  // overrides [output] formats: "vdb", "vti"
  bool convergence = false;          // estimate the peak dose's voxel-size error (halved voxels)
  std::string crop = "auto";         // dose.vti: "auto" (the dosed region) or "none" (the whole grid)
};
int run_command(const RunOptions& o, std::ostream& out);

struct PlanOptions {
  std::string scene;
  std::vector<std::string> limits;       // NAME=DOSE_Gy
  std::vector<std::string> rate_limits;  // NAME=GY_S
  std::string output_dir;                // default: out/<scene file stem>_plan
  int threads = 0;
  std::string backend = "auto";
  bool overwrite = false;
  std::string optimize;          // "", "dwell" or "pattern"
  double max_dwell_scale = 10;   // --optimize dwell: the cap on any point's factor
  double rate_window_s = 60;     // --optimize pattern: the window of the dose-rate objective
  bool max_dwell_scale_given = false, rate_window_given = false;  // on the command line
};
int plan_command(const PlanOptions& o, std::ostream& out);

struct PlotOptions {
  std::string run_dir;
  std::string material;  // the figures' material (default: the one most at risk)
};
int plot_command(const PlotOptions& o, std::ostream& out);
// Runs tools/plot/dosemap_plot.py on DIR (a run or a plan directory) with `args` after it;
// returns its exit code (0 drawn, 2 it said why on stderr).
int run_plot_script(const std::string& dir, const std::vector<std::string>& args, std::ostream& out);

struct InfoOptions {
  std::string file;
};
int info_command(const InfoOptions& o, std::ostream& out);

}  // namespace dosemap
