// The GPU backend's pipeline replayed on the CPU, step for step, with the very functions
// its kernels call (cuda/fluence_events.h, cuda/ray_march.h) and std algorithms in place
// of CUB and Thrust (stable sort by column, exclusive scan, segmented inclusive scan), and
// the slab layout of its device buffers and 2-D copies. It must reproduce the CPU backend
// exactly, whatever the slabs: this checks the GPU path's index arithmetic where no GPU is
// available (the build machine, CI). The GPU itself is checked by cuda_parity_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "cuda/fluence_events.h"
#include "host/transport/fluence_history.h"
#include "host/transport/slab_plan.h"
#include "host/transport/stage_poses.h"
#include "tests/engine_harness.h"
#include "tests/random_scene.h"

namespace dosemap {
namespace {

// cudaMemcpy2D device -> host for `planes` planes: rows of `width` elements, packed on the
// device, at `host_pitch` in planes `host_plane` apart on the host.
template <typename T>
void copy_planes(T* host, size_t host_pitch, size_t host_plane, const std::vector<T>& dev, size_t width, size_t rows,
                 int planes) {
  for (int q = 0; q < planes; ++q)
    for (size_t r = 0; r < rows; ++r)
      std::copy_n(dev.data() + q * width * rows + r * width, width, host + q * host_plane + r * host_pitch);
}

struct Replay {
  DoseResults out;
  std::vector<Slab> slabs;
};

// Runs the GPU pipeline's steps on the CPU for the given slab budget.
Replay replay_gpu(const test::EngineRun& run, double budget_bytes) {
  const GridGeometry& g = run.g();
  const BeamProfile beam = make_beam_profile(run.scene.beam);
  const std::vector<SubExposure> subs = plan_sub_exposures(run.timeline, beam, g, 360.0);  // the stage never turns
  const MarchParams params = run.results.tables.params();
  const long long nx = g.dims[0], nz = g.dims[2], columns = g.columns(), voxels = g.voxels();
  const int T = params.n_thresholds, C = params.n_component_grids, S = params.n_slots;
  const long long n = static_cast<long long>(subs.size());
  Replay rep;
  rep.out = run.results;  // same shapes; every value is overwritten below
  std::fill(rep.out.dose_Gy.begin(), rep.out.dose_Gy.end(), -7.0f);
  rep.slabs = plan_slabs(params, events_per_row(subs, beam, g), nx, budget_bytes);
  const EventGrid eg{g.origin_um[0], g.origin_um[1], g.voxel_um[0], g.voxel_um[1], nx, g.dims[1], g.column_area_m2()};
  std::vector<double> t_start(n), duration(n);
  for (long long s = 0; s < n; ++s) t_start[s] = subs[s].t_start_s, duration[s] = subs[s].duration_s;
  std::vector<double> energy(columns * 4);
  for (const Slab& slab : rep.slabs) {
    const long long cols = (slab.row1 - slab.row0) * nx, col0 = slab.row0 * nx;
    // Count cells, exclusive scan.
    std::vector<unsigned long long> cells(n + 1, 0), offsets(n + 1, 0);
    for (long long s = 0; s < n; ++s)
      cells[s] = cells_in(slab_footprint(beam, eg, subs[s].x0_um, subs[s].y0_um, subs[s].x1_um, subs[s].y1_um, slab.row0, slab.row1));
    std::exclusive_scan(cells.begin(), cells.end(), offsets.begin(), 0ULL);
    const unsigned long long total = offsets[n];
    EXPECT_EQ(total, slab.events) << "slab rows " << slab.row0 << "-" << slab.row1;
    // Events, then a stable sort by column.
    std::vector<FluenceEvent> events(total);
    for (unsigned long long e = 0; e < total; ++e) {
      const long long s = event_owner(offsets.data(), n, e);
      const SubExposure& x = subs[s];
      events[e] = make_event(beam, eg, slab.row0, slab.row1, s, e - offsets[s], x.x0_um, x.y0_um, x.x1_um, x.y1_um, x.photons);
    }
    std::vector<uint32_t> order(total);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return events[a].column < events[b].column; });
    std::vector<uint32_t> column_sorted(total), sub_sorted(total);
    std::vector<double> cum(total);
    for (unsigned long long e = 0; e < total; ++e) {
      column_sorted[e] = events[order[e]].column;
      sub_sorted[e] = events[order[e]].sub_exposure;
      cum[e] = events[order[e]].fluence_m2;
    }
    for (unsigned long long e = 1; e < total; ++e)  // inclusive scan by key
      if (column_sorted[e] == column_sorted[e - 1]) cum[e] += cum[e - 1];
    std::vector<int64_t> col_offsets(cols + 1);
    for (long long c = 0; c <= cols; ++c) col_offsets[c] = first_event_of_column(column_sorted.data(), total, c);
    // The march on the slab as a grid of cols x 1 columns, into packed slab buffers.
    std::vector<uint16_t> mat(cols * nz);
    for (long long k = 0; k < nz; ++k)
      std::copy_n(run.grid->material.data() + k * columns + col0, cols, mat.data() + k * cols);
    std::vector<float> dose(cols * nz), peak(cols * nz), mean(cols * nz), cross(cols * nz * T), comp(cols * nz * C),
        slot(cols * S * T), frames(cols * nz * params.n_frames);
    std::vector<double> en(cols * 4), ray_fluence(cols);
    const MarchParams& p = params;
    const long long slab_dims[3] = {cols, 1, nz};
    const double zero[3] = {0, 0, 0};
    const RayLattice L = make_ray_lattice(make_pose(1, 0.0, 0.0, zero), slab_dims, g.voxel_um.data(), zero);
    HistoryView h{col_offsets.data(), sub_sorted.data(), cum.data(), t_start.data(), duration.data()};
    DoseState o{dose.data(), peak.data(), mean.data(), cross.data(), comp.data(), slot.data(), frames.data(),
                en.data(), ray_fluence.data()};
    for (long long v = 0; v < cols * nz; ++v) clear_voxel_state(p, o, cols * nz, v);  // clear_kernel
    std::fill(slot.begin(), slot.end(), -1.0f);
    std::vector<double> scratch(static_cast<size_t>(p.n_lines) * cols);  // march_kernel's line_scratch layout
    for (long long c = 0; c < ray_count(L); ++c)
      march_ray(p, L, mat.data(), h, o, c, LineTransmission{scratch.data() + c, cols});
    copy_planes(rep.out.dose_Gy.data() + col0, columns, voxels, dose, cols, nz, 1);
    copy_planes(rep.out.rate_peak_Gy_s.data() + col0, columns, voxels, peak, cols, nz, 1);
    copy_planes(rep.out.rate_mean_Gy_s.data() + col0, columns, voxels, mean, cols, nz, 1);
    copy_planes(rep.out.crossing_s.data() + col0, columns, voxels, cross, cols, nz, T);
    copy_planes(rep.out.component_dose_Gy.data() + col0, columns, voxels, comp, cols, nz, C);
    copy_planes(rep.out.slot_first_crossing_s.data() + col0, columns, columns, slot, cols, 1, S * T);
    copy_planes(rep.out.frame_dose_Gy.data() + col0, columns, voxels, frames, cols, nz, params.n_frames);
    std::copy(en.begin(), en.end(), energy.begin() + col0 * 4);
  }
  return rep;
}

