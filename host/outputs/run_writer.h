// Writes a run's result files into its RunDirectory (staged until the caller commits):
// dose.vdb and/or dose.vti (the scene's formats), the frames (frames/dose_NNNN.vdb/.vti and
// dose.pvd) and dose_history.json; summary.json is the caller's, from the file list.
#pragma once

#include <string>
#include <vector>

#include "host/outputs/dose_curves.h"
#include "host/outputs/run_summary.h"
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
};

// Consumes `results` (dose.vdb is written last, freeing each array as its grid is built).
void write_run_files(RunDirectory& out, const RunWriteInputs& in, DoseResults&& results, double dose_max_Gy);

}  // namespace dosemap
