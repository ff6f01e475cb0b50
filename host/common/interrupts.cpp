#include "host/common/interrupts.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace dosemap {

namespace {

// Guards the registry; held by the watcher while it cleans up and by without_interrupts.
std::recursive_mutex& registry_mutex() {
  static std::recursive_mutex m;
  return m;
}
std::map<int, std::function<void()>>& registry() {
  static std::map<int, std::function<void()>> r;
  return r;
}
int next_id = 0;

sigset_t interrupt_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

[[noreturn]] void on_interrupt(int sig) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  // Newest first: files before the directories that hold them.
  for (auto it = registry().rbegin(); it != registry().rend(); ++it) {
    try {
      it->second();
    } catch (...) {
      // Cleanup is best effort; the process ends anyway.
    }
  }
  std::fprintf(stderr, "\ndosemap: stopped by %s; nothing unfinished was left behind\n",
               sig == SIGINT ? "Ctrl-C (SIGINT)" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
  std::fflush(stderr);
  // End by the signal itself, so that a calling shell or script sees how the run ended.
  ::signal(sig, SIG_DFL);
  const sigset_t set = interrupt_signals();
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  std::_Exit(128 + sig);
}

}  // namespace

void install_interrupt_handling() {
  const sigset_t set = interrupt_signals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (::sigwait(&set, &sig) != 0) {
    }
    on_interrupt(sig);
  }).detach();
}

InterruptCleanup::InterruptCleanup(std::function<void()> cleanup) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  id_ = next_id++;
  registry()[id_] = std::move(cleanup);
}

InterruptCleanup::~InterruptCleanup() {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  registry().erase(id_);
}

void without_interrupts(const std::function<void()>& critical) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  critical();
}

void unblock_interrupts_in_child() {
  const sigset_t set = interrupt_signals();
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace dosemap