TEST(GpuPipeline, ReplayedOnTheCpuReproducesTheCpuBackendInOneSlabOrMany) {
  for (int seed = 1; seed <= 12; ++seed) {
    test::ScratchDir dir;
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto run = test::run_engine(test::load_random_scene(seed, dir), 2);
    const DoseResults& cpu = run->results;
    const double whole = 1e12;                                // one slab
    const double small = slab_column_bytes(cpu.tables.params()) * run->g().dims[0] * 3 +
                         3.0 * kSlabEventBytes * cpu.fluence_events / run->g().dims[1] + 1e5;  // a few rows each
    for (double budget : {whole, small}) {
      const Replay rep = replay_gpu(*run, budget);
      ASSERT_FALSE(rep.slabs.empty());
      if (budget == small) {
        EXPECT_GT(rep.slabs.size(), 1u);
      }
      EXPECT_EQ(rep.out.dose_Gy, cpu.dose_Gy);
      EXPECT_EQ(rep.out.rate_peak_Gy_s, cpu.rate_peak_Gy_s);
      EXPECT_EQ(rep.out.rate_mean_Gy_s, cpu.rate_mean_Gy_s);
      EXPECT_EQ(rep.out.crossing_s, cpu.crossing_s);
      EXPECT_EQ(rep.out.component_dose_Gy, cpu.component_dose_Gy);
      EXPECT_EQ(rep.out.slot_first_crossing_s, cpu.slot_first_crossing_s);
      EXPECT_EQ(rep.out.frame_dose_Gy, cpu.frame_dose_Gy);
    }
  }
}

