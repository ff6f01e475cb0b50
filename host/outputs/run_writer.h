// Writes a run's result files into its RunDirectory (staged until the caller commits):
// dose.vdb and/or dose.vti (the scene's formats), the frames (frames/dose_NNNN.vdb/.vti and
// dose.pvd) and dose_history.json; summary.json is the caller's, from the file list.
#pragma once

#include <string>
#include <vector>

#include "host/common/phase_clock.h"
#include "host/outputs/dose_curves.h"
#include "host/outputs/run_summary.h"
#include "host/outputs/viewer_grids.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

class Progress;
class RunDirectory;

struct RunWriteInputs {
  const Scene& scene;
  const MaterialTable& materials;
  const VoxelGrid& grid;
  const Timeline& timeline;
  const std::vector<double>& frame_times_s;
  const std::vector<DoseCurve>& curves;
  bool write_vdb = true;
  bool write_vti = false;
  Progress* progress = nullptr;
  bool crop_vti = true;  // run --crop auto: dose.vti and its frames hold the dosed region only
  int64_t preview_above_voxels = kPreviewVoxels;  // a region larger than this gets dose_preview.*
};

// What was written for viewers (host/outputs/viewer_grids.h).
struct ViewerFiles {
  IndexBox dosed;          // the dosed region with its margin
  IndexBox vti_box;        // the voxels of dose.vti and its frames
  int preview_factor = 1;  // > 1: dose_preview.vti / .vdb were written on `preview`
  GridGeometry preview;
  PhaseList phases;  // what each part of the writing took: write_frames, write_vti, ...
};

// With `release_as_written`, dose.vdb (written last) frees each array of `results` as its
// grids are built; else the results stay whole.
ViewerFiles write_run_files(RunDirectory& out, const RunWriteInputs& in, DoseResults& results, double dose_max_Gy,
                            bool release_as_written);
inline ViewerFiles write_run_files(RunDirectory& out, const RunWriteInputs& in, DoseResults&& results,
                                   double dose_max_Gy) {
  return write_run_files(out, in, results, dose_max_Gy, /*release_as_written=*/true);
}

}  // namespace dosemap
