#include "host/common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dosemap {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(bool enabled) : enabled_(enabled) { begin_ = last_ = std::chrono::steady_clock::now(); }

Progress::~Progress() { clear(); }

void Progress::clear() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

void Progress::start(const std::string& stage, int64_t total) {
  stop_point();
  std::lock_guard<std::mutex> lock(mutex_);
  stage_ = stage;
  total_ = total;
  done_ = 0;
  draw(false);
}

void Progress::advance(int64_t units) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += units;
  draw(false);
}

void Progress::finish() {
  stop_point();
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = total_;
  draw(false);
}

ProgressState Progress::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ProgressState{stage_, done_, total_};
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - begin_ < std::chrono::seconds(1)) return;
  if (!force && drawn_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  drawn_ = true;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  const double elapsed = std::chrono::duration<double>(now - begin_).count();
  std::fprintf(stderr, "\r\033[Kdosemap: %s %5.1f %%  (%.0f s)", stage_.c_str(), pct > 100 ? 100.0 : pct, elapsed);
  std::fflush(stderr);
}

}  // namespace dosemap
