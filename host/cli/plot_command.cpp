// `dosemap plot DIR`: the standard figures of a run (or a plan's Pareto front), drawn by tools/plot/dosemap_plot.py
// with matplotlib (Debian's /usr/bin/python3 has python3-openvdb). DOSEMAP_TOOLS_DIR and
// DOSEMAP_PYTHON override where the script and the interpreter are.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "host/cli/commands.h"
#include "host/common/errors.h"
#include "host/common/interrupts.h"

namespace dosemap {

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}
}  // namespace

int run_plot_script(const std::string& dir, const std::vector<std::string>& args, std::ostream& out) {
  namespace fs = std::filesystem;
  const std::string script = (fs::path(env_or("DOSEMAP_TOOLS_DIR", DOSEMAP_TOOLS_DIR)) / "plot" / "dosemap_plot.py").string();
  const std::string python = env_or("DOSEMAP_PYTHON", "/usr/bin/python3");
  if (!fs::is_regular_file(script))
    throw UserError(SourcePos{script, 0, 0}, "the plotting script is missing", "set DOSEMAP_TOOLS_DIR to dosemap's tools/ folder");
  if (::access(python.c_str(), X_OK) != 0)
    throw UserError(SourcePos{python, 0, 0}, "no Python interpreter here",
                    "install python3 with python3-matplotlib and python3-openvdb (tools/setup --viz), or set DOSEMAP_PYTHON");
  std::vector<const char*> argv{python.c_str(), script.c_str(), dir.c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  out.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    unblock_interrupts_in_child();  // Ctrl-C reaches the plotting script as usual
    ::execv(python.c_str(), const_cast<char* const*>(argv.data()));
    std::_Exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return kExitOk;
  if (WIFEXITED(status) && WEXITSTATUS(status) == kExitUserError) return kExitUserError;  // it said why
  throw std::runtime_error("the plotting script failed (" + script + ", status " + std::to_string(status) + ")");
}

int plot_command(const PlotOptions& o, std::ostream& out) {
  if (!std::filesystem::is_directory(o.run_dir))
    throw UserError(SourcePos{o.run_dir, 0, 0}, "is not a directory",
                    "give the output directory of a dosemap run (or of dosemap plan --optimize pattern)");
  std::vector<std::string> args;
  if (!o.material.empty()) args = {"--material", o.material};
  return run_plot_script(o.run_dir, args, out);
}

}  // namespace dosemap
