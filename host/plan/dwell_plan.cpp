#include "host/plan/dwell_plan.h"

#include <ClpConfig.h>
#include <ClpSimplex.hpp>
#include <ClpSolve.hpp>
#include <CoinPackedMatrix.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/common/worker_threads.h"
#include "host/plan/dose_operator.h"

namespace dosemap {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string voxel_text(const GridGeometry& g, int64_t v) {
  return "(" + std::to_string(v % g.dims[0]) + ", " + std::to_string((v / g.dims[0]) % g.dims[1]) + ", " +
         std::to_string(v / g.columns()) + ")";
}

// The rows one thread built, in ray order: sum_p coef * d_p <= rhs, normalised so that the
// ray's binding voxel is at its limit when the left side equals 1 - fixed share.
struct RowBlock {
  std::vector<int64_t> start{0};
  std::vector<int> column;
  std::vector<double> coef, rhs;
  std::vector<int> limit;
  std::vector<int64_t> voxel;
  // Rows of one point, as that point's bound.
  std::vector<double> bound;
  std::vector<int> bound_column, bound_limit;
  std::vector<int64_t> bound_voxel;
  // The first ray (in ray order) whose fixed steps alone reach a limit.
  int64_t over_ray = -1, over_voxel = -1;
  int over_limit = -1;
};

}  // namespace

void check_dwell_optimizable(const Scene& scene, const Timeline& timeline) {
  const SourcePos where{"--optimize dwell", 0, 0};
  if (!at_one_pose(timeline))
    throw UserError(where, "the scan turns the sample (several stage angles): dwell optimisation of such scans is not "
                           "built yet",
                    "plan the scan without --optimize (uniform, per step and per point scales)");
  const bool any = std::any_of(scene.scan.steps.begin(), scene.scan.steps.end(), [](const ScanStep& s) {
    return s.kind == StepKind::kPoint || s.kind == StepKind::kRaster;
  });
  if (!any)
    throw UserError(where, "the scan has no raster or point step: no dwell time to optimise",
                    "plan the scan without --optimize (uniform and per step scales)");
}

