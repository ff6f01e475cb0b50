#include "host/materials/xray_coefficients.h"

#include <cmath>
#include <map>
#include <mutex>
#include <utility>

#include <xraylib.h>

namespace dosemap {

namespace {

constexpr double kElectronRestEnergy_keV = 510.99895;  // CODATA 2018
constexpr double kPi = 3.14159265358979323846;

// Calls an xraylib function with its error out-parameter; throws on error.
template <typename F, typename... Args>
double xrl_checked(const char* what, F f, Args... args) {
  xrl_error* err = nullptr;
  double v = f(args..., &err);
  if (err) {
    std::string msg = std::string(what) + ": " + err->message;
    xrl_error_free(err);
    throw XrayDataError(msg);
  }
  return v;
}

// Same, but a missing datum (no such line or shell for this element) reads as 0.
template <typename F, typename... Args>
double xrl_or_zero(F f, Args... args) {
  xrl_error* err = nullptr;
  double v = f(args..., &err);
  if (err) {
    xrl_error_free(err);
    return 0.0;
  }
  return v;
}

// Mean fraction of E transferred to the electron, weighting the Klein-Nishina angular
// distribution by `weight(theta)` (1 for free electrons, S(q,Z) for bound ones).
// Composite Simpson over theta; the integrand is smooth, 2000 intervals give ~1e-9.
template <typename W>
double compton_energy_fraction(double energy_keV, W weight) {
  const double k = energy_keV / kElectronRestEnergy_keV;
  const int n = 2000;
  const double h = kPi / n;
  double num = 0, den = 0;
  for (int i = 0; i <= n; ++i) {
    const double theta = i * h;
    const double c = std::cos(theta);
    const double r = 1.0 / (1.0 + k * (1.0 - c));  // E'/E
    // d(sigma_KN)/d(Omega) up to a constant, times sin(theta) for the solid angle.
    const double dcs = r * r * (r + 1.0 / r - (1.0 - c * c)) * std::sin(theta);
    const double w = (i == 0 || i == n) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    const double g = dcs * weight(theta) * w;
    num += g * (1.0 - r);
    den += g;
  }
  return den > 0 ? num / den : 0.0;
}

double rad_rate_weighted_line_energy(int Z, int first_line, int last_line) {
  double sw = 0, se = 0;
  for (int line = first_line; line >= last_line; --line) {
    const double r = xrl_or_zero(RadRate, Z, line);
    if (r <= 0) continue;
    const double e = xrl_or_zero(LineEnergy, Z, line);
    if (e <= 0) continue;
    sw += r;
    se += r * e;
  }
  return sw > 0 ? se / sw : 0.0;
}

}  // namespace

double klein_nishina_energy_fraction(double energy_keV) {
  return compton_energy_fraction(energy_keV, [](double) { return 1.0; });
}

double bound_compton_energy_fraction(int Z, double energy_keV) {
  return compton_energy_fraction(energy_keV, [&](double theta) {
    if (theta <= 0) return 0.0;
    const double q = xrl_checked("MomentTransf", MomentTransf, energy_keV, theta);
    xrl_error* err = nullptr;
    const double s = SF_Compt(Z, q, &err);
    if (err) {
      // Outside the tabulated momentum range: S -> 0 at q -> 0, S -> Z at large q.
      xrl_error_free(err);
      return q > 1.0 ? static_cast<double>(Z) : 0.0;
    }
    return s;
  });
}

double fluorescence_energy_fraction(int Z, double energy_keV) {
  // Line ranges of xraylib's line macros: K lines KL1..KP5, then L1, L2, L3 lines.
  static const int first_line[4] = {KL1_LINE, L1L2_LINE, L2L3_LINE, L3M1_LINE};
  static const int last_line[4] = {KP5_LINE, L1P5_LINE, L2Q1_LINE, L3Q1_LINE};
  double primary[4] = {0, 0, 0, 0};
  double remaining = 1.0;
  for (int shell = K_SHELL; shell <= L3_SHELL; ++shell) {
    const double edge = xrl_or_zero(EdgeEnergy, Z, shell);
    if (edge <= 0 || energy_keV <= edge) continue;
    const double jump = xrl_or_zero(JumpFactor, Z, shell);
    if (jump <= 1.0) continue;
    primary[shell] = remaining * (1.0 - 1.0 / jump);
    remaining -= primary[shell];
  }
  double yield[4], mean_line_keV[4];
  for (int s = 0; s < 4; ++s) {
    yield[s] = xrl_or_zero(FluorYield, Z, s);
    mean_line_keV[s] = yield[s] > 0 ? rad_rate_weighted_line_energy(Z, first_line[s], last_line[s]) : 0.0;
  }
  double vacancy[4] = {primary[0], primary[1], primary[2], primary[3]};
  // A K vacancy filled radiatively from L1/L2/L3 leaves a vacancy there.
  const double k_radiative = primary[0] * yield[0];
  vacancy[1] += k_radiative * xrl_or_zero(RadRate, Z, KL1_LINE);
  vacancy[2] += k_radiative * xrl_or_zero(RadRate, Z, KL2_LINE);
  vacancy[3] += k_radiative * xrl_or_zero(RadRate, Z, KL3_LINE);
  // Coster-Kronig transitions move L1 and L2 vacancies to higher L subshells.
  vacancy[2] += xrl_or_zero(CosKronTransProb, Z, FL12_TRANS) * vacancy[1];
  vacancy[3] += xrl_or_zero(CosKronTransProb, Z, FL13_TRANS) * vacancy[1] +
                xrl_or_zero(CosKronTransProb, Z, FL23_TRANS) * vacancy[2];
  double emitted_keV = 0;
  for (int s = 0; s < 4; ++s) emitted_keV += vacancy[s] * yield[s] * mean_line_keV[s];
  return emitted_keV / energy_keV;
}

ElementCoefficients element_coefficients(int Z, double energy_keV) {
  static std::mutex mutex;
  static std::map<std::pair<int, double>, ElementCoefficients> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find({Z, energy_keV});
    if (it != cache.end()) return it->second;
  }
  ElementCoefficients c;
  c.photo = xrl_checked("CS_Photo", CS_Photo, Z, energy_keV);
  c.coherent = xrl_checked("CS_Rayl", CS_Rayl, Z, energy_keV);
  c.incoherent = xrl_checked("CS_Compt", CS_Compt, Z, energy_keV);
  c.total = c.photo + c.coherent + c.incoherent;
  c.compton_transfer = c.incoherent * bound_compton_energy_fraction(Z, energy_keV);
  c.fluorescence = c.photo * fluorescence_energy_fraction(Z, energy_keV);
  std::lock_guard<std::mutex> lock(mutex);
  cache[{Z, energy_keV}] = c;
  return c;
}

int atomic_number(const std::string& symbol) {
  xrl_error* err = nullptr;
  int z = SymbolToAtomicNumber(symbol.c_str(), &err);
  if (err) {
    std::string msg = err->message;
    xrl_error_free(err);
    throw XrayDataError(msg);
  }
  return z;
}

std::string element_symbol(int Z) {
  xrl_error* err = nullptr;
  char* s = AtomicNumberToSymbol(Z, &err);
  if (err) {
    xrl_error_free(err);
    return "Z" + std::to_string(Z);
  }
  std::string out = s;
  xrlFree(s);
  return out;
}

double element_density_g_cm3(int Z) { return xrl_checked("ElementDensity", ElementDensity, Z); }

}  // namespace dosemap
