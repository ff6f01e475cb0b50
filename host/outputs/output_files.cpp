#include "host/outputs/output_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>
#include <system_error>

#include "host/common/errors.h"
#include "host/common/input_file.h"
#include "host/common/interrupts.h"
#include "host/outputs/checked_file.h"

namespace dosemap {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".dosemap.lock";
constexpr const char* kStagingPrefix = ".dosemap-staging-";
// What a run (or a plan) writes under fixed names, and what is drawn into its directory from
// it (the outputs of tools/plot/dosemap_plot.py, plan_figures.py and
// tools/paraview/dose_figure.py; keep in step with them): all stale once it is replaced.
const char* const kRunNames[] = {"summary.json", "dose.vdb",   "dose.vti",    "dose.pvd", "dose_history.json",
                                 "points.csv",   "points.h5", "plan.json", "planned.toml"};
const char* const kDrawnNames[] = {"depth_profile.png",   "depth_profile.csv",  "lateral_map.png",
                                   "dose_vs_time.png",    "point_positions.png", "rotation_slice.png",
                                   "paraview_slice.png",  "points_map.png",      "pareto.png"};

bool exists_no_follow(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

[[noreturn]] void fail(const std::string& dir, const std::string& what, int error, const std::string& fix) {
  throw UserError(SourcePos{dir, 0, 0}, what + ": " + std::strerror(error), fix);
}

// A relative name from an earlier summary.json that may be removed: inside the directory.
bool safe_relative(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.size() > 4096) return false;
  for (const auto& part : fs::path(name))
    if (part == ".." || part == ".") return false;
  return true;
}

// The directory as an absolute path without "." or ".." parts or a trailing separator, for
// walking up the directories a run created.
fs::path absolute_dir(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (p.has_relative_path() && p.filename().empty()) p = p.parent_path();
  return p;
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: some file systems cannot sync a directory
  ::close(fd);
}

}  // namespace

std::vector<std::string> earlier_run_files(const std::string& dir) {
  std::set<std::string> names;
  std::string text;
  try {
    read_small_file((fs::path(dir) / "summary.json").string(), "summary", int64_t(256) << 20, text);
    const auto summary = nlohmann::json::parse(text);
    if (summary.contains("files") && summary["files"].is_array())
      for (const auto& f : summary["files"])
        if (f.is_string() && safe_relative(f.get<std::string>())) names.insert(f.get<std::string>());
  } catch (const std::exception&) {
    // No readable summary: the fixed names below still find the run's files.
  }
  for (const char* n : kRunNames) names.insert(n);
  for (const char* n : kDrawnNames) names.insert(n);
  std::error_code ec;
  static const std::regex frame(R"(dose_[0-9]{4}\.(vdb|vti))");
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "frames", ec)) {
    const std::string n = e.path().filename().string();
    if (std::regex_match(n, frame)) names.insert("frames/" + n);
  }
  std::vector<std::string> out;
  for (const auto& n : names)
    if (exists_no_follow(fs::path(dir) / n) && !fs::is_directory(fs::symlink_status(fs::path(dir) / n, ec)))
      out.push_back(n);
  // summary.json first: once it is gone the directory no longer claims a complete run.
  std::stable_partition(out.begin(), out.end(), [](const std::string& n) { return n == "summary.json"; });
  return out;
}

RunDirectory::RunDirectory(std::string dir, bool overwrite) : dir_(std::move(dir)) {
  // An interrupt undoes what is done here, so it must find the state complete: each
  // directory or file made is recorded before an interrupt is acted on.
  on_interrupt_ = std::make_unique<InterruptCleanup>([this] { discard(); });
  without_interrupts([&] { open(overwrite); });
}

