// The run's energy balance, summed ray by ray from what the march reports per ray and
// block (cuda/ray_march.h: energy per unit fluence, and the ray's fluence), by both
// backends in the same order (rays in index order), so the sums do not depend on the
// thread count or the backend's scheduling.
#pragma once

#include <cstdint>

namespace dosemap {

struct EnergyBalance {
  double incident_J = 0;     // entering the sample
  double deposited_J = 0;    // by the march, in double precision
  double transmitted_J = 0;  // leaving the sample in the beam direction
  double other_J = 0;        // scattered or fluorescence photons leaving the sample
  double beam_J = 0;         // delivered by the beam, on or off the sample
  // Largest |incident - deposited - transmitted - other| / incident of any ray of any
  // block: it bounds the same ratio for every exposure (each is a sum of rays' shares).
  double max_ray_imbalance = 0;
};

// Adds a block's rays: unit[ray * 4] (J m^2: incident, deposited, transmitted, other per
// unit fluence) times fluence[ray] (photons/m^2).
void add_block_energy(const double* unit, const double* fluence, int64_t rays, EnergyBalance& e);

}  // namespace dosemap
