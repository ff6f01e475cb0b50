// What viewers load at real scale (host/outputs/viewer_grids.h): the dosed region with its
// margin, the preview's reductions (maxima kept, earliest crossings, the hottest voxel's
// material), a cropped dose.vti that keeps every voxel's index and position, and a run
// whose dose.vti holds only the dosed region (--crop auto) or everything (--crop none).
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "host/outputs/dose_curves.h"
#include "host/outputs/dose_statistics.h"
#include "host/outputs/output_files.h"
#include "host/outputs/run_writer.h"
#include "host/outputs/vdb_io.h"
#include "host/outputs/viewer_grids.h"
#include "host/outputs/vti_writer.h"
#include "tests/engine_harness.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

GridGeometry geometry(int64_t nx, int64_t ny, int64_t nz) {
  GridGeometry g;
  g.dims = {nx, ny, nz};
  g.voxel_um = {2, 3, 1};
  g.origin_um = {-nx * 1.0, -ny * 1.5, 0};
  return g;
}

TEST(ViewerGrids, DosedRegionIsTheBoxAboveTheFloorWithAMarginClippedToTheGrid) {
  const GridGeometry g = geometry(100, 80, 60);
  std::vector<MaterialId> material(g.voxels(), 0);
  std::vector<float> dose(g.voxels(), 1e-3f);  // below the floor everywhere
  dose[g.index(40, 30, 10)] = 1e6f;
  dose[g.index(60, 50, 20)] = 200.0f;  // 2e-4 of the max: dosed
  dose[g.index(90, 5, 50)] = 50.0f;    // 5e-5: not
  const IndexBox b = dosed_region(g, material, dose.data(), 1e6);
  // x 40..60 (+4 each side: a tenth of 21 is 2), y 30..50, z 10..20.
  EXPECT_EQ(b.lo, (std::array<int64_t, 3>{36, 26, 6}));
  EXPECT_EQ(b.hi, (std::array<int64_t, 3>{65, 55, 25}));
  // Void voxels never count, however dosed their array entry.
  material[g.index(0, 0, 0)] = kVoidId;
  dose[g.index(0, 0, 0)] = 1e7f;
  EXPECT_EQ(dosed_region(g, material, dose.data(), 1e6).lo, b.lo);
  // Near the edges the margin is clipped; nothing dosed: the whole grid.
  dose[g.index(99, 79, 59)] = 1e6f;
  EXPECT_EQ(dosed_region(g, material, dose.data(), 1e6).hi, g.dims);
  EXPECT_TRUE(dosed_region(g, material, dose.data(), 0).whole(g));
}

TEST(ViewerGrids, PreviewFactorBringsTheRegionUnderTheLimit) {
  IndexBox small;
  small.hi = {100, 100, 100};
  EXPECT_EQ(preview_factor(small), 1);
  IndexBox coin;
  coin.hi = {440, 240, 330};  // 35 M voxels
  const int f = preview_factor(coin);
  EXPECT_EQ(f, 2);
  const int64_t n = ((440 + f - 1) / f) * ((240 + f - 1) / f) * ((330 + f - 1) / f);
  EXPECT_LE(n, kPreviewVoxels);
}

TEST(ViewerGrids, PreviewKeepsMaximaEarliestCrossingsAndTheHottestVoxelsMaterial) {
  const GridGeometry g = geometry(7, 5, 4);
  IndexBox box;
  box.lo = {1, 0, 1};
  box.hi = {7, 5, 4};  // 6 x 5 x 3, a factor 2 leaves partial blocks in y and z
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<MaterialId> material(g.voxels());
  std::vector<float> dose(g.voxels()), rate(g.voxels()), times(g.voxels()), later(g.voxels());
  for (int64_t v = 0; v < g.voxels(); ++v) {
    material[v] = u(rng) < 0.2f ? kVoidId : static_cast<MaterialId>(rng() % 3);
    dose[v] = u(rng) * 100;
    rate[v] = u(rng) * 7;
    times[v] = u(rng) < 0.5f ? -1.0f : u(rng) * 10;
    later[v] = times[v] < 0 || u(rng) < 0.3f ? -1.0f : times[v] + u(rng);
  }
  PreviewSources sources;
  sources.dose_Gy = dose.data();
  sources.rate_peak_Gy_s = rate.data();
  sources.crossing_s = {times.data(), later.data()};
  const PreviewGrid p = preview_grid(g, material, box, 2, sources);
  const GridGeometry& pg = p.grid.geometry;
  EXPECT_EQ(pg.dims, (std::array<int64_t, 3>{3, 3, 2}));
  EXPECT_EQ(pg.voxel_um, (std::array<double, 3>{4, 6, 2}));
  EXPECT_DOUBLE_EQ(pg.origin_um[0], g.origin_um[0] + 1 * 2);
  EXPECT_DOUBLE_EQ(pg.origin_um[2], g.origin_um[2] + 1 * 1);
  ASSERT_EQ(p.earliest_s.size(), 2u);
  for (int64_t pk = 0; pk < pg.dims[2]; ++pk)
    for (int64_t pj = 0; pj < pg.dims[1]; ++pj)
      for (int64_t pi = 0; pi < pg.dims[0]; ++pi) {
        const int64_t pv = pg.index(pi, pj, pk);
        float want_max = -1, want_rate = 0, want_first = -1, want_later = -1;
        int64_t hottest = -1;
        for (int64_t k = box.lo[2] + 2 * pk; k < std::min(box.hi[2], box.lo[2] + 2 * pk + 2); ++k)
          for (int64_t j = box.lo[1] + 2 * pj; j < std::min(box.hi[1], box.lo[1] + 2 * pj + 2); ++j)
            for (int64_t i = box.lo[0] + 2 * pi; i < std::min(box.hi[0], box.lo[0] + 2 * pi + 2); ++i) {
              const int64_t v = g.index(i, j, k);
              if (material[v] == kVoidId) continue;
              if (hottest < 0 || dose[v] > dose[hottest]) hottest = v;
              want_max = std::max(want_max, dose[v]);
              want_rate = std::max(want_rate, rate[v]);
              if (times[v] >= 0 && (want_first < 0 || times[v] < want_first)) want_first = times[v];
              if (later[v] >= 0 && (want_later < 0 || later[v] < want_later)) want_later = later[v];
            }
        SCOPED_TRACE(pv);
        EXPECT_EQ(p.hottest[pv], hottest);
        EXPECT_EQ(p.grid.material[pv], hottest < 0 ? kVoidId : material[hottest]);
        EXPECT_EQ(p.dose_Gy[pv], hottest < 0 ? 0.0f : want_max);
        EXPECT_EQ(p.rate_peak_Gy_s[pv], want_rate);
        EXPECT_EQ(p.earliest_s[0][pv], want_first);
        EXPECT_EQ(p.earliest_s[1][pv], want_later);
      }
}

