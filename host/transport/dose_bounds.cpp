#include "host/transport/dose_bounds.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "host/common/text.h"
#include "host/transport/unit_conversions.h"

namespace dosemap {

DoseBounds dose_bounds(const Scene& scene, const MaterialTable& mt, const GridGeometry& g, const Timeline& tl) {
  // Dose per unit fluence of any voxel or component: sum over lines of w_e E_e T m (c/rho)
  // with T, m <= 1 and sum w_e = 1 is at most the largest E_e (c/rho)_e.
  double per_fluence_Gy_m2 = 0;
  for (const Material& m : mt.materials)
    for (const MaterialCoefficients& c : m.lines)
      per_fluence_Gy_m2 = std::max(per_fluence_Gy_m2, c.energy_keV * kJoulePerKeV * c.deposition(mt.model) * kM2KgPerCm2G);
  // A ray's cross-section: a column's without a stage; at any pose at least the smallest
  // face of a voxel times 1/sqrt(3) (the dominant axis' share of the beam direction).
  double ray_area_m2 = g.column_area_m2();
  if (scene.sample.stage.present) {
    const auto& v = g.voxel_um;
    ray_area_m2 = std::min({v[0] * v[1], v[1] * v[2], v[0] * v[2]}) * 1e-12 / std::sqrt(3.0);
  }
  DoseBounds b;
  b.dose_Gy = tl.photons / ray_area_m2 * per_fluence_Gy_m2;
  // A sub-exposure of duration dt puts at most flux dt photons on a ray (times a replayed
  // log's monitor factor, which may exceed 1).
  double most_flux = 1;
  for (const ScanStep& s : scene.scan.steps)
    if (s.kind == StepKind::kLog && !s.log->flux_factor.empty())
      most_flux = std::max(most_flux, *std::max_element(s.log->flux_factor.begin(), s.log->flux_factor.end()));
  b.rate_Gy_s = scene.beam.flux_ph_s * most_flux / ray_area_m2 * per_fluence_Gy_m2;
  return b;
}

void check_dose_bounds(const Scene& scene, const DoseBounds& bounds, const Timeline& tl) {
  const bool dose_fits = bounds.dose_Gy <= FLT_MAX, rate_fits = bounds.rate_Gy_s <= FLT_MAX;
  if (dose_fits && rate_fits) return;
  const std::string what = !dose_fits ? "dose of up to " + fmt_g(bounds.dose_Gy, 3) + " Gy"
                                      : "dose rate of up to " + fmt_g(bounds.rate_Gy_s, 3) + " Gy/s";
  throw UserError(scene.beam.flux_where,
                  "[beam] flux_ph_s = " + fmt_g(scene.beam.flux_ph_s, 4) + " with " + human_duration(tl.beam_on_s) +
                      " of beam can give a " + what + " in one voxel, beyond the largest value dosemap stores (" +
                      fmt_g(FLT_MAX, 3) + ")",
                  "check flux_ph_s and the exposure times (seconds), or use larger voxels in x and y");
}

}  // namespace dosemap
