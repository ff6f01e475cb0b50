// A run's output directory, held for the length of one run:
// - locked (flock on DIR/.dosemap.lock), so two runs into one directory never interleave;
// - refused when it is not a directory, cannot be written (found before anything is
//   computed), or holds an earlier run and `overwrite` is not given;
// - written into a private staging directory inside it (DIR/.dosemap-staging-XXXXXX,
//   unpredictable, mode 0700), each file created exclusively and checked to the last byte;
// - then committed: the earlier run's files are removed (summary.json first) and the new
//   ones renamed into place (summary.json last), with interrupts held off. A directory
//   with a summary.json therefore always holds one whole run, never a mix.
// A run that fails or is interrupted before commit leaves the directory as it found it
// (and removes it if the run created it).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace dosemap {

class CheckedFile;
class InterruptCleanup;

class RunDirectory {
 public:
  // Throws UserError (file = dir) for every reason the directory cannot take this run.
  RunDirectory(std::string dir, bool overwrite);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& path() const { return dir_; }

  // Writes `relative` ("dose.vdb", "frames/dose_0001.vti") into the staging directory
  // through `write` (which writes to file.stream()); throws UserError naming DIR/relative
  // and the reason (disk full...).
  void write_file(const std::string& relative, const std::function<void(CheckedFile&)>& write);
  // The files written so far, relative to the directory, in order.
  const std::vector<std::string>& files() const { return files_; }

  // Replaces the earlier run's files with the staged ones. After it, the run is in place.
  void commit();

 private:
  void open(bool overwrite);  // the constructor's work, done with interrupts held off
  void discard() noexcept;    // an unfinished run: staging removed, lock released

  std::string dir_;
  bool created_ = false;      // this run created dir_ ...
  std::string created_top_;  // ... and the directories up to this one
  int lock_fd_ = -1;
  std::string lock_path_;
  std::string staging_;
  bool committed_ = false;
  std::vector<std::string> files_;
  std::unique_ptr<InterruptCleanup> on_interrupt_;
};

// The files an earlier run left in `dir` that a new run replaces: those its summary.json
// lists, the fixed result names, frames/dose_NNNN.*, and the figures drawn from it
// (dosemap plot, tools/paraview/dose_figure.py). Relative to dir; only existing ones.
std::vector<std::string> earlier_run_files(const std::string& dir);

}  // namespace dosemap
