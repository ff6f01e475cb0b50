#include "host/cli/scene_warnings.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "host/common/text.h"

namespace dosemap {

namespace {

// Smallest beam size and largest flux experiments use: a 50 nm focus (nano-probes reach
// ~30-50 nm FWHM), and ~1e14 ph/s at the brightest monochromatic beamlines (a pink beam
// up to ~1e15 ph/s).
constexpr double kSmallestBeam_um = 0.05;
constexpr double kLargestFlux_ph_s = 1e15;
// Thinnest layer and finest raster step that are not a length in mm typed in um.
constexpr double kThinnestLayer_um = 0.1;
constexpr double kFinestStep_um = 0.05;
// The voxel mean of the peak must stay within 10 % of the beam's own peak wherever the
// beam falls: a Gaussian needs about 3 voxels across its FWHM.
constexpr double kResolvedFraction = 0.9;
constexpr double kVoxelsPerFwhm = 3.0;
constexpr double kVoxelsPerLayer = 2.0;

const char* axis_name(int a) { return a == 0 ? "x" : a == 1 ? "y" : "z"; }

// The largest voxel edge that can lie across the beam along lab axis `lab` (0 x, 1 y): the
// sample's x or y without a stage; with one, every axis the turns bring across the beam.
double voxel_across_um(const SceneSetup& s, int lab, int* sample_axis) {
  const StageSpec& st = s.scene.sample.stage;
  const auto& v = s.geometry.voxel_um;
  bool across[3] = {lab == 0, lab == 1, false};
  if (st.present) {
    if (st.axis == 1 && lab == 0) across[2] = true;                    // turns about y: x and z across lab x
    if (st.axis == 0 && lab == 1) across[2] = true;                    // turns about x: y and z across lab y
    if (st.axis == 2) across[0] = across[1] = true;                    // turns about z: x and y
    if (st.axis == 2 && st.tilt_deg != 0) across[2] = true;            // tilted: z too
  }
  int best = lab;
  for (int a = 0; a < 3; ++a)
    if (across[a] && v[a] > v[best]) best = a;
  *sample_axis = best;
  return v[best];
}

// The voxel mean over the beam's peak on one axis, as a fraction of the beam's own peak:
// centred on a voxel, and on a voxel edge (the worst case).
struct PeakFraction {
  double centred, edge;
};
PeakFraction gaussian_peak_fraction(double sigma_um, double voxel_um) {
  const double per_voxel = sigma_um * std::sqrt(2 * M_PI) / voxel_um;  // peak density x voxel / fraction
  return {std::erf(voxel_um / (2 * std::sqrt(2.0) * sigma_um)) * per_voxel,
          0.5 * std::erf(voxel_um / (std::sqrt(2.0) * sigma_um)) * per_voxel};
}
PeakFraction tophat_peak_fraction(double size_um, double voxel_um) {
  return {std::min(size_um, voxel_um) / voxel_um, std::min(0.5 * size_um, voxel_um) / voxel_um};
}

std::string percent(double f) { return fmt_g(100 * f, 2) + " %"; }

void beam_warnings(const SceneSetup& s, std::vector<Diagnostic>& out) {
  const BeamSpec& b = s.scene.beam;
  const SourcePos& at = b.profile_where;
  // Plausibility: a beam narrower than any focus is a size in mm typed in um.
  if (b.profile != ProfileKind::kImage) {
    const auto& size = b.profile == ProfileKind::kGaussian ? b.fwhm_um : b.size_um;
    const char* key = b.profile == ProfileKind::kGaussian ? "fwhm_um" : "size_um";
    if (std::min(size[0], size[1]) < kSmallestBeam_um)
      out.push_back({at,
                     std::string(key) + " = [" + fmt_g(size[0], 6) + ", " + fmt_g(size[1], 6) + "] um is below any X-ray focus in use (about " +
                         fmt_g(1000 * kSmallestBeam_um, 3) + " nm at the finest)",
                     "if you meant mm, write " + std::string(key) + " = [" + fmt_g(1000 * size[0], 6) + ", " +
                         fmt_g(1000 * size[1], 6) + "]"});
  }
  if (b.flux_ph_s > kLargestFlux_ph_s)
    out.push_back({b.flux_where,
                   "flux_ph_s = " + fmt_g(b.flux_ph_s, 3) + " is far above what beamlines deliver (up to about 1e14 ph/s " +
                       "monochromatic, 1e15 pink)",
                   "check the exponent"});
  // Resolution: the peak dose is a voxel mean.
  for (int lab = 0; lab < 2; ++lab) {
    int sample_axis = lab;
    const double voxel = voxel_across_um(s, lab, &sample_axis);
    PeakFraction f{1, 1};
    double width = 0, finest = 0;
    std::string what;
    if (b.profile == ProfileKind::kTopHat) {
      width = b.size_um[lab];
      f = tophat_peak_fraction(width, voxel);
      what = "the top-hat's " + fmt_g(width, 4) + " um along " + axis_name(lab);
    } else {
      const double sigma = b.profile == ProfileKind::kGaussian ? b.fwhm_um[lab] / 2.3548200450309493 : s.beam.image_rms_um[lab];
      width = 2.3548200450309493 * sigma;
      f = gaussian_peak_fraction(sigma, voxel);
      what = std::string(b.profile == ProfileKind::kGaussian ? "the beam's FWHM" : "the beam image's width (2.355 x RMS)") +
             " along " + axis_name(lab) + " (" + fmt_g(width, 4) + " um)";
    }
    finest = width / kVoxelsPerFwhm;
    if (width >= kVoxelsPerFwhm * voxel && f.edge >= kResolvedFraction) continue;
    if (width < kSmallestBeam_um) continue;  // already said: a unit slip, not a resolution question
    out.push_back({at,
                   what + " spans " + fmt_g(width / voxel, 2) + " voxel(s) of " + fmt_g(voxel, 4) + " um (sample " +
                       axis_name(sample_axis) + "): the peak dose is a voxel mean, " + percent(f.centred) +
                       " of the beam's peak along " + axis_name(lab) + " with the beam centred on a voxel, " +
                       percent(f.edge) + " on a voxel edge",
                   "for the peak dose use voxels of at most " + fmt_g(finest, 3) + " um along sample " +
                       axis_name(sample_axis) + " (" + fmt_g(kVoxelsPerFwhm, 2) +
                       " per beam width), or measure the error with dosemap run --convergence"});
  }
}

void sample_warnings(const SceneSetup& s, std::vector<Diagnostic>& out) {
  const SampleSpec& smp = s.scene.sample;
  const double dz = s.geometry.voxel_um[2];
  for (size_t i = 0; i < smp.layers.size(); ++i) {
    const LayerSpec& l = smp.layers[i];
    const std::string name = "[[sample.layers]] #" + std::to_string(i + 1) + " (" + l.material + ")";
    if (l.thickness_um < kThinnestLayer_um)
      out.push_back({l.thickness_where,
                     name + " thickness_um = " + fmt_g(l.thickness_um, 6) + " is thinner than " +
                         fmt_g(1000 * kThinnestLayer_um, 3) + " nm",
                     "if you meant mm, write thickness_um = " + fmt_g(1000 * l.thickness_um, 6)});
    else if (l.thickness_um < kVoxelsPerLayer * dz)
      out.push_back({l.thickness_where,
                     name + " is " + fmt_g(l.thickness_um / dz, 2) + " voxel(s) of " + fmt_g(dz, 4) +
                         " um thick: its dose is one voxel's mean, its gradient along the beam not resolved",
                     "use voxel_um z of at most " + fmt_g(l.thickness_um / kVoxelsPerLayer, 3) +
                         " um where its depth profile matters"});
  }
}

void scan_warnings(const SceneSetup& s, std::vector<Diagnostic>& out) {
  for (const ScanStep& st : s.scene.scan.steps) {
    if (st.kind == StepKind::kRaster && std::min(st.step_um[0], st.step_um[1]) < kFinestStep_um)
      out.push_back({st.where,
                     "the raster's step_um = [" + fmt_g(st.step_um[0], 6) + ", " + fmt_g(st.step_um[1], 6) +
                         "] is finer than any scanning stage moves (" + fmt_g(1000 * kFinestStep_um, 3) + " nm)",
                     "if you meant mm, write step_um = [" + fmt_g(1000 * st.step_um[0], 6) + ", " +
                         fmt_g(1000 * st.step_um[1], 6) + "]"});
    if (st.kind == StepKind::kXrdct && !st.continuous && st.x_step_um > 0 && st.x_step_um < kFinestStep_um)
      out.push_back({st.where,
                     "the XRD-CT's x_step_um = " + fmt_g(st.x_step_um, 6) + " is finer than any scanning stage moves (" +
                         fmt_g(1000 * kFinestStep_um, 3) + " nm)",
                     "if you meant mm, write x_step_um = " + fmt_g(1000 * st.x_step_um, 6)});
    if (st.kind == StepKind::kLog)
      for (const std::string& note : st.log->notes)
        out.push_back({st.log_file_where, note, "check that this is the scan you meant to replay"});
  }
}

}  // namespace

std::vector<Diagnostic> scene_warnings(const SceneSetup& setup) {
  std::vector<Diagnostic> out;
  beam_warnings(setup, out);
  sample_warnings(setup, out);
  scan_warnings(setup, out);
  return out;
}

}  // namespace dosemap
