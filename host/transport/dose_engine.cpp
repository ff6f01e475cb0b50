#include "host/transport/dose_engine.h"

#include <omp.h>

#include <chrono>
#include <iostream>

#include "host/common/errors.h"
#include "host/common/progress.h"
#include "host/transport/cpu_backend.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"

#ifdef DOSEMAP_HAVE_CUDA
#include "host/transport/cuda_backend.h"
#endif

namespace dosemap {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

bool cuda_backend_usable(std::string& why) {
#ifdef DOSEMAP_HAVE_CUDA
  return cuda_device_usable(why);
#else
  why = "this dosemap was built without the CUDA backend (no nvcc when it was built)";
  return false;
#endif
}

DoseResults compute_dose(const EngineInputs& in, const EngineOptions& options) {
  const GridGeometry& g = in.grid.geometry;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  DoseResults r;
  r.tables = build_transport_tables(in.scene, in.materials, g, in.frame_times_s);

  bool use_cuda = false;
  std::string why;
  if (options.backend == Backend::kCuda) {
    if (!cuda_backend_usable(why)) throw UserError(SourcePos{}, "--backend cuda is not available: " + why, "use --backend cpu (or auto)");
    use_cuda = true;
  } else if (options.backend == Backend::kAuto) {
    use_cuda = cuda_backend_usable(why);
#ifdef DOSEMAP_HAVE_CUDA
    if (!use_cuda) std::cerr << "dosemap: note: running on the CPU (" << why << ")\n";
#endif
  }

  const BeamProfile beam = make_beam_profile(in.scene.beam);
  const std::vector<SubExposure> subs = plan_sub_exposures(in.timeline, beam, g);
  r.sub_exposures = static_cast<int64_t>(subs.size());
  for (const SubExposure& s : subs) r.energy.beam_J += s.photons;
  double mean_energy_J = 0;
  for (double e : r.tables.line_energy_J) mean_energy_J += e;
  r.energy.beam_J *= mean_energy_J;

  const int64_t voxels = g.voxels(), columns = g.columns();
  const MarchParams params = r.tables.params();
  const int n_thr = params.n_thresholds, n_comp = params.n_component_grids;
  r.voxels = voxels;
  r.columns = columns;
  r.dose_Gy.resize(voxels);
  r.rate_peak_Gy_s.resize(voxels);
  r.rate_mean_Gy_s.resize(voxels);
  r.crossing_s.resize(static_cast<size_t>(n_thr) * voxels);
  r.component_dose_Gy.resize(static_cast<size_t>(n_comp) * voxels);
  r.slot_first_crossing_s.resize(static_cast<size_t>(params.n_slots) * n_thr * columns);
  r.frame_fraction.resize(static_cast<size_t>(params.n_frames) * columns);
  std::vector<double> column_energy(static_cast<size_t>(columns) * 4);
  MarchOutput out;
  out.dose_Gy = r.dose_Gy.data();
  out.rate_peak_Gy_s = r.rate_peak_Gy_s.data();
  out.rate_mean_Gy_s = r.rate_mean_Gy_s.data();
  out.crossing_s = r.crossing_s.data();
  out.component_dose_Gy = r.component_dose_Gy.data();
  out.slot_first_crossing_s = r.slot_first_crossing_s.data();
  out.frame_fraction = r.frame_fraction.data();
  out.column_energy_J = column_energy.data();

#ifdef DOSEMAP_HAVE_CUDA
  if (use_cuda) {
    try {
      const CudaRunStats stats = run_transport_cuda(params, in.grid.material, subs, beam, g, out, options.progress);
      r.backend = "cuda";
      r.device = stats.device + (stats.slabs > 1 ? ", " + std::to_string(stats.slabs) + " slabs" : "");
      r.fluence_events = stats.fluence_events;
      r.seconds_history = stats.seconds_history;
      r.seconds_march = stats.seconds_march;
    } catch (const CudaError& e) {
      // Too little device memory or a driver error: the reason is the user's to know.
      if (options.backend == Backend::kCuda)
        throw UserError(SourcePos{}, std::string("--backend cuda failed: ") + e.what(), "use --backend cpu (or auto)");
      std::cerr << "dosemap: note: running on the CPU (the GPU run failed: " << e.what() << ")\n";
      use_cuda = false;
    }
  }
#endif
  if (!use_cuda) {
    auto t0 = std::chrono::steady_clock::now();
    const FluenceHistory history = build_fluence_history(subs, beam, g, threads, options.progress);
    r.seconds_history = seconds_since(t0);
    r.fluence_events = history.events();
    t0 = std::chrono::steady_clock::now();
    march_columns_cpu(params, in.grid.material.data(), history.view(), out, threads, options.progress);
    r.seconds_march = seconds_since(t0);
    r.backend = "cpu";
    r.device = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  }

  for (int64_t c = 0; c < columns; ++c) {
    r.energy.incident_J += column_energy[c * 4 + 0];
    r.energy.deposited_J += column_energy[c * 4 + 1];
    r.energy.transmitted_J += column_energy[c * 4 + 2];
    r.energy.other_J += column_energy[c * 4 + 3];
  }
  return r;
}

double DoseResults::slot_first_crossing(int slot, int t) const {
  const float* plane = slot_first_crossing_plane(slot, t);
  double first = -1;
  for (int64_t c = 0; c < columns; ++c)
    if (plane[c] >= 0 && (first < 0 || plane[c] < first)) first = plane[c];
  return first;
}

}  // namespace dosemap
