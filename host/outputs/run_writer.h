// Writes a run's directory: dose.vdb and/or dose.vti (the scene's formats), the frames
// (frames/dose_NNNN.vdb/.vti and dose.pvd), dose_history.json and summary.json; each file
// complete or absent (temporary name, then rename). Returns the files written, relative
// to the directory.
#pragma once

#include <string>
#include <vector>

#include "host/outputs/dose_curves.h"
#include "host/outputs/run_summary.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

class Progress;

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
// `record` gets the list of files; summary.json is written by the caller from it.
std::vector<std::string> write_run_files(const std::string& dir, const RunWriteInputs& in, DoseResults&& results,
                                         double dose_max_Gy);

}  // namespace dosemap