TEST(ViewerGrids, ACroppedVtiKeepsEveryVoxelsIndexAndPosition) {
  const GridGeometry g = geometry(6, 4, 3);
  IndexBox box;
  box.lo = {2, 1, 1};
  box.hi = {5, 4, 3};
  std::vector<VtiArray> arrays{{"index", VtiArray::kInt32, [](int64_t b, int64_t e, void* out) {
                                  for (int64_t v = b; v < e; ++v) static_cast<int32_t*>(out)[v - b] = static_cast<int32_t>(v);
                                }}};
  std::ostringstream s;
  write_vti(s, g, arrays, "index", box);
  const std::string f = s.str();
  // The grid's own origin and spacing, the box as extent: VTK places cell (i, j, k) where
  // the full file would.
  EXPECT_NE(f.find("WholeExtent=\"2 5 1 4 1 3\" Origin=\"-0.006 -0.006 0\" Spacing=\"0.002 0.003 0.001\""),
            std::string::npos)
      << f.substr(0, 400);
  EXPECT_NE(f.find("<Piece Extent=\"2 5 1 4 1 3\">"), std::string::npos);
  const std::string index = test::vti_array(f, "index");
  ASSERT_EQ(index.size(), 3u * 3 * 2 * 4);
  size_t n = 0;
  for (int64_t k = 1; k < 3; ++k)
    for (int64_t j = 1; j < 4; ++j)
      for (int64_t i = 2; i < 5; ++i, ++n) {
        int32_t v;
        std::memcpy(&v, index.data() + 4 * n, 4);
        EXPECT_EQ(v, g.index(i, j, k));  // x fastest within the box
      }
}

