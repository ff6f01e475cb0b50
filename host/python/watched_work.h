// Long work (a run, its writing, a plan) done for Python so that the interpreter stays in
// charge: the work runs on its own thread, without the GIL, while the calling thread waits
// in short steps, and between steps (with the GIL) it
// - reports the work's progress to the caller's callback, progress(stage, done, total),
//   in the caller's thread (what Jupyter widgets and tqdm expect), at most ten times a
//   second and once more at the end;
// - runs Python's signal handlers, so that Ctrl-C (Jupyter's "interrupt the kernel") raises
//   KeyboardInterrupt: the work is then asked to stop (Progress::request_stop), stops at
//   its next stop point, and what it had half-written is discarded as on any error;
// - a callback that raises stops the work the same way, and its exception is re-raised.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>

namespace dosemap {

class Progress;

// Runs `work` (which reports to and stops at `progress`) as above; re-raises its exception
// (a UserError becomes SceneError) once it has ended. `progress_callback` may be None.
void run_watched(Progress& progress, const pybind11::object& progress_callback, const std::function<void()>& work);

}  // namespace dosemap
