#include "host/transport/energy_balance.h"

#include <algorithm>
#include <cmath>

namespace dosemap {

void add_block_energy(const double* unit, const double* fluence, int64_t rays, EnergyBalance& e) {
  for (int64_t r = 0; r < rays; ++r) {
    const double f = fluence[r];
    if (f <= 0) continue;
    const double* u = unit + r * 4;
    e.incident_J += u[0] * f;
    e.deposited_J += u[1] * f;
    e.transmitted_J += u[2] * f;
    e.other_J += u[3] * f;
    if (u[0] > 0) e.max_ray_imbalance = std::max(e.max_ray_imbalance, std::fabs(u[0] - u[1] - u[2] - u[3]) / u[0]);
  }
}

}  // namespace dosemap