TEST(ViewerGrids, RunCropsDoseVtiToTheDosedRegionUnlessAskedNotTo) {
  // A narrow beam in the middle of a wide foil: most of the grid is never dosed.
  const std::string scene = test::make_scene(
      "[materials.copper]\nformula = \"Cu\"\n",
      "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [400.0, 200.0]\n[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 10.0\n",
      "energy_keV = 27.0\nflux_ph_s = 1e10\nprofile = \"tophat\"\nsize_um = [10.0, 10.0]\n",
      "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n", "[output]\nformats = [\"vti\"]\n");
  test::ScratchDir dir;
  test::write_file(dir / "s.toml", scene);
  for (const char* crop : {"auto", "none"}) {
    SCOPED_TRACE(crop);
    const auto out = dir / crop;
    auto r = test::run_dosemap({"run", (dir / "s.toml").string(), "-o", out.string(), "--crop", crop});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(test::read_file(out / "summary.json"));
    const auto& region = summary["viewers"]["vti_region"];
    const std::string vti = test::read_file(out / "dose.vti");
    if (std::string(crop) == "auto") {
      // The columns the 10 um top-hat touches, x and y in [-5, 5] um: 97..102 and 47..52
      // (the outer ones half covered), and a margin of 4: 14 x 14, all 5 deep.
      EXPECT_EQ(region["i"], nlohmann::json::parse("[93, 107]"));
      EXPECT_EQ(region["j"], nlohmann::json::parse("[43, 57]"));
      EXPECT_EQ(region["k"], nlohmann::json::parse("[0, 5]"));
      EXPECT_NE(vti.find("WholeExtent=\"93 107 43 57 0 5\""), std::string::npos) << vti.substr(0, 300);
      EXPECT_EQ(summary["viewers"]["vti_crop"], "auto");
    } else {
      EXPECT_NE(vti.find("WholeExtent=\"0 200 0 100 0 5\""), std::string::npos) << vti.substr(0, 300);
      EXPECT_EQ(summary["viewers"]["vti_crop"], "none");
    }
    EXPECT_TRUE(summary["viewers"]["preview"].is_null());  // 100 k voxels need none
  }
  auto bad = test::run_dosemap({"run", (dir / "s.toml").string(), "-o", (dir / "x").string(), "--crop", "some"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(ViewerGrids, PreviewFilesHoldTheMaximaAndEarliestCrossingsOfTheRunsGrids) {
  // A raster over a two-material stack, written with a preview above 2 000 voxels.
  auto run = test::run_engine(test::make_scene("[materials.copper]\nformula = \"Cu\"\n" + test::kCathodeMaterials,
                                               "voxel_um = [2.0, 2.0, 2.0]\nlateral_um = [60.0, 40.0]\n"
                                               "[[sample.layers]]\nmaterial = \"copper\"\nthickness_um = 6.0\n"
                                               "[[sample.layers]]\nmaterial = \"cathode\"\nthickness_um = 14.0\n",
                                               "energy_keV = 27.0\nflux_ph_s = 1e11\nprofile = \"gaussian\"\n"
                                               "fwhm_um = [8.0, 8.0]\n",
                                               "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [-10.0, -6.0]\n"
                                               "to_um = [10.0, 6.0]\nstep_um = [5.0, 6.0]\ndwell_s = 2.0\n",
                                               "[output]\nthresholds_Gy = { low = 1e3, high = 1e6 }\n"));
  const GridGeometry& g = run->g();
  const std::vector<float> dose(run->results.dose_Gy.begin(), run->results.dose_Gy.end());
  const std::vector<float> low(run->results.crossing(0), run->results.crossing(0) + g.voxels());
  const RunStatistics stats = compute_statistics(run->materials, *run->grid, run->results, 2);
  test::ScratchDir dir;
  RunDirectory out((dir / "out").string(), false);
  const std::vector<double> frames;
  const std::vector<DoseCurve> curves;
  RunWriteInputs in{run->scene, run->materials, *run->grid, run->timeline, frames, curves, true, true};
  in.preview_above_voxels = 2000;
  const ViewerFiles v = write_run_files(out, in, std::move(run->results), stats.dose_max_Gy);
  out.commit();
  ASSERT_GT(v.preview_factor, 1);
  const IndexBox& box = v.vti_box;
  const GridGeometry& pg = v.preview;
  EXPECT_LE(pg.voxels(), 2000);
  const std::string preview = (dir / "out" / "dose_preview.vdb").string();
  const std::vector<float> pdose = read_float_grid(preview, "dose", pg, -1.0f);
  const std::vector<float> plow = read_float_grid(preview, "t_low_s", pg, -1.0f);
  const int f = v.preview_factor;
  float hottest = 0;
  for (int64_t pk = 0; pk < pg.dims[2]; ++pk)
    for (int64_t pj = 0; pj < pg.dims[1]; ++pj)
      for (int64_t pi = 0; pi < pg.dims[0]; ++pi) {
        float want = -1, first = -1;
        for (int64_t k = box.lo[2] + f * pk; k < std::min(box.hi[2], box.lo[2] + f * (pk + 1)); ++k)
          for (int64_t j = box.lo[1] + f * pj; j < std::min(box.hi[1], box.lo[1] + f * (pj + 1)); ++j)
            for (int64_t i = box.lo[0] + f * pi; i < std::min(box.hi[0], box.lo[0] + f * (pi + 1)); ++i) {
              const int64_t c = g.index(i, j, k);
              want = std::max(want, dose[c]);
              if (low[c] >= 0 && (first < 0 || low[c] < first)) first = low[c];
            }
        const int64_t pv = pg.index(pi, pj, pk);
        ASSERT_EQ(pdose[pv], want) << pi << " " << pj << " " << pk;
        ASSERT_EQ(plow[pv], first) << pi << " " << pj << " " << pk;
        hottest = std::max(hottest, pdose[pv]);
      }
  EXPECT_EQ(hottest, stats.dose_max_Gy);  // the peak survives downsampling
  // dose_preview.vti: the same maxima as cell data.
  const std::string vti = test::read_file(dir / "out" / "dose_preview.vti");
  EXPECT_NE(vti.find("Name=\"dose_gt_low\""), std::string::npos);
  const std::string preview_dose = test::vti_array(vti, "dose");
  ASSERT_EQ(preview_dose.size(), static_cast<size_t>(4 * pg.voxels()));
  for (int64_t pv = 0; pv < pg.voxels(); ++pv) {
    float x;
    std::memcpy(&x, preview_dose.data() + 4 * pv, 4);
    ASSERT_EQ(x, pdose[pv]) << pv;  // no void in this stack
  }
}

}  // namespace
}  // namespace dosemap