// The GPU's path for turned scans (run_transport_cuda_poses): the whole grid's state
// resident, per block the lattice's rays counted, numbered, made (make_ray_event), stably
// sorted by ray, scanned, and marched.
DoseResults replay_gpu_poses(const test::EngineRun& run) {
  const GridGeometry& g = run.g();
  const BeamProfile beam = make_beam_profile(run.scene.beam);
  const StageSpec& stage = run.scene.sample.stage;
  const std::vector<SubExposure> subs = plan_sub_exposures(run.timeline, beam, g, rotation_substep_deg(stage, beam, g));
  TransportTables tables = run.results.tables;
  MarchParams params = tables.params();
  const long long columns = g.columns(), voxels = g.voxels();
  DoseResults out = run.results;  // same shapes; cleared below as the clear kernel does
  std::vector<double> energy, ray_fluence;
  DoseState o{out.dose_Gy.data(), out.rate_peak_Gy_s.data(), out.rate_mean_Gy_s.data(), out.crossing_s.data(),
              out.component_dose_Gy.data(), out.slot_first_crossing_s.data(), out.frame_dose_Gy.data(), nullptr, nullptr};
  for (long long v = 0; v < voxels; ++v) clear_voxel_state(params, o, voxels, v);
  std::fill(out.slot_first_crossing_s.begin(), out.slot_first_crossing_s.end(), -1.0f);
  std::vector<double> t_start(subs.size()), duration(subs.size());
  for (size_t s = 0; s < subs.size(); ++s) t_start[s] = subs[s].t_start_s, duration[s] = subs[s].duration_s;
  for (const PoseBlock& b : pose_blocks(subs)) {
    const RayLattice L = pose_lattice(stage_pose(stage, g, b.angle_deg), g);
    tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
    params = tables.params();
    const long long n = static_cast<long long>(b.end - b.begin), rays = ray_count(L);
    const SubExposure* bs = subs.data() + b.begin;
    std::vector<unsigned long long> cells(n + 1, 0), offsets(n + 1, 0);
    for (long long s = 0; s < n; ++s)
      cells[s] = cells_in(ray_footprint(beam, L, bs[s].x0_um, bs[s].y0_um, bs[s].x1_um, bs[s].y1_um));
    std::exclusive_scan(cells.begin(), cells.end(), offsets.begin(), 0ULL);
    const unsigned long long total = offsets[n];
    std::vector<FluenceEvent> events(total);
    for (unsigned long long e = 0; e < total; ++e) {
      const long long s = event_owner(offsets.data(), n, e);
      events[e] = make_ray_event(beam, L, s, e - offsets[s], bs[s].x0_um, bs[s].y0_um, bs[s].x1_um, bs[s].y1_um,
                                 bs[s].photons);
    }
    std::vector<uint32_t> order(total);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t c) { return events[a].column < events[c].column; });
    std::vector<uint32_t> ray_sorted(total), sub_sorted(total);
    std::vector<double> cum(total);
    for (unsigned long long e = 0; e < total; ++e) {
      ray_sorted[e] = events[order[e]].column;
      sub_sorted[e] = events[order[e]].sub_exposure;
      cum[e] = events[order[e]].fluence_m2;
    }
    for (unsigned long long e = 1; e < total; ++e)
      if (ray_sorted[e] == ray_sorted[e - 1]) cum[e] += cum[e - 1];
    std::vector<int64_t> ray_offsets(rays + 1);
    for (long long r = 0; r <= rays; ++r) ray_offsets[r] = first_event_of_column(ray_sorted.data(), total, r);
    energy.assign(rays * 4, 0.0);
    ray_fluence.assign(rays, 0.0);
    o.ray_energy_J_m2 = energy.data();
    o.ray_fluence_m2 = ray_fluence.data();
    HistoryView h{ray_offsets.data(), sub_sorted.data(), cum.data(), t_start.data() + b.begin, duration.data() + b.begin};
    std::vector<double> scratch(static_cast<size_t>(params.n_lines) * rays);
    for (long long r = 0; r < rays; ++r)
      march_ray(params, L, run.grid->material.data(), h, o, r, LineTransmission{scratch.data() + r, rays});
  }
  (void)columns;
  return out;
}

