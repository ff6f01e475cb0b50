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
// scratch directory), capturing stdout and stderr; `env` adds "NAME=value" variables.
CommandResult run_dosemap(const std::vector<std::string>& args, const std::filesystem::path& cwd = {},
                          const std::vector<std::string>& env = {});

// dosemap started in the background (stdout and stderr into files), for tests that signal
// it while it works or measure what it used.
class BackgroundRun {
 public:
  explicit BackgroundRun(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  ~BackgroundRun();  // kills it if it still runs
  BackgroundRun(const BackgroundRun&) = delete;
  BackgroundRun& operator=(const BackgroundRun&) = delete;
  bool running();
  void signal(int sig);
  // Waits for the end; returns the wait status (WIFEXITED / WIFSIGNALED apply).
  int wait();
  long max_rss_kb() const { return max_rss_kb_; }  // peak resident memory, after wait()
  std::string err() const;

 private:
  int pid_ = -1;
  int status_ = 0;
  bool done_ = false;
  long max_rss_kb_ = 0;
  std::filesystem::path err_path_;
};

// The fault-injection library (tests/fault_injection/write_faults.c) as LD_PRELOAD
// settings for `env`, with the variables that switch its faults on.
std::vector<std::string> with_faults(std::vector<std::string> faults);

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

// One appended array of a VTK ImageData file as dosemap writes it (host/outputs/vti_writer.h:
// LZ4-compressed blocks behind a UInt64 header), decompressed: its bytes, in VTK's order.
// Empty when the file has no such array; throws std::runtime_error on a malformed one.
std::string vti_array(const std::string& file, const std::string& name);

// Absolute path of a file in the source tree (e.g. "scenes/quickstart.toml"), or in
// $DOSEMAP_TEST_SOURCE_DIR when set (a relocated bundle).
std::filesystem::path source_path(const std::string& relative);
// The dosemap executable under test: the build's, or $DOSEMAP_TEST_EXE when set.
std::string dosemap_exe();

}  // namespace dosemap::test
