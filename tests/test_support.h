// Helpers for tests: run the real dosemap binary, make scratch directories, write files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dosemap::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the dosemap executable with `args` in working directory `cwd` (default: a fresh
// scratch directory), capturing stdout and stderr.
CommandResult run_dosemap(const std::vector<std::string>& args, const std::filesystem::path& cwd = {});

// A fresh empty directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Names of every entry below the directory (recursive), sorted.
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& p, const std::string& text);
std::string read_file(const std::filesystem::path& p);

// Absolute path of a file in the source tree (e.g. "scenes/quickstart.toml").
std::filesystem::path source_path(const std::string& relative);

}  // namespace dosemap::test
