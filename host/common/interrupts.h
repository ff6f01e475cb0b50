// Ctrl-C, SIGTERM and SIGHUP stop dosemap at once and cleanly: what an unfinished run has
// written (its staging directory, its lock, an output directory it created) is removed, a
// line on stderr says so, and the process ends by the signal, as the shell expects.
//
// The signals are blocked in every thread and one thread waits for them (sigwait), so the
// cleanup runs as ordinary code, not in a signal handler, whatever the other threads
// (OpenMP, TBB, OpenVDB's writer) are doing.
#pragma once

#include <functional>

namespace dosemap {

// Call first in main, before any other thread exists (threads inherit the blocked mask).
void install_interrupt_handling();

// A cleanup to run if the process is interrupted while this object lives.
class InterruptCleanup {
 public:
  explicit InterruptCleanup(std::function<void()> cleanup);
  ~InterruptCleanup();
  InterruptCleanup(const InterruptCleanup&) = delete;
  InterruptCleanup& operator=(const InterruptCleanup&) = delete;

 private:
  int id_;
};

// Runs `critical` to completion before any interrupt is acted on (committing results:
// a run is then either wholly in place or not at all).
void without_interrupts(const std::function<void()>& critical);

// For a child process about to exec another program: unblock the signals again.
void unblock_interrupts_in_child();

}  // namespace dosemap
