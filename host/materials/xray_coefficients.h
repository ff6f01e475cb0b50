// Photon interaction coefficients of one element (cm^2/g), built from the xraylib functions
// that agree with NIST XCOM (CS_Photo, CS_Compt, CS_Rayl, CS_Total and the atomic data),
// never from CS_Energy, which is wrong for light elements (docs/physics.md).
#pragma once

#include <stdexcept>
#include <string>

namespace dosemap {

// An xraylib call failed (unknown element, energy out of its tables, bad formula...).
class XrayDataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ElementCoefficients {
  double total = 0;             // mu/rho = photo + coherent + incoherent
  double photo = 0;             // tau/rho, photoabsorption
  double coherent = 0;          // Rayleigh
  double incoherent = 0;        // Compton (bound electrons)
  double compton_transfer = 0;  // incoherent x mean fraction of the photon energy given to the electron
  double fluorescence = 0;      // photo x (mean fluorescence energy emitted per absorption) / E

  // Deposition coefficients of the three dose models (docs/physics.md).
  double mu_en() const { return photo - fluorescence + compton_transfer; }
  double photo_model() const { return photo + compton_transfer; }
  double absorbed_model() const { return photo + incoherent; }
};

ElementCoefficients element_coefficients(int Z, double energy_keV);

// Mean fraction of the photon energy given to a free electron in Compton scattering
// (Klein-Nishina, integrated numerically over angle). f_KN(30 keV) = 0.05204.
double klein_nishina_energy_fraction(double energy_keV);

// The same mean for electrons bound in element Z: the Klein-Nishina cross-section weighted
// by xraylib's incoherent scattering function S(q, Z), which suppresses the small-angle,
// low-transfer scatters that binding forbids. Tends to f_KN where binding does not matter.
double bound_compton_energy_fraction(int Z, double energy_keV);

// Mean energy carried away by fluorescence photons per photoabsorption, over E: K and L1-L3
// vacancies from the photoabsorption jump ratios, K->L radiative transfers and Coster-Kronig
// transitions, each shell's yield times its RadRate-weighted mean line energy.
double fluorescence_energy_fraction(int Z, double energy_keV);

// Atomic number of an element symbol ("Cu" -> 29), or throws XrayDataError.
int atomic_number(const std::string& symbol);
std::string element_symbol(int Z);
// Density of the pure element (g/cm^3), from xraylib.
double element_density_g_cm3(int Z);

}  // namespace dosemap
