// One row per scan point and visit (every exposure of the timeline: a point or raster dwell,
// a fly segment, in every repetition), so that the dose joins a user's own XRD map by index:
// where and when the beam was, and per material (and per component of composites) the
// largest and mean dose in the beam's columns after that visit, the peak dose rate there during it, and how many thresholds the
// largest dose had passed. "The beam's columns": the rays whose centre lies inside the beam's
// half-maximum contour swept along the visit's path (the FWHM ellipse of a Gaussian, the
// rectangle of a top-hat, 2.355 x RMS of an image), and always the ray under the beam centre.
//
// Exact from the run's own results: with one pose the dose a voxel has at time t is its final
// dose times F(t) / F(end), F the cumulative fluence of its ray (the engine's history
// builder, cuda/history_builder.h), and its dose rate during a sub-exposure is its final dose
// times that sub-exposure's fluence / duration / F(end). Scans that turn the sample (several
// poses) have no such factorization: their table is not built yet (`not_built` says so).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

struct PointTable {
  // Per row (visit), in time order. Indices are 0-based: step (in scan.steps), point
  // (within the step, per repetition), repetition.
  std::vector<int32_t> step, point, repetition;
  std::vector<double> x_um, y_um;          // beam centre at the start (lab)
  std::vector<double> x_end_um, y_end_um;  // and at the end (a fly segment)
  std::vector<double> angle_deg;           // stage angle
  std::vector<double> t_start_s, beam_on_s;
  std::vector<int32_t> beam_columns;       // rays counted as the beam's columns
  // Per entry, per row: every material in the grid, then every component grid
  // ("dose:<component>", the dose to that component wherever it is).
  std::vector<std::string> materials;
  std::vector<std::vector<double>> dose_max_Gy, dose_mean_Gy, rate_peak_Gy_s;  // [material][row]; NaN: not in the columns
  std::vector<std::vector<int32_t>> thresholds_passed;  // [material][row]: how many of its thresholds the max dose reached
  std::vector<std::vector<Threshold>> thresholds;       // [material]: its scale, ascending (the component material's)
  std::string not_built;  // why there are no rows (empty when the table is built)

  size_t rows() const { return step.size(); }
};

PointTable point_table(const Scene& scene, const MaterialTable& materials, const VoxelGrid& grid,
                       const Timeline& timeline, const DoseResults& results, int threads);

// points.csv: one line per row; a header naming every column with its unit.
void write_points_csv(const PointTable& t, std::ostream& out);

}  // namespace dosemap
