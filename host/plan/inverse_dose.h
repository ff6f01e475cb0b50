// Inverse dose (`dosemap plan`, issue 12 part 1): how far the scan's beam-on times may be
// scaled before a limited material reaches its limit, computed exactly from one run instead
// of re-running in a loop. Dose is linear in every exposure's fluence; at one stage pose a
// voxel's dose is D_v = G_v F_r, with F_r the fluence on its ray and G_v the dose per unit
// fluence there (cuda/ray_march.h), so
// - the whole scan scaled by s gives s D_v: uniform_scale = min over limits of limit / max D;
// - one point (or step) scaled by s, the others unchanged, gives on each ray
//   G_v (F_r + (s - 1) F_r^p), F_r^p its share of the ray's fluence: the limit holds while
//   s <= 1 + (limit / max_v G_v - F_r) / F_r^p on every ray it lights, the most dosed voxel
//   of the limited material on each ray binding;
// - a rate limit scales the flux (the attenuator): flux_scale = min of limit / peak rate.
// Turned scans (several poses) have no such per-ray form: host/plan/turned_inverse_dose.h.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/plan/limited_rays.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/dose_engine.h"

namespace dosemap {

// Parses and checks one limit against the scene's materials; throws UserError (the text as
// the place, what is wrong, the names that would do) for an unknown name, a component the
// material does not hold, a non-positive or non-finite value.
// A material that fills no voxel (named by no layer or shape) is an error too: one that is
// only a component of composites says which limit was meant (cathode:NMC811).
DoseLimit parse_limit(const std::string& text, bool rate, const Scene& scene, const MaterialTable& materials,
                      const TransportTables& tables);

struct LimitOutcome {
  DoseLimit limit;
  double max_value = 0;      // the scene as written: the largest dose (rate) among the limited voxels
  int64_t max_voxel = -1;
  double scale = std::numeric_limits<double>::infinity();  // limit / max_value
  double first_reached_s = -1;  // when a limited voxel first reached the limit (dose limits); -1 never
};

struct ExposureScale {
  int32_t step = 0, point = -1;  // point -1: the whole step
  double x_um = 0, y_um = 0;     // the point's beam centre (first visit)
  double beam_on_s = 0;          // over every repetition
  double scale = std::numeric_limits<double>::infinity();  // +inf: lights no limited voxel
  int binding_limit = -1;        // index into InverseDose::limits
  int64_t binding_voxel = -1;
  // The other exposures alone already reach the binding limit on a ray this one lights: no
  // scale of this one keeps it (scale 0); the whole scan must be scaled (uniform_scale).
  bool others_pass = false;
};

// Lowers x.scale to max(0, raw) when that is smaller (ties: the lower voxel, so that the
// result is the same for any thread count), with what binds it; raw <= 0 means the other
// exposures alone already reach the limit (others_pass).
void tighten_scale(ExposureScale& x, double raw, int limit, int64_t voxel);

// The smallest scale of each entry over per-thread copies (ties: the lower voxel).
void merge_scales(std::vector<ExposureScale>& into, const std::vector<ExposureScale>& from);

struct InverseDose {
  std::vector<LimitOutcome> limits, rate_limits;
  double uniform_scale = std::numeric_limits<double>::infinity();  // min over dose limits
  double flux_scale = std::numeric_limits<double>::infinity();     // min over rate limits
  std::vector<ExposureScale> steps, points;
};

// `results` from a run of `scene` whose material thresholds hold one label per dose limit,
// in order (plan_thresholds): their crossing grids give first_reached_s.
InverseDose inverse_dose(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
                         const Timeline& timeline, const DoseResults& results, const std::vector<DoseLimit>& limits,
                         const std::vector<DoseLimit>& rate_limits, int threads);

// The scene with each dose limit as a threshold ("limit1", ...) of its material (of the
// component's material for a component limit) and no other thresholds: the run's crossing
// grids then say when each limit is first reached. Doses are unchanged.
Scene plan_thresholds(Scene scene, const std::vector<DoseLimit>& limits);

}  // namespace dosemap
