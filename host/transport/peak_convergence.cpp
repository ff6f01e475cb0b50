#include "host/transport/peak_convergence.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "host/common/text.h"
#include "host/transport/transport_params.h"

namespace dosemap {

namespace {

// The beam's full width along lab axis a (x 0, y 1): FWHM, top-hat size, image extent.
double beam_width_um(const BeamSpec& b, int a) {
  switch (b.profile) {
    case ProfileKind::kGaussian: return b.fwhm_um[a];
    case ProfileKind::kTopHat: return b.size_um[a];
    case ProfileKind::kImage: return (a == 0 ? b.image.nx : b.image.ny) * b.image.pixel_um[a];
  }
  return 0;
}

// Columns each side of the hottest one: the beam's full width plus one (`wide`), or half of
// it plus one (the narrowest region that still holds the beam's centre part).
std::array<int64_t, 2> region_radius(const Scene& scene, const GridGeometry& g, bool wide) {
  std::array<int64_t, 2> r{};
  for (int a = 0; a < 2; ++a) {
    const double w = beam_width_um(scene.beam, a) * (wide ? 1.0 : 0.5);
    r[a] = std::min<int64_t>(g.dims[a], static_cast<int64_t>(std::ceil(w / g.voxel_um[a])) + 1);
  }
  return r;
}

int64_t halved_voxels(const std::array<int64_t, 2>& r, const GridGeometry& g, int64_t depth) {
  const int64_t nx = std::min(g.dims[0], 2 * r[0] + 1), ny = std::min(g.dims[1], 2 * r[1] + 1);
  return 8 * nx * ny * depth;
}

}  // namespace

std::optional<Diagnostic> convergence_not_possible(const Scene& scene, const Timeline& timeline, const GridGeometry& g) {
  if (scene.sample.stage.present) {
    bool turned = scene.sample.stage.tilt_deg != 0;
    for (const Exposure& e : timeline.exposures) turned = turned || e.turning() || e.angle0_deg != 0;
    if (turned)
      return Diagnostic{scene.sample.stage.where,
                        "--convergence needs a scan that keeps the sample unturned and untilted: turned, the beam "
                        "crosses voxel columns and a region of the sample cannot be transported alone",
                        "estimate the voxel size on an unturned scan of the same sample and beam (one angle), or "
                        "run without --convergence and compare a run on halved voxels"};
  }
  const int64_t worst = halved_voxels(region_radius(scene, g, false), g, g.dims[2]);
  if (worst > kMaxHalvedVoxels)
    return Diagnostic{scene.sample.voxel_where,
                      "--convergence: the hottest region on halved voxels could hold " + group_digits(worst) +
                          " voxels, more than the " + group_digits(kMaxHalvedVoxels) + " it may use",
                      "estimate it on a thinner copy of the sample (the layers down to the one you care about)"};
  return std::nullopt;
}

PeakConvergence estimate_peak_convergence(const Scene& scene, const MaterialTable& materials, const VoxelGrid& grid,
                                          const Timeline& timeline, const DoseResults& results, int64_t hottest_voxel,
                                          const EngineOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const GridGeometry& g = grid.geometry;
  DOSEMAP_BUG_CHECK(hottest_voxel >= 0 && hottest_voxel < g.voxels(), "no hottest voxel");
  const int64_t i = hottest_voxel % g.dims[0], j = (hottest_voxel / g.dims[0]) % g.dims[1], k = hottest_voxel / g.columns();
  PeakConvergence c;
  c.k1 = std::min(g.dims[2], k + 2);  // what lies downstream never changes the dose above it
  std::array<int64_t, 2> r = region_radius(scene, g, true);
  if (halved_voxels(r, g, c.k1) > kMaxHalvedVoxels) r = region_radius(scene, g, false);
  DOSEMAP_BUG_CHECK(halved_voxels(r, g, c.k1) <= kMaxHalvedVoxels, "convergence region checked before the run");
  c.i0 = std::max<int64_t>(0, i - r[0]);
  c.i1 = std::min(g.dims[0], i + r[0] + 1);
  c.j0 = std::max<int64_t>(0, j - r[1]);
  c.j1 = std::min(g.dims[1], j + r[1] + 1);

  GridGeometry& h = c.halved;
  h.dims = {2 * (c.i1 - c.i0), 2 * (c.j1 - c.j0), 2 * c.k1};
  for (int a = 0; a < 3; ++a) h.voxel_um[a] = g.voxel_um[a] / 2;
  h.origin_um = {g.origin_um[0] + c.i0 * g.voxel_um[0], g.origin_um[1] + c.j0 * g.voxel_um[1], 0.0};
  const TransportParams params = make_transport_params(materials, std::make_shared<const VoxelGrid>(voxelize(scene, h)),
                                                       scene.beam, scene.sample.stage, threshold_scale(scene));
  EngineOptions same = options;  // the backend the run used (and no second note about it)
  same.backend = results.backend == "cuda" ? Backend::kCuda : Backend::kCpu;
  const DoseResults fine = compute_dose(params, timeline, same);

  const size_t n = materials.materials.size();
  std::vector<double> coarse_max(n, -1), fine_max(n, -1);
  for (int64_t kk = 0; kk < c.k1; ++kk)
    for (int64_t jj = c.j0; jj < c.j1; ++jj)
      for (int64_t ii = c.i0; ii < c.i1; ++ii) {
        const int64_t v = g.index(ii, jj, kk);
        const MaterialId m = grid.material[v];
        if (m != kVoidId) coarse_max[m] = std::max(coarse_max[m], static_cast<double>(results.dose_Gy[v]));
      }
  for (int64_t v = 0; v < h.voxels(); ++v) {
    const MaterialId m = params.grid->material[v];
    if (m != kVoidId) fine_max[m] = std::max(fine_max[m], static_cast<double>(fine.dose_Gy[v]));
  }
  for (size_t m = 0; m < n; ++m) {
    // A material present on one grid only (a shape thinner than a coarse voxel) has no pair.
    if (coarse_max[m] <= 0 || fine_max[m] <= 0) continue;
    MaterialConvergence mc;
    mc.name = materials.materials[m].name;
    mc.dose_max_Gy = coarse_max[m];
    mc.halved_dose_max_Gy = fine_max[m];
    const double change = fine_max[m] - coarse_max[m];
    mc.low_Gy = change >= 0 ? fine_max[m] : fine_max[m] + change;
    mc.high_Gy = change >= 0 ? fine_max[m] + change : fine_max[m];
    c.materials.push_back(mc);
  }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

}  // namespace dosemap
