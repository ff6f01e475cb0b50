// The GPU backend's slab decomposition of a beam along +z, run on the CPU: each slab's
// histories built by the shared builder (cuda/history_builder.h) on its rows of columns,
// marched as a grid of cols x 1 columns into packed slab buffers, and copied back plane by
// plane as the device's 2-D copies do. It must reproduce the CPU backend exactly, whatever
// the slabs: this checks the GPU path's index arithmetic where no GPU is available (the
// build machine, CI). The GPU itself is checked by cuda_parity_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "cuda/history_builder.h"
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

// Runs the GPU's slab decomposition on the CPU for the given slab budget.
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
  std::vector<double> energy(columns * 4);
  const double zero[3] = {0, 0, 0};
  const RayLattice columns_lattice = pose_lattice(make_pose(1, 0.0, 0.0, zero), g);  // the GPU's slab rays
  for (const Slab& slab : rep.slabs) {
    const long long cols = (slab.row1 - slab.row0) * nx, col0 = slab.row0 * nx;
    const FluenceHistory history =
        build_fluence_history(HistoryJob{subs.data(), n, beam, columns_lattice, slab.row0, slab.row1}, 2, nullptr);
    EXPECT_EQ(static_cast<uint64_t>(history.events()), slab.events) << "slab rows " << slab.row0 << "-" << slab.row1;
    // The march on the slab as a grid of cols x 1 columns, into packed slab buffers.
    std::vector<uint16_t> mat(cols * nz);
    for (long long k = 0; k < nz; ++k)
      std::copy_n(run.grid->material.data() + k * columns + col0, cols, mat.data() + k * cols);
    std::vector<float> dose(cols * nz), peak(cols * nz), mean(cols * nz), cross(cols * nz * T), comp(cols * nz * C),
        slot(cols * S * T), frames(cols * nz * params.n_frames);
    std::vector<double> en(cols * 4), ray_fluence(cols);
    const MarchParams& p = params;
    const long long slab_dims[3] = {cols, 1, nz};
    const RayLattice L = make_ray_lattice(make_pose(1, 0.0, 0.0, zero), slab_dims, g.voxel_um.data(), zero);
    const HistoryView h = history.view();
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

TEST(GpuPipeline, SlabsMarchedOnTheCpuReproduceTheCpuBackendInOneSlabOrMany) {
  for (int seed = 1; seed <= 12; ++seed) {
    test::ScratchDir dir;
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto run = test::run_engine(test::load_random_scene(seed, dir), 2);
    const DoseResults& cpu = run->results;
    const double whole = 1e12;                                // one slab
    // At most three rows each: the grids have at least 10 rows.
    const BeamProfile beam = make_beam_profile(run->scene.beam);
    const std::vector<uint64_t> rows = events_per_row(plan_sub_exposures(run->timeline, beam, run->g(), 360.0), beam, run->g());
    const double small = 3 * (slab_column_bytes(cpu.tables.params()) * run->g().dims[0] +
                              kSlabEventBytes * static_cast<double>(*std::max_element(rows.begin(), rows.end())));
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
