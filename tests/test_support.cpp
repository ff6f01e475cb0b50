#include "tests/test_support.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lz4.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dosemap::test {

namespace fs = std::filesystem;

std::string vti_array(const std::string& file, const std::string& name) {
  const std::string key = "Name=\"" + name + "\" format=\"appended\" offset=\"";
  const size_t at = file.find(key);
  if (at == std::string::npos) return {};
  if (file.find("compressor=\"vtkLZ4DataCompressor\"") == std::string::npos)
    throw std::runtime_error("not an LZ4-compressed VTK file");
  const size_t offset = std::stoull(file.substr(at + key.size()));
  const size_t appended = file.find("<AppendedData encoding=\"raw\">");
  if (appended == std::string::npos) throw std::runtime_error("no appended data");
  size_t pos = file.find('_', appended) + 1 + offset;
  auto u64 = [&](size_t where) {
    if (where + 8 > file.size()) throw std::runtime_error("a VTK block header past the end");
    uint64_t v = 0;
    std::memcpy(&v, file.data() + where, 8);
    return v;
  };
  // The header: blocks, a block's bytes, the last block's bytes if shorter (else 0), then
  // each block's compressed bytes.
  const uint64_t blocks = u64(pos), block_bytes = u64(pos + 8), last_bytes = u64(pos + 16);
  size_t data = pos + 24 + 8 * blocks;
  std::string out;
  for (uint64_t b = 0; b < blocks; ++b) {
    const uint64_t compressed = u64(pos + 24 + 8 * b);
    const uint64_t raw = (b + 1 == blocks && last_bytes) ? last_bytes : block_bytes;
    if (data + compressed > file.size()) throw std::runtime_error("a VTK block past the end");
    const size_t from = out.size();
    out.resize(from + raw);
    const int n = LZ4_decompress_safe(file.data() + data, out.data() + from, static_cast<int>(compressed),
                                      static_cast<int>(raw));
    if (n != static_cast<int>(raw)) throw std::runtime_error("a VTK block does not decompress to its size");
    data += compressed;
  }
  return out;
}

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

namespace {
// Where the build put things, unless the environment says otherwise: a relocated bundle
// (tools/make-bundle) runs its tests with DOSEMAP_TEST_SOURCE_DIR, DOSEMAP_TEST_EXE and
// DOSEMAP_TEST_FAULT_LIBRARY pointing into it.
std::string configured(const char* variable, const char* built) {
  const char* v = std::getenv(variable);
  return v && *v ? std::string(v) : std::string(built);
}
}  // namespace

std::string dosemap_exe() { return configured("DOSEMAP_TEST_EXE", DOSEMAP_EXE); }

fs::path source_path(const std::string& relative) {
  return fs::path(configured("DOSEMAP_TEST_SOURCE_DIR", DOSEMAP_SOURCE_DIR)) / relative;
}

CommandResult run_dosemap(const std::vector<std::string>& args, const fs::path& cwd, const std::vector<std::string>& env) {
  ScratchDir default_cwd;
  // stdout/stderr go outside the working directory, so tests can check nothing was written there.
  ScratchDir streams;
  std::string cmd = "cd " + shell_quote(cwd.empty() ? default_cwd.path().string() : cwd.string()) + " && env";
  for (const auto& e : env) cmd += " " + shell_quote(e);
  cmd += " " + shell_quote(dosemap_exe());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " > " + shell_quote((streams / "out").string()) + " 2> " + shell_quote((streams / "err").string());
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(streams / "out");
  r.err = read_file(streams / "err");
  return r;
}

BackgroundRun::BackgroundRun(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  err_path_ = fs::temp_directory_path() /
              ("dosemap_bg_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".err");
  const std::string exe = dosemap_exe();
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment is built before fork: after it only async-signal-safe calls are made.
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string var(*e);
    bool replaced = false;
    for (const auto& extra : env) replaced = replaced || var.compare(0, extra.find('=') + 1, extra, 0, extra.find('=') + 1) == 0;
    if (!replaced) env_s.push_back(var);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  // A forked child starts with this process's resident pages, and its peak (ru_maxrss)
  // keeps them across exec: hand the freed heap back first, so that a test run after
  // others measures the child's memory, not theirs.
  ::malloc_trim(0);
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Its own process group, so that a signal meant for it never reaches the test runner.
    ::setpgid(0, 0);
    ::dup2(devnull, 1);
    ::dup2(err, 2);
    ::execve(exe.c_str(), argv.data(), envp.data());
    std::_Exit(127);
  }
  ::close(devnull);
  ::close(err);
}

BackgroundRun::~BackgroundRun() {
  if (!done_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  std::error_code ec;
  fs::remove(err_path_, ec);
}

bool BackgroundRun::running() {
  if (done_) return false;
  struct rusage usage {};
  const pid_t r = ::wait4(pid_, &status_, WNOHANG, &usage);
  if (r == pid_) {
    done_ = true;
    max_rss_kb_ = usage.ru_maxrss;
  }
  return !done_;
}

void BackgroundRun::signal(int sig) {
  if (!done_) ::kill(pid_, sig);
}

int BackgroundRun::wait() {
  while (!done_) {
    struct rusage usage {};
    const pid_t r = ::wait4(pid_, &status_, 0, &usage);
    if (r == pid_) {
      done_ = true;
      max_rss_kb_ = usage.ru_maxrss;
    } else if (r < 0 && errno != EINTR) {
      break;
    }
  }
  return status_;
}

std::string BackgroundRun::err() const {
  std::error_code ec;
  return fs::exists(err_path_, ec) ? read_file(err_path_) : std::string();
}

std::vector<std::string> with_faults(std::vector<std::string> faults) {
  faults.push_back("LD_PRELOAD=" + configured("DOSEMAP_TEST_FAULT_LIBRARY", DOSEMAP_FAULT_LIBRARY));
  // Under AddressSanitizer the preloaded library comes before its runtime: allowed here.
  const char* asan = std::getenv("ASAN_OPTIONS");
  faults.push_back(std::string("ASAN_OPTIONS=") + (asan && *asan ? std::string(asan) + ":" : "") +
                   "verify_asan_link_order=0");
  return faults;
}

}  // namespace dosemap::test
