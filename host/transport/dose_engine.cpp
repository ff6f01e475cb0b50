#include "host/transport/dose_engine.h"

#include <omp.h>

#include <iostream>

#include "host/common/errors.h"
#include "host/common/progress.h"
#include "host/common/worker_threads.h"
#include "host/transport/column_group_march.h"
#include "host/transport/cpu_backend.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"

#ifdef DOSEMAP_HAVE_CUDA
#include "host/transport/cuda_backend.h"
#endif

namespace dosemap {

bool cuda_backend_usable(std::string& why) {
#ifdef DOSEMAP_HAVE_CUDA
  return cuda_device_usable(why);
#else
  why = "this dosemap was built without the CUDA backend (no nvcc when it was built)";
  return false;
#endif
}

namespace {

void engine_note(const EngineOptions& options, const std::string& text) {
  if (options.note)
    options.note(text);
  else
    std::cerr << "dosemap: note: " << text << "\n";
}

}  // namespace

DoseResults compute_dose(const TransportParams& in, const Timeline& timeline, const EngineOptions& options) {
  const GridGeometry& g = in.geometry();
  const std::vector<MaterialId>& material = in.grid->material;
  const StageSpec& stage = in.stage;
  const int threads = worker_threads(options.threads);
  const PhaseClock whole;
  DoseResults r;
  r.tables = in.tables;

  const BeamProfile& beam = in.beam;
  const std::vector<SubExposure> subs = plan_sub_exposures(timeline, beam, g, in.turn_substep_deg);
  const std::vector<PoseBlock> blocks = pose_blocks(subs);
  r.sub_exposures = static_cast<int64_t>(subs.size());
  r.poses = static_cast<int64_t>(blocks.size());
  for (const SubExposure& s : subs) r.energy.beam_J += s.photons;
  double mean_energy_J = 0;
  for (double e : r.tables.line_energy_J) mean_energy_J += e;
  r.energy.beam_J *= mean_energy_J;
  // A beam along +z in one block: the CUDA backend streams the grid in slabs of rows;
  // turned scans keep the whole grid's state on the GPU across their poses.
  const bool axis_aligned_scan = blocks.size() <= 1 && (blocks.empty() || stage_pose(stage, g, blocks[0].angle_deg).identity);

  bool use_cuda = false;
  std::string why;
  if (options.backend == Backend::kCuda) {
    if (!cuda_backend_usable(why)) throw UserError(SourcePos{}, "--backend cuda is not available: " + why, "use --backend cpu (or auto)");
    use_cuda = true;
  } else if (options.backend == Backend::kAuto) {
    use_cuda = cuda_backend_usable(why);
#ifdef DOSEMAP_HAVE_CUDA
    if (!use_cuda) engine_note(options, "running on the CPU (" + why + ")");
#endif
  }

  const int64_t voxels = g.voxels(), columns = g.columns();
  MarchParams params = r.tables.params();
  const int n_thr = params.n_thresholds, n_comp = params.n_component_grids;
  r.voxels = voxels;
  r.columns = columns;
  DoseState st;
  // Fresh arrays, zero as BulkVector allocates them (no dose yet); again after a failed GPU
  // run, which may have copied part of its state into them.
  auto fresh_state = [&] {
    auto fresh = [](BulkVector<float>& a, size_t n) {
      BulkVector<float>().swap(a);
      a.resize(n);
      return a.data();
    };
    st.dose_Gy = fresh(r.dose_Gy, voxels);
    st.rate_peak_Gy_s = fresh(r.rate_peak_Gy_s, voxels);
    st.rate_mean_Gy_s = fresh(r.rate_mean_Gy_s, voxels);
    st.crossing_s = fresh(r.crossing_s, static_cast<size_t>(n_thr) * voxels);
    st.component_dose_Gy = fresh(r.component_dose_Gy, static_cast<size_t>(n_comp) * voxels);
    st.slot_first_crossing_s = fresh(r.slot_first_crossing_s, static_cast<size_t>(params.n_slots) * n_thr * columns);
    st.frame_dose_Gy = fresh(r.frame_dose_Gy, static_cast<size_t>(params.n_frames) * voxels);
  };
  fresh_state();

#ifdef DOSEMAP_HAVE_CUDA
  if (use_cuda) {
    try {
      CudaRunStats stats;
      if (axis_aligned_scan) {
        std::vector<double> unit(static_cast<size_t>(columns) * 4), fluence(columns);
        st.ray_energy_J_m2 = unit.data();
        st.ray_fluence_m2 = fluence.data();
        stats = run_transport_cuda(params, material, subs, beam, g, st, options.progress);
        add_block_energy(unit.data(), fluence.data(), columns, r.energy);
      } else {
        stats = run_transport_cuda_poses(r.tables, material, subs, blocks, beam, g, stage, st, r.energy,
                                         options.progress);
      }
      r.backend = "cuda";
      r.device = stats.device + (stats.slabs > 1 ? ", " + std::to_string(stats.slabs) + " slabs" : "");
      r.fluence_events = stats.fluence_events;
      r.history.wall = stats.seconds_history;
      r.march.wall = stats.seconds_march;
      r.voxel_updates = voxels * r.poses;
    } catch (const CudaError& e) {
      // Too little device memory or a driver error: the reason is the user's to know.
      if (options.backend == Backend::kCuda)
        throw UserError(SourcePos{}, std::string("--backend cuda failed: ") + e.what(), "use --backend cpu (or auto)");
      engine_note(options, std::string("running on the CPU (the GPU run failed: ") + e.what() + ")");
      use_cuda = false;
      fresh_state();
      const double beam_J = r.energy.beam_J;
      r.energy = EnergyBalance{};
      r.energy.beam_J = beam_J;
    }
  }
#endif
  if (!use_cuda) {
    mark_nothing_crossed_cpu(params, st, voxels, columns, threads);
    // One block (every scan that never turns) reports the stages' progress as before; many
    // report one step per pose.
    Progress* per_block = blocks.size() == 1 ? options.progress : nullptr;
    if (options.progress && blocks.size() > 1) options.progress->start("poses", static_cast<int64_t>(blocks.size()));
    std::vector<double> unit, fluence;
    FluenceHistoryBuilder histories(threads);
    // Which columns a ray went down: a ray without events is not marched (begin_ray_walk).
    std::vector<uint8_t> marched(static_cast<size_t>(columns), 0);
    bool marched_known = true;
    for (const PoseBlock& b : blocks) {
      stop_point(options.progress);
      const Pose pose = stage_pose(stage, g, b.angle_deg);
      const RayLattice L = pose_lattice(pose, g);
      DOSEMAP_BUG_CHECK(pose_is_supported(L), "a pose the scene setup should have refused");
      r.tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
      params = r.tables.params();
      PhaseClock clock;
      const FluenceHistory& history =
          histories.build(HistoryJob{subs.data() + b.begin, static_cast<long long>(b.end - b.begin), beam, L, 0, L.n2},
                          per_block);
      r.history += clock.lap();
      r.fluence_events += history.events();
      if (grid_columns_lattice(L)) {
        const int64_t* offset = history.offset.data();
        for (int64_t c = 0; c < columns; ++c) marched[static_cast<size_t>(c)] |= offset[c + 1] > offset[c];
      } else {
        marched_known = false;
      }
      unit.assign(static_cast<size_t>(ray_count(L)) * 4, 0.0);
      fluence.assign(static_cast<size_t>(ray_count(L)), 0.0);
      st.ray_energy_J_m2 = unit.data();
      st.ray_fluence_m2 = fluence.data();
      clock.restart();
      march_rays_cpu(params, L, material.data(), history.view(), st, threads, per_block);
      r.march += clock.lap();
      r.voxel_updates += voxels;
      add_block_energy(unit.data(), fluence.data(), ray_count(L), r.energy);
      if (options.progress && blocks.size() > 1) options.progress->advance(1);
    }
    if (options.progress && blocks.size() > 1) options.progress->finish();
    // The results' tables describe the sample, not the last pose's segments.
    r.tables.set_segment(in.tables.segment_length_m, in.tables.column_area_m2);
    if (marched_known) r.column_marched = std::move(marched);
    r.backend = "cpu";
    r.device = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  }
  st.ray_energy_J_m2 = nullptr;
  st.ray_fluence_m2 = nullptr;
  r.state = whole.elapsed() - r.history - r.march;
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
