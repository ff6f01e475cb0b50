// Wall-clock and CPU seconds of a run's phases (summary.json's stage_seconds and
// stage_cpu_seconds, make bench's table). CPU seconds are the whole process's, every thread
// and the kernel's work on its behalf (page faults, file writes): what a phase costs the
// machine, where wall time only says how long it took.
#pragma once

#include <time.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dosemap {

inline double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct PhaseSeconds {
  double wall = 0, cpu = 0;
  PhaseSeconds& operator+=(const PhaseSeconds& o) {
    wall += o.wall;
    cpu += o.cpu;
    return *this;
  }
  PhaseSeconds operator-(const PhaseSeconds& o) const { return {wall - o.wall, cpu - o.cpu}; }
};

// Named phases in the order they ran.
using PhaseList = std::vector<std::pair<std::string, PhaseSeconds>>;

// Seconds since it was made or last lapped.
class PhaseClock {
 public:
  PhaseClock() { restart(); }
  void restart() {
    wall0_ = std::chrono::steady_clock::now();
    cpu0_ = process_cpu_seconds();
  }
  PhaseSeconds elapsed() const {
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count(), process_cpu_seconds() - cpu0_};
  }
  PhaseSeconds lap() {
    const PhaseSeconds s = elapsed();
    restart();
    return s;
  }

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_ = 0;
};

}  // namespace dosemap