DwellPlan plan_dwell(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid_ptr,
                     const Timeline& timeline, const DoseResults& run, const std::vector<DoseLimit>& limits,
                     double flux_factor, double max_scale, int threads) {
  const auto t_build = std::chrono::steady_clock::now();
  DOSEMAP_BUG_CHECK(!limits.empty() && flux_factor > 0 && max_scale > 0, "plan_dwell without limits");
  check_dwell_optimizable(scene, timeline);
  DwellPlan out;
  out.flux_factor = flux_factor;
  out.max_scale = max_scale;

  // The optimised points: those of raster and point steps.
  const ScanPoints scan = scan_points(timeline);
  std::vector<int> column_of(scan.points.size(), -1);
  for (size_t p = 0; p < scan.points.size(); ++p) {
    const StepKind kind = scene.scan.steps[scan.points[p].step].kind;
    if (kind != StepKind::kPoint && kind != StepKind::kRaster) continue;
    column_of[p] = static_cast<int>(out.points.size());
    out.points.push_back(DwellPoint{scan.points[p], 1.0, "", -1, -1});
    out.scene_beam_on_s += scan.points[p].beam_on_s;
  }
  out.point_of.resize(timeline.exposures.size());
  for (size_t e = 0; e < timeline.exposures.size(); ++e) {
    out.point_of[e] = column_of[scan.point_of[e]];
    if (out.point_of[e] < 0) out.fixed_beam_on_s += timeline.exposures[e].duration_s;
  }
  const int columns = static_cast<int>(out.points.size());

  // One row per ray that lights a limited voxel.
  const DoseOperator A(scene, materials, grid_ptr, timeline, threads);
  const std::vector<int64_t>& offset = A.ray_offset();
  const std::vector<uint32_t>& event_exposure = A.event_exposure();
  const std::vector<double>& event_fluence = A.event_fluence_m2();
  const long long rays = static_cast<long long>(offset.size()) - 1;
  const int nthreads = worker_threads(threads);
  std::vector<RowBlock> blocks(nthreads);
#pragma omp parallel num_threads(nthreads)
  {
    RowBlock& b = blocks[omp_get_thread_num()];
    std::vector<RayBinding> bind;
    std::vector<std::pair<int32_t, double>> share;
    // Contiguous blocks of rays in thread order: concatenated, the rows are in ray order for
    // any thread count.
#pragma omp for schedule(static)
    for (long long ray = 0; ray < rays; ++ray) {
      if (offset[ray] == offset[ray + 1]) continue;
      const double total = ray_fluence_m2(A, ray);
      if (!ray_bindings(A, run, limits, ray, total, bind)) continue;
      // The fluence the ray may take: the smallest over the limits.
      double budget = kInf;
      int k_bind = -1;
      for (size_t k = 0; k < limits.size(); ++k)
        if (bind[k].g_max > 0 && limits[k].limit / (flux_factor * bind[k].g_max) < budget) {
          budget = limits[k].limit / (flux_factor * bind[k].g_max);
          k_bind = static_cast<int>(k);
        }
      double fixed = 0;
      share.clear();
      for (int64_t ev = offset[ray]; ev < offset[ray + 1]; ++ev) {
        const int c = out.point_of[event_exposure[ev]];
        if (c < 0)
          fixed += event_fluence[ev];
        else
          share.push_back({c, event_fluence[ev]});
      }
      const double rhs = 1.0 - fixed / budget;
      if (!(rhs > 0)) {
        if (b.over_ray < 0) {
          b.over_ray = ray;
          b.over_voxel = bind[k_bind].voxel;
          b.over_limit = k_bind;
        }
        continue;
      }
      const size_t row_begin = b.column.size();
      for_each_share(share, [&](int32_t c, double f) {
        b.column.push_back(c);
        b.coef.push_back(f / budget);
      });
      const size_t n = b.column.size() - row_begin;
      if (n == 0) continue;
      if (n == 1) {  // one point: its bound
        b.bound_column.push_back(b.column.back());
        b.bound.push_back(rhs / b.coef.back());
        b.bound_limit.push_back(k_bind);
        b.bound_voxel.push_back(bind[k_bind].voxel);
        b.column.pop_back();
        b.coef.pop_back();
        continue;
      }
      b.start.push_back(static_cast<int64_t>(b.column.size()));
      b.rhs.push_back(rhs);
      b.limit.push_back(k_bind);
      b.voxel.push_back(bind[k_bind].voxel);
    }
  }

  // Merge in thread order (= ray order).
  RowBlock all;
  std::vector<double> upper(columns, max_scale);
  std::vector<int> upper_limit(columns, -1);
  std::vector<int64_t> upper_voxel(columns, -1);
  for (int t = 0; t < nthreads; ++t) {
    const RowBlock& b = blocks[t];
    if (b.over_ray >= 0 && all.over_ray < 0) {
      all.over_ray = b.over_ray;
      all.over_voxel = b.over_voxel;
      all.over_limit = b.over_limit;
    }
    const int64_t base = static_cast<int64_t>(all.column.size());
    all.column.insert(all.column.end(), b.column.begin(), b.column.end());
    all.coef.insert(all.coef.end(), b.coef.begin(), b.coef.end());
    for (size_t r = 1; r < b.start.size(); ++r) all.start.push_back(base + b.start[r]);
    all.rhs.insert(all.rhs.end(), b.rhs.begin(), b.rhs.end());
    all.limit.insert(all.limit.end(), b.limit.begin(), b.limit.end());
    all.voxel.insert(all.voxel.end(), b.voxel.begin(), b.voxel.end());
    for (size_t i = 0; i < b.bound.size(); ++i) {
      const int c = b.bound_column[i];
      if (b.bound[i] < upper[c]) {
        upper[c] = b.bound[i];
        upper_limit[c] = b.bound_limit[i];
        upper_voxel[c] = b.bound_voxel[i];
      }
    }
    out.lp.rows_as_bounds += static_cast<int64_t>(b.bound.size());
  }
  blocks.clear();
  if (all.over_ray >= 0) {
    out.not_plannable = "the steps not optimised (fly lines) alone give " + limits[all.over_limit].name + " its limit (" +
                        human_dose(limits[all.over_limit].limit) + ") or more at voxel " +
                        voxel_text(grid_ptr->geometry, all.over_voxel);
    return out;
  }
  // A scan with a period: one repetition's beam-on time of the points plus its fixed time
  // must fit in it.
  std::vector<double> per_repetition(columns);
  for (int c = 0; c < columns; ++c) per_repetition[c] = out.points[c].at.beam_on_s / scene.scan.repeat;
  double period_rhs = kInf;
  if (scene.scan.period_s > 0) {
    double optimised = 0;
    for (double s : per_repetition) optimised += s;
    period_rhs = scene.scan.period_s - (timeline.repetition_s - optimised);
  }

  // t: the largest common factor (closed form, see the header).
  const int64_t rows = static_cast<int64_t>(all.rhs.size());
  double t = max_scale;
  for (int c = 0; c < columns; ++c) t = std::min(t, upper[c]);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = all.start[r]; i < all.start[r + 1]; ++i) sum += all.coef[i];
    t = std::min(t, all.rhs[r] / sum);
  }
  if (std::isfinite(period_rhs)) {
    double sum = 0;
    for (double s : per_repetition) sum += s;
    t = std::min(t, period_rhs / sum);
  }
  if (!(t > 0)) {
    out.not_plannable = "no dwell keeps every limit: the steps not optimised or the period leave no beam-on time";
    return out;
  }
  out.min_scale = t;

  // The programme: maximise sum beam_on_p d_p, t <= d_p <= upper_p, rows.
  const bool with_period = std::isfinite(period_rhs);
  const int64_t lp_rows = rows + (with_period ? 1 : 0);
  std::vector<int64_t> start = all.start;
  std::vector<int> index = all.column;
  std::vector<double> value = all.coef, row_upper = all.rhs;
  if (with_period) {
    for (int c = 0; c < columns; ++c) {
      index.push_back(c);
      value.push_back(per_repetition[c]);
    }
    start.push_back(static_cast<int64_t>(index.size()));
    row_upper.push_back(period_rhs);
  }
  out.lp.rows = lp_rows;
  out.lp.columns = columns;
  out.lp.nonzeros = static_cast<int64_t>(index.size());
  out.lp.solver = std::string("COIN-OR Clp ") + CLP_VERSION;
  std::vector<double> lower(columns, t), objective(columns);
  for (int c = 0; c < columns; ++c) {
    objective[c] = out.points[c].at.beam_on_s;
    upper[c] = std::max(upper[c], t);
  }
  out.lp.build_s = seconds_since(t_build);
  const auto t_solve = std::chrono::steady_clock::now();
  std::vector<double> d(upper);  // without rows every point takes its bound
  if (lp_rows > 0) {
    std::vector<CoinBigIndex> coin_start(start.begin(), start.end());
    std::vector<int> length(lp_rows);
    for (int64_t r = 0; r < lp_rows; ++r) length[r] = static_cast<int>(start[r + 1] - start[r]);
    const CoinPackedMatrix matrix(false, columns, static_cast<int>(lp_rows), static_cast<CoinBigIndex>(index.size()),
                                  value.data(), index.data(), coin_start.data(), length.data());
    std::vector<double> row_lower(lp_rows, -COIN_DBL_MAX);
    ClpSimplex model;
    model.setLogLevel(0);
    model.loadProblem(matrix, lower.data(), upper.data(), objective.data(), row_lower.data(), row_upper.data());
    model.setOptimizationDirection(-1);  // maximise
    ClpSolve options;
    options.setSolveType(ClpSolve::useDual);
    options.setPresolveType(ClpSolve::presolveOn);
    model.initialSolve(options);
    DOSEMAP_BUG_CHECK(model.isProvenOptimal(),
                      "Clp found no optimum (status " + std::to_string(model.status()) + ") of a feasible dwell programme");
    const double* x = model.getColSolution();
    for (int c = 0; c < columns; ++c) d[c] = std::clamp(x[c], lower[c], upper[c]);
  }
  out.lp.solve_s = seconds_since(t_solve);

  // Within the solver's tolerance is not within the limit: scale back any excess exactly.
  std::vector<double> activity(lp_rows, 0.0);
  double excess = 1;
  for (int64_t r = 0; r < lp_rows; ++r) {
    for (int64_t i = start[r]; i < start[r + 1]; ++i) activity[r] += value[i] * d[index[i]];
    if (activity[r] > row_upper[r]) excess = std::min(excess, row_upper[r] / activity[r]);
  }
  if (excess < 1)
    for (int64_t r = 0; r < lp_rows; ++r) activity[r] *= excess;
  for (int c = 0; c < columns; ++c) out.points[c].scale = d[c] * excess;

  // What holds each point: the cap, its own bound, or the most nearly tight row it is in.
  std::vector<double> tightest(columns, -1);
  std::vector<int64_t> tightest_row(columns, -1);
  for (int64_t r = 0; r < lp_rows; ++r) {
    const double ratio = activity[r] / row_upper[r];
    for (int64_t i = start[r]; i < start[r + 1]; ++i)
      if (ratio > tightest[index[i]]) {
        tightest[index[i]] = ratio;
        tightest_row[index[i]] = r;
      }
  }
  constexpr double kTight = 1e-6;
  double beam_on = 0;
  for (int c = 0; c < columns; ++c) {
    DwellPoint& p = out.points[c];
    beam_on += p.scale * p.at.beam_on_s;
    const double own = upper_limit[c] >= 0 ? upper[c] : kInf;
    if (p.scale >= own * (1 - kTight)) {
      p.bound_by = "limit";
      p.binding_limit = upper_limit[c];
      p.binding_voxel = upper_voxel[c];
    } else if (tightest[c] >= 1 - kTight && tightest_row[c] < rows) {
      p.bound_by = "limit";
      p.binding_limit = all.limit[tightest_row[c]];
      p.binding_voxel = all.voxel[tightest_row[c]];
    } else if (tightest[c] >= 1 - kTight) {
      p.bound_by = "period";
    } else if (p.scale >= max_scale * (1 - kTight)) {
      p.bound_by = "max_scale";
    } else {
      p.bound_by = "limit";  // held down by the common factor t through a neighbour's row
      if (tightest_row[c] >= 0 && tightest_row[c] < rows) {
        p.binding_limit = all.limit[tightest_row[c]];
        p.binding_voxel = all.voxel[tightest_row[c]];
      }
    }
  }
  out.beam_on_s = beam_on;
  return out;
}

}  // namespace dosemap
