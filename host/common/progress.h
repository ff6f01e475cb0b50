// A progress line on stderr for long runs: shown only when stderr is a terminal and the
// run has lasted over a second, rewritten in place at most five times a second.
//
// It is also how a caller on another thread follows and stops the work (the Python package:
// a progress callback, Ctrl-C in Jupyter): state() reads the stage and its count, and
// request_stop() makes the work end at its next stop point by throwing RunStopped. The work
// checks at every stage's start() and finish() and between its blocks (stop_requested()
// inside parallel loops, which skip their remaining blocks; the stage's finish() throws).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>

namespace dosemap {

// The work ended early because Progress::request_stop was called; nothing it built is used.
struct RunStopped : std::exception {
  const char* what() const noexcept override { return "the run was stopped"; }
};

struct ProgressState {
  std::string stage;
  int64_t done = 0, total = 0;
};

class Progress {
 public:
  explicit Progress(bool enabled);
  ~Progress();
  // A new stage of `total` units (a stop point).
  void start(const std::string& stage, int64_t total);
  // Called from one thread only.
  void advance(int64_t units);
  // The stage is done (a stop point).
  void finish();
  // Erases the line (before other output on the terminal).
  void clear();

  // From any thread.
  ProgressState state() const;
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
  // Where the work may end: throws RunStopped once a stop was requested.
  void stop_point() const {
    if (stop_requested()) throw RunStopped{};
  }

 private:
  void draw(bool force);  // with mutex_ held
  bool enabled_;
  bool drawn_ = false;
  mutable std::mutex mutex_;  // the stage and its counts, read by state() on another thread
  std::string stage_;
  int64_t total_ = 0, done_ = 0;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point begin_, last_;
};

// Progress::stop_point for an optional progress.
inline void stop_point(const Progress* progress) {
  if (progress) progress->stop_point();
}

// True when stderr is a terminal (progress lines make sense).
bool stderr_is_terminal();

}  // namespace dosemap
