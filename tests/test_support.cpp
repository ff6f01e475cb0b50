#include "tests/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dosemap::test {

namespace fs = std::filesystem;

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

ScratchDir::ScratchDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("dosemap_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> ScratchDir::entries() const {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(path_)) out.push_back(fs::relative(e.path(), path_).string());
  std::sort(out.begin(), out.end());
  return out;
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path source_path(const std::string& relative) { return fs::path(DOSEMAP_SOURCE_DIR) / relative; }

CommandResult run_dosemap(const std::vector<std::string>& args, const fs::path& cwd) {
  ScratchDir default_cwd;
  // stdout/stderr go outside the working directory, so tests can check nothing was written there.
  ScratchDir streams;
  std::string cmd = "cd " + shell_quote(cwd.empty() ? default_cwd.path().string() : cwd.string()) + " && " +
                    shell_quote(DOSEMAP_EXE);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " > " + shell_quote((streams / "out").string()) + " 2> " + shell_quote((streams / "err").string());
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(streams / "out");
  r.err = read_file(streams / "err");
  return r;
}

}  // namespace dosemap::test
