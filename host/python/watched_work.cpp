#include "host/python/watched_work.h"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "host/common/progress.h"

namespace py = pybind11;

namespace dosemap {

void run_watched(Progress& progress, const py::object& progress_callback, const std::function<void()>& work) {
  std::mutex mutex;
  std::condition_variable ended_cv;
  bool ended = false;
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      work();
    } catch (...) {
      failure = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex);
    ended = true;
    ended_cv.notify_all();
  });

  // The Python exception that stops the work (KeyboardInterrupt, the callback's), if any.
  std::optional<py::error_already_set> raised;
  ProgressState reported;
  bool reported_any = false;
  auto report = [&] {
    if (progress_callback.is_none()) return;
    ProgressState now = progress.state();
    if (reported_any && now.stage == reported.stage && now.done == reported.done && now.total == reported.total) return;
    if (now.stage.empty()) return;  // nothing started yet
    progress_callback(now.stage, now.done, now.total);
    reported = std::move(now);
    reported_any = true;
  };
  for (bool finished = false; !finished;) {
    {
      py::gil_scoped_release unlocked;
      std::unique_lock<std::mutex> lock(mutex);
      finished = ended_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return ended; });
    }
    if (raised) continue;  // stopping: wait for the work to reach its stop point
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      report();
    } catch (py::error_already_set& e) {
      raised.emplace(std::move(e));
      progress.request_stop();
    }
  }
  worker.join();
  if (raised) throw std::move(*raised);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace dosemap
