// The scene as the user wrote it (format 1, docs/scene-format.md), validated, with every
// value in the units its key names. Later stages (materials, grid, timeline) read this.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/common/errors.h"

namespace dosemap {

enum class DoseModel { kMuEn, kPhoto, kAbsorbed };
const char* dose_model_name(DoseModel m);

struct Threshold {
  std::string label;  // used in grid names: t_<label>_s, dose_gt_<label>
  double dose_Gy = 0;
};

// ---- materials ----
struct ComponentSpec {
  std::string material;
  double volume_fraction = 0;
  SourcePos where;
};

struct MaterialSpec {
  enum class Kind { kFormula, kNist, kComposite };
  std::string name;
  Kind kind = Kind::kFormula;
  std::string formula;     // kFormula
  std::string nist_name;   // kNist
  std::vector<ComponentSpec> components;  // kComposite
  bool has_density = false;
  double density_g_cm3 = 0;
  SourcePos where;          // the [materials.NAME] header
  SourcePos value_where;    // the formula / nist / components value
  SourcePos density_where;
  // Its own damage scale (replacing [output] thresholds_Gy for it; may be empty: none).
  bool has_thresholds = false;
  std::vector<Threshold> thresholds;  // ascending dose
  SourcePos thresholds_where;
};

// The reserved material name for vacuum.
inline constexpr const char* kVoidMaterial = "void";

// ---- sample ----
struct LayerSpec {
  std::string material;
  double thickness_um = 0;
  SourcePos where;
  SourcePos material_where;
  SourcePos thickness_where;
};

enum class ShapeKind { kBox, kCylinder, kSphere };

struct ShapeSpec {
  ShapeKind kind = ShapeKind::kBox;
  std::string material;
  std::array<double, 3> center_um{};
  std::array<double, 3> size_um{};  // box
  double radius_um = 0;             // cylinder, sphere
  double length_um = 0;             // cylinder
  int axis = 2;                     // cylinder: 0 x, 1 y, 2 z
  SourcePos where;
  SourcePos material_where;
};

// The rotation stage ([sample.stage], docs/scene-format.md "Frames and the stage"): a stage
// pose maps a sample point p to the lab as p_lab = c + R_tilt R_axis(angle) (p - c).
struct StageSpec {
  bool present = false;  // without [sample.stage] the sample never turns
  int axis = 1;          // rotation axis at zero tilt: 0 x, 1 y (vertical, default), 2 z (along the beam)
  bool has_center = false;
  std::array<double, 3> center_um{};  // a point on the axis (sample frame); default x = y = 0, mid-z
  double tilt_deg = 0;   // about lab x
  SourcePos where;
};

// A segmented tomogram as the sample ([sample.volume], docs/scene-format.md "Imported label
// volumes"): every voxel's material named by the integer label the file holds there.
enum class VolumeFormat { kTiff, kHdf5, kNpy, kRaw };

struct VolumeLabel {
  int64_t value = 0;
  std::string material;  // a material of the scene or "void"
  SourcePos where;
};

struct VolumeSpec {
  bool present = false;  // without it the sample is built from layers
  VolumeFormat format = VolumeFormat::kTiff;
  std::string path;      // as resolved (relative to the scene file)
  std::string dataset;   // HDF5
  std::array<int64_t, 3> raw_shape{};  // raw: the file's axes, slowest first
  int raw_bytes = 1;     // raw: 1 (uint8), 2 (uint16) or 4 (int32), little-endian
  char raw_kind = 'u';   // raw: 'u' or 'i'
  // The sample axis (0 x, 1 y, 2 z) of each of the file's axes, slowest first, as read (a
  // Fortran-order .npy reverses its axes here): default pages = z, rows = y, columns = x.
  std::array<int, 3> file_axis_to_sample{2, 1, 0};
  // Whether index 0 along each of the file's axes is the highest coordinate of its sample
  // axis ("-z" in axes: a stack stored downstream face first) rather than the lowest.
  std::array<bool, 3> file_axis_flipped{false, false, false};
  std::array<int64_t, 3> file_dims{};  // the file's axes, slowest first, as read
  double read_buffer_bytes = 0;        // held while the grid is built from it
  std::vector<VolumeLabel> labels;     // ascending value
  SourcePos file_where;  // where volume errors found while reading the file point
  // The voxel count along sample axis a.
  int64_t sample_dims(int a) const;
  // The file's axes as the scene names them, slowest first ("zyx", "-zyx").
  std::string axes_text() const;
};

struct SampleSpec {
  std::array<double, 3> voxel_um{};
  std::array<double, 2> lateral_um{};  // layers; a volume sets its own
  VolumeSpec volume;              // a label volume instead of layers
  std::vector<LayerSpec> layers;  // beam order
  std::vector<ShapeSpec> shapes;  // drawn in order
  StageSpec stage;
  SourcePos where;
  SourcePos voxel_where;
  SourcePos lateral_where;
};

// ---- beam ----
struct SpectrumLine {
  double energy_keV = 0;
  double weight = 0;  // fraction of the photons, normalised so the lines sum to 1
};

enum class ProfileKind { kGaussian, kTopHat, kImage };
const char* profile_name(ProfileKind p);

// A measured beam profile: relative intensity on a pixel grid centred on the beam position.
struct BeamImage {
  std::string path;  // as resolved (relative to the scene file)
  int nx = 0, ny = 0;
  // Row-major, row 0 = lowest y; normalised to sum 1. Shared (not copied) with the
  // transport parameters: a measured image may hold millions of pixels.
  std::shared_ptr<const std::vector<double>> intensity;
  std::array<double, 2> pixel_um{};
};

struct BeamSpec {
  std::vector<SpectrumLine> spectrum;  // one line for a monochromatic beam
  double flux_ph_s = 0;
  ProfileKind profile = ProfileKind::kGaussian;
  std::array<double, 2> fwhm_um{};  // gaussian
  std::array<double, 2> size_um{};  // tophat
  BeamImage image;                  // image
  SourcePos where;
  SourcePos flux_where;
  SourcePos profile_where;  // fwhm_um, size_um or pixel_um
  // Photon-weighted mean energy of the spectrum (keV).
  double mean_energy_keV() const;
};

// ---- scan ----
enum class StepKind { kPoint, kRaster, kFly, kWait, kRotate, kXrdct, kLog };

// A scan log replayed ([[scan.steps]] kind = "log", docs/scene-format.md "Scan-log replay"):
// its rows as dosemap uses them, converted to the lab frame, micrometres, degrees and seconds
// when the scene is read (host/scene/scan_log.h). Per-row arrays are empty where the log has
// no such column.
struct ScanLogRows {
  bool fly = false;                 // positions over time, beam on between rows
  std::vector<double> t_s;          // each row's time from the first row's (the start of its exposure)
  std::vector<double> x_um, y_um;   // the beam on the sample, lab frame
  std::vector<double> angle_deg;    // empty: the step's angle_deg
  std::vector<double> exposure_s;   // points mode
  std::vector<double> flux_factor;  // monitor / reference
  std::vector<uint8_t> open;        // the shutter: 0 closed
  std::vector<std::string> notes;   // what a user should know (an interrupted scan), as warnings
  std::string file;                 // as the scene names it
  std::string scan;                 // HDF5: the entry and its title, as check shows them
  std::vector<int64_t> line;        // CSV: the file's line of each row (0 for HDF5), for messages
  int64_t rows() const { return static_cast<int64_t>(x_um.size()); }
  bool is_open(int64_t r) const { return open.empty() || open[r] != 0; }
  double factor(int64_t r) const { return flux_factor.empty() ? 1.0 : flux_factor[r]; }
  double angle(int64_t r, double fixed_deg) const { return angle_deg.empty() ? fixed_deg : angle_deg[r]; }
};
const char* step_kind_name(StepKind k);
enum class RasterOrder { kSnake, kLines };

struct ScanStep {
  StepKind kind = StepKind::kPoint;
  SourcePos where;
  // point
  std::array<double, 2> at_um{};
  double exposure_s = 0;
  // raster
  std::array<double, 2> from_um{}, to_um{}, step_um{};
  double dwell_s = 0, move_s = 0;
  RasterOrder order = RasterOrder::kSnake;
  // fly
  std::vector<std::array<double, 2>> path_um;
  double speed_um_s = 0;
  // wait
  double duration_s = 0;
  // every kind: the stage angle during the step (rotate and xrdct turn from_deg -> to_deg)
  double angle_deg = 0;
  SourcePos angle_where;  // the angle_deg value (the step when absent)
  // rotate: beam parked at at_um; xrdct: lines along lab x at heights y_um, one set per angle
  double from_deg = 0, to_deg = 0, step_deg = 0;
  double speed_deg_s = 0;   // rotate, continuous (> 0): no step_deg / dwell_s
  bool continuous = false;  // rotate: speed_deg_s; xrdct: fly lines (speed_um_s)
  double x_from_um = 0, x_to_um = 0, x_step_um = 0;  // xrdct
  std::vector<double> y_um;                           // xrdct heights (lab y)
  double line_move_s = 0;                             // xrdct: between lines
  // log: the rows replayed (shared: a log may hold millions); move_s between rows in points
  // mode without a time column; rows whose beam misses the grid skipped rather than refused
  std::shared_ptr<const ScanLogRows> log;
  bool log_skip_off_grid = false;
  SourcePos log_file_where;
};

struct ScanSpec {
  long long repeat = 1;
  double period_s = 0;
  std::vector<ScanStep> steps;
  SourcePos where;
  SourcePos period_where;
};

// ---- output ----
struct OutputSpec {
  std::vector<Threshold> thresholds;  // ascending dose: every material without its own
  bool write_vdb = true;              // formats: "vdb" (dose.vdb) and/or "vti" (dose.vti, ParaView)
  bool write_vti = false;
  std::vector<double> frames_s;       // times of cumulative-dose frames, ascending
  double frame_every_s = 0;           // > 0: a frame every that many seconds, and one at the end
  SourcePos where;
  SourcePos formats_where;
  SourcePos frames_where;
};

struct Scene {
  std::string path;       // as given on the command line
  std::string directory;  // for relative paths inside the scene
  std::string title;
  DoseModel dose_model = DoseModel::kMuEn;
  std::vector<MaterialSpec> materials;  // scene order
  SampleSpec sample;
  BeamSpec beam;
  ScanSpec scan;
  OutputSpec output;

  // Index of a material by name, or -1: in constant time once the reader has filled
  // material_ids (scenes have up to 65 535 materials, referenced by every layer and shape).
  int material_index(const std::string& name) const;
  std::unordered_map<std::string, int> material_ids;
};

}  // namespace dosemap