TEST(GpuPipeline, TurnedScansReplayedOnTheCpuReproduceTheCpuBackend) {
  // A layered cell turned, rotated continuously and tilted (laminography): every pose kind.
  const std::string sample_common =
      "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 30.0\n"
      "[[sample.layers]]\nmaterial = \"NMC811\"\nthickness_um = 20.0\n";
  const std::string beam = "energy_keV = 27.0\nflux_ph_s = 1.0e11\nprofile = \"gaussian\"\nfwhm_um = [12.0, 8.0]\n";
  const std::string output = "[output]\nthresholds_Gy = { low = 1.0e3, high = 1.0e5 }\nframes_s = [1.0, 3.0]\n";
  const std::string scenes[] = {
      test::make_scene(test::kCathodeMaterials,
                       "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [60.0, 20.0]\n" + sample_common +
                           "[sample.stage]\naxis = \"y\"\n",
                       beam,
                       "[[scan.steps]]\nkind = \"point\"\nat_um = [3.0, 1.0]\nexposure_s = 2.0\nangle_deg = 33.0\n"
                       "[[scan.steps]]\nkind = \"rotate\"\nat_um = [-4.0, 0.0]\nfrom_deg = 0.0\nto_deg = 120.0\n"
                       "speed_deg_s = 30.0\n",
                       output),
      test::make_scene(test::kCathodeMaterials,
                       "voxel_um = [5.0, 5.0, 5.0]\nlateral_um = [40.0, 40.0]\n" + sample_common +
                           "[sample.stage]\naxis = \"z\"\ntilt_deg = 25.0\n",
                       beam,
                       "[[scan.steps]]\nkind = \"xrdct\"\nfrom_deg = 0.0\nto_deg = 150.0\nstep_deg = 50.0\n"
                       "x_from_um = -15.0\nx_to_um = 15.0\nspeed_um_s = 30.0\ny_um = [-5.0, 5.0]\n",
                       output),
  };
  for (const std::string& scene : scenes) {
    auto run = test::run_engine(scene, 2);
    ASSERT_GT(run->results.poses, 1);
    const DoseResults rep = replay_gpu_poses(*run);
    const DoseResults& cpu = run->results;
    EXPECT_EQ(rep.dose_Gy, cpu.dose_Gy);
    EXPECT_EQ(rep.rate_peak_Gy_s, cpu.rate_peak_Gy_s);
    EXPECT_EQ(rep.rate_mean_Gy_s, cpu.rate_mean_Gy_s);
    EXPECT_EQ(rep.crossing_s, cpu.crossing_s);
    EXPECT_EQ(rep.component_dose_Gy, cpu.component_dose_Gy);
    EXPECT_EQ(rep.slot_first_crossing_s, cpu.slot_first_crossing_s);
    EXPECT_EQ(rep.frame_dose_Gy, cpu.frame_dose_Gy);
  }
}

TEST(GpuPipeline, SlabsCoverEveryRowOnceWithinTheBudget) {
  MarchParams p;
  p.nz = 100;
  p.n_thresholds = 4;
  p.n_component_grids = 2;
  p.n_slots = 3;
  const int64_t nx = 50;
  std::vector<uint64_t> rows(37);
  for (size_t j = 0; j < rows.size(); ++j) rows[j] = (j * 7919) % 5000;
  const double row_bytes = slab_column_bytes(p) * nx;
  const double budget = 4 * row_bytes + 6000 * kSlabEventBytes;
  const std::vector<Slab> slabs = plan_slabs(p, rows, nx, budget);
  ASSERT_GT(slabs.size(), 1u);
  int64_t next = 0;
  for (const Slab& s : slabs) {
    EXPECT_EQ(s.row0, next);
    EXPECT_GT(s.row1, s.row0);
    uint64_t events = 0;
    for (int64_t j = s.row0; j < s.row1; ++j) events += rows[j];
    EXPECT_EQ(s.events, events);
    EXPECT_LE((s.row1 - s.row0) * row_bytes + events * kSlabEventBytes, budget);
    next = s.row1;
  }
  EXPECT_EQ(next, static_cast<int64_t>(rows.size()));
  // A budget below one row: no plan (the backend then reports too little GPU memory).
  EXPECT_TRUE(plan_slabs(p, rows, nx, row_bytes / 2).empty());
}

TEST(GpuPipeline, EventsPerRowMatchTheHistory) {
  test::ScratchDir dir;
  auto run = test::run_engine(test::load_random_scene(5, dir), 2);
  const BeamProfile beam = make_beam_profile(run->scene.beam);
  const auto rows = events_per_row(plan_sub_exposures(run->timeline, beam, run->g(), 360.0), beam, run->g());
  EXPECT_EQ(std::accumulate(rows.begin(), rows.end(), uint64_t(0)), static_cast<uint64_t>(run->results.fluence_events));
}

}  // namespace
}  // namespace dosemap