void RunDirectory::open(bool overwrite) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir_, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw UserError(SourcePos{dir_, 0, 0}, "exists and is not a directory", "choose another -o DIR");
  if (!fs::exists(st)) {
    // Create the missing components, and remember the topmost one we made so that a run
    // that does not finish removes it again.
    fs::path top;
    for (fs::path p = absolute_dir(dir_); !p.empty() && !exists_no_follow(p); p = p.parent_path()) {
      top = p;
      if (p == p.parent_path()) break;
    }
    fs::create_directories(dir_, ec);
    if (ec)
      throw UserError(SourcePos{dir_, 0, 0}, "cannot create output directory: " + ec.message(),
                      "check the path and its permissions");
    created_ = true;
    created_top_ = top.string();
  }
  // Holding the lock also proves the directory writable, before anything is computed.
  lock_path_ = (fs::path(dir_) / kLockName).string();
  for (int attempt = 0; lock_fd_ < 0; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int e = errno;
      discard();
      fail(dir_, "cannot write into the output directory", e,
           e == ELOOP ? "remove the symbolic link " + lock_path_ : "choose a directory you can write to with -o DIR");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      ::close(fd);
      discard();
      if (e == EWOULDBLOCK)
        throw UserError(SourcePos{dir_, 0, 0}, "another dosemap run is writing into this directory",
                        "wait for it to finish, or choose another -o DIR");
      fail(dir_, "cannot lock the output directory", e, "use a directory on a file system with file locks (-o DIR)");
    }
    // The lock file may have been removed and made anew by the run that held it last:
    // keep the lock only if it is on the file now at that name.
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::lstat(lock_path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      lock_fd_ = fd;
    } else {
      ::close(fd);
      if (attempt > 100) {
        discard();
        throw UserError(SourcePos{dir_, 0, 0}, "cannot lock the output directory (its lock file keeps changing)",
                        "make sure no other program removes " + lock_path_);
      }
    }
  }
  bool earlier = exists_no_follow(fs::path(dir_) / "frames");
  for (const char* f : kRunNames) earlier = earlier || exists_no_follow(fs::path(dir_) / f);
  if (earlier && !overwrite) {
    discard();
    throw UserError(SourcePos{dir_, 0, 0}, "already holds the results of a dosemap run",
                    "choose another -o DIR, or pass --overwrite to replace them");
  }
  // Left by runs that were killed (SIGKILL, power loss): nobody else holds the lock.
  static const std::regex old_partial(R"(\..+\.partial-[0-9]+)");
  for (const fs::path& sub : {fs::path(dir_), fs::path(dir_) / "frames"})
    for (const auto& e : fs::directory_iterator(sub, ec)) {
      const std::string n = e.path().filename().string();
      std::error_code rm;
      if (n.rfind(kStagingPrefix, 0) == 0 && sub == fs::path(dir_) && e.is_directory(rm) && !e.is_symlink(rm))
        fs::remove_all(e.path(), rm);
      else if (std::regex_match(n, old_partial) && e.is_regular_file(rm) && !e.is_symlink(rm))
        fs::remove(e.path(), rm);
    }
  std::string pattern = (fs::path(dir_) / (std::string(kStagingPrefix) + "XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) {
    const int e = errno;
    discard();
    fail(dir_, "cannot write into the output directory", e, "choose a directory you can write to with -o DIR");
  }
  staging_ = pattern;
}

RunDirectory::~RunDirectory() {
  discard();
  on_interrupt_.reset();
}

void RunDirectory::discard() noexcept {
  // Under the interrupt lock: the main thread and an interrupt never clean up at once.
  without_interrupts([&] {
    std::error_code ec;
    if (!staging_.empty()) fs::remove_all(staging_, ec);
    staging_.clear();
    if (lock_fd_ >= 0) {
      ::unlink(lock_path_.c_str());
      ::close(lock_fd_);
      lock_fd_ = -1;
    }
    // A directory this run created goes again, if nothing else was put in it meanwhile.
    if (created_) {
      for (fs::path p = absolute_dir(dir_); !p.empty(); p = p.parent_path())
        if (::rmdir(p.c_str()) != 0 || p.string() == created_top_) break;
      created_ = false;
    }
  });
}

void RunDirectory::write_file(const std::string& relative, const std::function<void(CheckedFile&)>& write) {
  DOSEMAP_BUG_CHECK(!committed_ && !staging_.empty(), "write_file after commit");
  const fs::path target = fs::path(staging_) / relative;
  const std::string shown = (fs::path(dir_) / relative).string();
  std::unique_ptr<CheckedFile> file;
  // Created while no interrupt is being handled: a cleanup never races a new file.
  without_interrupts([&] {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    file = std::make_unique<CheckedFile>(target.string(), shown);
  });
  write(*file);
  file->finish();
  files_.push_back(relative);
}

void RunDirectory::commit() {
  DOSEMAP_BUG_CHECK(!committed_, "commit twice");
  std::vector<std::string> order = files_;
  std::stable_partition(order.begin(), order.end(), [](const std::string& n) { return n != "summary.json"; });
  without_interrupts([&] {
    for (const std::string& old : earlier_run_files(dir_)) {
      if (::unlink((fs::path(dir_) / old).c_str()) != 0 && errno != ENOENT)
        fail((fs::path(dir_) / old).string(), "cannot remove the earlier run's file", errno,
             "check the output directory's permissions");
    }
    std::error_code ec;
    if (fs::is_empty(fs::path(dir_) / "frames", ec)) fs::remove(fs::path(dir_) / "frames", ec);
    for (const std::string& name : order) {
      const fs::path to = fs::path(dir_) / name;
      fs::create_directories(to.parent_path(), ec);
      if (::rename((fs::path(staging_) / name).c_str(), to.c_str()) != 0)
        fail(to.string(), "cannot move the result into place", errno, "check the output directory");
    }
    fsync_directory(dir_);
    if (exists_no_follow(fs::path(dir_) / "frames")) fsync_directory((fs::path(dir_) / "frames").string());
    fs::remove_all(staging_, ec);
    staging_.clear();
    created_ = false;  // it holds the run now
    committed_ = true;
  });
}

}  // namespace dosemap
