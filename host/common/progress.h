// A progress line on stderr for long runs: shown only when stderr is a terminal and the
// run has lasted over a second, rewritten in place at most five times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dosemap {

class Progress {
 public:
  explicit Progress(bool enabled);
  ~Progress();
  // A new stage of `total` units.
  void start(const std::string& stage, int64_t total);
  // Called from one thread only.
  void advance(int64_t units);
  void finish();
  // Erases the line (before other output on the terminal).
  void clear();

 private:
  void draw(bool force);
  bool enabled_;
  bool drawn_ = false;
  std::string stage_;
  int64_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point begin_, last_;
};

// True when stderr is a terminal (progress lines make sense).
bool stderr_is_terminal();

}  // namespace dosemap
