// The CPU's vectorized march of grid columns (host/transport/column_group_march.h) equals
// march_ray, the one-ray-at-a-time march the GPU runs, bit for bit: on random scenes
// (layers, composites with component grids, spectra, thresholds, frames, every beam
// profile and scan kind) every grid, compared as bits.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/transport/column_group_march.h"
#include "host/transport/cpu_backend.h"
#include "host/transport/exposure_plan.h"
#include "host/transport/fluence_history.h"
#include "host/transport/stage_poses.h"
#include "tests/engine_harness.h"
#include "tests/random_scene.h"

namespace dosemap {
namespace {

template <typename T>
void expect_same_bits(const T* a, const T* b, size_t n, const char* what, int seed) {
  for (size_t i = 0; i < n; ++i)
    if (std::memcmp(a + i, b + i, sizeof(T)) != 0) {
      ADD_FAILURE() << "seed " << seed << ": " << what << "[" << i << "] " << a[i] << " (column march) != " << b[i]
                    << " (march_ray)";
      return;
    }
}

TEST(ColumnGroupMarch, EqualsMarchRayBitForBitOnRandomScenes) {
  int compared = 0;
  for (int seed = 1; seed <= 40; ++seed) {
    test::ScratchDir dir;
    const Scene scene = test::load_random_scene(seed, dir);
    auto run = test::run_engine(scene, 2);  // the CPU backend: the column march
    const TransportParams& in = run->params;
    const GridGeometry& g = run->g();
    const std::vector<SubExposure> subs =
        plan_sub_exposures(run->timeline, in.beam, g, in.turn_substep_deg);
    const std::vector<PoseBlock> blocks = pose_blocks(subs);
    ASSERT_EQ(blocks.size(), 1u) << "seed " << seed << ": a scene without a stage is one block";
    const RayLattice L = pose_lattice(stage_pose(in.stage, g, blocks[0].angle_deg), g);
    ASSERT_TRUE(grid_columns_lattice(L));
    TransportTables tables = in.tables;
    tables.set_segment(L.segment_um * 1e-6, L.cell_area_m2);
    const MarchParams p = tables.params();
    const FluenceHistory h = build_fluence_history(subs.data(), static_cast<int64_t>(subs.size()), in.beam, L, 1, nullptr);

    const int64_t voxels = g.voxels(), columns = g.columns();
    std::vector<float> dose(voxels), peak(voxels), mean(voxels), cross(voxels * p.n_thresholds),
        comp(voxels * p.n_component_grids), slots(columns * p.n_slots * p.n_thresholds), frames(voxels * p.n_frames);
    std::vector<double> energy(ray_count(L) * 4), fluence(ray_count(L));
    const DoseState st{dose.data(), peak.data(),   mean.data(),   cross.data(),   comp.data(),
                       slots.data(), frames.data(), energy.data(), fluence.data()};
    mark_nothing_crossed_cpu(p, st, voxels, columns, 1);
    std::vector<double> line_t(kMaxSpectrumLines);
    for (long long r = 0; r < ray_count(L); ++r)
      march_ray(p, L, run->grid->material.data(), h.view(), st, r, LineTransmission{line_t.data(), 1});

    const DoseResults& c = run->results;
    expect_same_bits(c.dose_Gy.data(), dose.data(), dose.size(), "dose", seed);
    expect_same_bits(c.rate_peak_Gy_s.data(), peak.data(), peak.size(), "peak rate", seed);
    expect_same_bits(c.rate_mean_Gy_s.data(), mean.data(), mean.size(), "mean rate", seed);
    expect_same_bits(c.crossing_s.data(), cross.data(), cross.size(), "crossing time", seed);
    expect_same_bits(c.component_dose_Gy.data(), comp.data(), comp.size(), "component dose", seed);
    expect_same_bits(c.slot_first_crossing_s.data(), slots.data(), slots.size(), "component crossing", seed);
    expect_same_bits(c.frame_dose_Gy.data(), frames.data(), frames.size(), "frame dose", seed);
    compared += p.n_component_grids > 0 && p.n_thresholds > 0 && p.n_frames > 0;
  }
  EXPECT_GT(compared, 3) << "scenes with components, thresholds and frames together";
}

}  // namespace
}  // namespace dosemap
