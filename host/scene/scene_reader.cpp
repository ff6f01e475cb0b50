#include "host/scene/scene_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_set>

#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/scene/array_files.h"
#include "host/scene/beam_image.h"
#include "host/scene/label_volume.h"
#include "host/scene/scan_log.h"
#include "host/scene/scene_limits.h"
#include "host/scene/threshold_scale.h"
#include "host/scene/toml_reader.h"

namespace dosemap {

std::vector<Threshold> default_thresholds() {
  // Jousseaume et al., ACS Energy Lett. 2023, 8, 3323: no damage below 80 kGy, apparent
  // microstructure changes from about 1 MGy (up to 4 MGy), kinetics limitation from 11 MGy.
  return {{"safe", 8.0e4}, {"microstructure", 1.0e6}, {"mechanism", 4.0e6}, {"kinetics", 1.1e7}};
}

namespace {

// Photon energies xraylib's cross-sections cover well; the model is validated 5-100 keV.
constexpr double kMinEnergy_keV = 1.0;
constexpr double kMaxEnergy_keV = 500.0;
// Relative tolerance for "a whole number of voxels" and "fractions sum to 1".
constexpr double kWholeTolerance = 1e-6;

const std::regex& name_pattern() {
  static const std::regex re("^[A-Za-z][A-Za-z0-9_.+-]*$");
  return re;
}
const std::regex& label_pattern() {
  static const std::regex re("^[A-Za-z][A-Za-z0-9_]*$");
  return re;
}

// The ranges every length, position and time of a scene must lie in (scene_limits.h).
NumberRule length_rule() { return in_range(kMinLength_um, kMaxLength_um); }
NumberRule extent_rule() { return positive_up_to(kMaxLength_um); }
NumberRule position_rule() { return in_range(-kMaxLength_um, kMaxLength_um); }
NumberRule time_rule() { return in_range(kMinTime_s, kMaxTime_s); }
NumberRule angle_rule() { return in_range(-kMaxAngle_deg, kMaxAngle_deg); }

std::string ordinal_name(const std::string& array, size_t index) {
  return "[[" + array + "]] #" + std::to_string(index + 1);
}

// How many voxels of size `voxel` fit in `length`, or -1 when it is not a whole number.
long long whole_voxels(double length, double voxel) {
  const double n = length / voxel;
  if (!(n < 1e15)) return -1;  // beyond any grid (the caller reports the size)
  const double r = std::round(n);
  if (r < 1 || std::fabs(n - r) > kWholeTolerance * std::max(1.0, r)) return -1;
  return static_cast<long long>(r);
}

// The largest round voxel edge (1, 2 or 5 times a power of ten, or 2.5) below `voxel` that
// divides every length; 0 when none down to 1 nm does.
double fitting_voxel(const std::vector<double>& lengths, double voxel) {
  for (double decade = std::pow(10.0, std::floor(std::log10(voxel))); decade >= 1e-3; decade /= 10) {
    for (double mantissa : {5.0, 2.5, 2.0, 1.0}) {
      const double v = mantissa * decade;
      if (v >= voxel) continue;
      bool fits = true;
      for (double l : lengths) fits = fits && whole_voxels(l, v) >= 0;
      if (fits) return v;
    }
  }
  return 0;
}

class SceneReader {
 public:
  SceneReader(const std::string& path, Diagnostics& diag) : file_(path), diag_(diag) {}

  Scene read(const toml::table& root) {
    Scene s;
    s.path = file_;
    s.directory = std::filesystem::path(file_).parent_path().string();
    TableView top(root, "scene", file_, diag_,
                  {"format", "title", "physics", "materials", "sample", "beam", "scan", "output"});
    if (const toml::node* f = top.node("format")) {
      const auto* i = f->as_integer();
      if (!i || i->get() != 1)
        top.error("format", "is " + toml_text(*f) + " but this dosemap reads scene format 1",
                  i ? "write format = 1 and check docs/scene-format.md for what changed"
                    : "write format = 1 (a number, without quotes)");
    } else {
      top.error_here("has no format key", "add format = 1 as the first line");
    }
    // A file name need not be UTF-8; the title goes into JSON and VDB metadata, which must be.
    s.title = top.string("title", false).value_or(valid_utf8(std::filesystem::path(file_).stem().string()));

    const std::pair<const char*, const char*> required[] = {
        {"materials", "add e.g. [materials.copper] with formula = \"Cu\""},
        {"sample", "add a [sample] table with voxel_um, lateral_um and [[sample.layers]]"},
        {"beam", "add a [beam] table with energy_keV, flux_ph_s, profile and the profile's size (fwhm_um or size_um)"},
        {"scan", "add [[scan.steps]] entries (kind = \"point\", \"raster\", \"fly\", \"rotate\", \"xrdct\" or \"wait\")"},
    };
    for (const auto& [name, fix] : required)
      if (!top.has(name)) top.error_here(std::string("has no [") + name + "] table", fix);
    if (const toml::table* t = top.table("physics", false)) read_physics(*t, s);
    if (const toml::table* t = top.table("materials", false)) read_materials(*t, s);
    if (const toml::table* t = top.table("sample", false)) read_sample(*t, s);
    if (const toml::table* t = top.table("beam", false)) read_beam(*t, s);
    if (const toml::table* t = top.table("scan", false)) read_scan(*t, s);
    s.output.thresholds = default_thresholds();
    if (const toml::table* t = top.table("output", false)) read_output(*t, s);
    top.check_unknown_keys();
    check_material_references(s);
    if (diag_.empty()) check_threshold_labels(s);
    check_stage_use(s);
    return s;
  }

 private:
  void read_physics(const toml::table& t, Scene& s) {
    TableView v(t, "[physics]", file_, diag_, {"dose_model"});
    if (auto m = v.choice("dose_model", {"mu_en", "photo", "absorbed"}, false)) {
      s.dose_model = *m == "mu_en" ? DoseModel::kMuEn : *m == "photo" ? DoseModel::kPhoto : DoseModel::kAbsorbed;
    }
    v.check_unknown_keys();
  }

  void read_materials(const toml::table& t, Scene& s) {
    // toml++ keeps keys sorted; the contract numbers materials in scene order.
    std::vector<std::pair<toml::source_position, std::string>> order;
    for (auto&& [k, node] : t) declared_materials_.insert(std::string(k.str()));
    if (t.size() > static_cast<size_t>(kMaxMaterials)) {
      diag_.error(pos_of(t.source(), file_),
                  "[materials] defines " + group_digits(static_cast<long long>(t.size())) + " materials; at most " +
                      group_digits(kMaxMaterials) + " are supported",
                  "merge materials that need no separate dose (a composite can hold several)");
      return;
    }
    for (auto&& [k, node] : t) {
      const std::string name(k.str());
      const toml::table* mt = node.as_table();
      if (!mt) {
        diag_.error(pos_of(node.source(), file_), "[materials] " + name + " must be a table",
                    "write [materials." + name + "] followed by formula = ..., nist = ... or components = ...");
        continue;
      }
      order.push_back({mt->source().begin, name});
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
    });
    if (order.empty() && diag_.empty())
      diag_.error(pos_of(t.source(), file_), "[materials] defines no material",
                  "add e.g. [materials.copper] with formula = \"Cu\"");
    for (const auto& [where, name] : order) read_material(*t.get_as<toml::table>(name), name, s);
    for (size_t i = 0; i < s.materials.size(); ++i) s.material_ids[s.materials[i].name] = static_cast<int>(i);
  }

  void read_material(const toml::table& t, const std::string& name, Scene& s) {
    const std::string shown = "[materials." + name + "]";
    TableView v(t, shown, file_, diag_, {"formula", "nist", "components", "density_g_cm3", "thresholds_Gy"});
    MaterialSpec m;
    m.name = name;
    m.where = v.pos();
    if (name == kVoidMaterial) {
      v.error_here("uses the reserved name \"void\" (vacuum)", "give the material another name");
      return;
    }
    if (!std::regex_match(name, name_pattern())) {
      v.error_here("has a name that cannot be used in grid and file names",
                   "use letters, digits and _ . + - only, starting with a letter");
    }
    const int kinds = int(v.has("formula")) + int(v.has("nist")) + int(v.has("components"));
    if (kinds != 1) {
      v.error_here(kinds == 0 ? "needs one of formula, nist or components"
                              : "must have exactly one of formula, nist or components",
                   "e.g. formula = \"C3H4O3\" with density_g_cm3, nist = \"Water, Liquid\", or components = [...]");
      v.check_unknown_keys();
      return;
    }
    if (auto d = v.number("density_g_cm3", in_range(1e-6, 30.0), false, "1.32")) {
      m.has_density = true;
      m.density_g_cm3 = *d;
      m.density_where = v.pos("density_g_cm3");
    }
    if (v.has("formula")) {
      m.kind = MaterialSpec::Kind::kFormula;
      m.value_where = v.pos("formula");
      if (auto f = v.string("formula", true, "\"C3H4O3\"")) {
        if (f->empty()) v.error("formula", "is empty", "write a chemical formula such as \"LiNi0.8Mn0.1Co0.1O2\"");
        m.formula = *f;
      }
    } else if (v.has("nist")) {
      m.kind = MaterialSpec::Kind::kNist;
      m.value_where = v.pos("nist");
      if (auto f = v.string("nist", true, "\"Water, Liquid\"")) m.nist_name = *f;
    } else {
      m.kind = MaterialSpec::Kind::kComposite;
      m.value_where = v.pos("components");
      v.reject("density_g_cm3",
               "cannot be set for a composite: its density follows from the components; remove it");
      read_components(v, m);
    }
    if (auto list = read_thresholds(v, shown)) {
      m.has_thresholds = true;
      m.thresholds = *list;
      m.thresholds_where = v.pos("thresholds_Gy");
    }
    v.check_unknown_keys();
    s.materials.push_back(std::move(m));
  }

  void read_components(TableView& v, MaterialSpec& m) {
    const char* example = "[ { material = \"NMC811\", volume_fraction = 0.72 }, { material = \"EC\", volume_fraction = 0.28 } ]";
    const toml::array* a = v.array("components", true, example);
    if (!a) return;
    if (a->empty()) {
      v.error("components", "is empty", std::string("list the components, e.g. components = ") + example);
      return;
    }
    double sum = 0;
    bool all_ok = true;
    std::unordered_set<std::string> listed;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* ct = (*a)[i].as_table();
      const std::string shown = v.name() + " component #" + std::to_string(i + 1);
      if (!ct) {
        diag_.error(pos_of((*a)[i].source(), file_), shown + " must be a table",
                    "write { material = \"NAME\", volume_fraction = 0.5 }");
        all_ok = false;
        continue;
      }
      TableView c(*ct, shown, file_, diag_, {"material", "volume_fraction"});
      ComponentSpec comp;
      comp.where = c.pos();
      auto mat = c.string("material", true, "\"EC\"");
      auto vf = c.number("volume_fraction", in_range(1e-12, 1.0), true, "0.28");
      if (vf && !(*vf > 0)) c.error("volume_fraction", "must be positive");
      c.check_unknown_keys();
      if (!mat || !vf) {
        all_ok = false;
        continue;
      }
      if (!listed.insert(*mat).second)
        c.error("material", "'" + *mat + "' is listed twice", "merge the two entries into one volume fraction");
      comp.material = *mat;
      comp.volume_fraction = *vf;
      sum += *vf;
      m.components.push_back(comp);
    }
    if (all_ok && std::fabs(sum - 1.0) > kWholeTolerance) {
      v.error("components", "volume fractions sum to " + fmt_g(sum, 8) + ", not 1",
              sum < 1 ? "add the missing " + fmt_g(1 - sum, 6) + " to a component (or as a \"void\" component for empty pores)"
                      : "reduce them by " + fmt_g(sum - 1, 6) + " in total");
    } else if (all_ok) {
      for (auto& c : m.components) c.volume_fraction /= sum;  // exact unit sum
    }
  }

  // A file a scene names, relative to the scene's own directory unless absolute.
  std::string scene_relative(const std::string& file) const {
    const std::filesystem::path p(file);
    return p.is_absolute() ? p.string() : (std::filesystem::path(file_).parent_path() / p).string();
  }

  void read_sample(const toml::table& t, Scene& s) {
    TableView v(t, "[sample]", file_, diag_, {"voxel_um", "lateral_um", "layers", "volume", "shapes", "stage"});
    SampleSpec& smp = s.sample;
    smp.where = v.pos();
    auto voxel = v.numbers<3>("voxel_um", in_range(1e-3, 1e5), true, "[5.0, 5.0, 1.0]");
    smp.voxel_where = v.pos("voxel_um");
    if (voxel) smp.voxel_um = *voxel;
    if (v.has("volume")) {
      // A segmented tomogram: the volume sets the grid's extent, no layers.
      if (v.has("lateral_um"))
        v.reject("lateral_um", "does not apply to a [sample.volume], whose voxels set the extent; remove it");
      if (v.has("layers"))  // the volume is not read: which of the two is meant is the question
        v.reject("layers", "and [sample.volume] both describe the sample: keep one (shapes may be drawn over either)");
      else if (const toml::table* vt = v.table("volume", true))
        read_volume(*vt, s, voxel.has_value());
    } else {
      read_layers(v, smp, voxel.has_value());
    }
    if (const toml::array* shapes = v.array("shapes", false, "[ { kind = \"box\", ... } ]")) {
      for (size_t i = 0; i < shapes->size(); ++i) {
        const toml::table* st = (*shapes)[i].as_table();
        if (!st) {
          diag_.error(pos_of((*shapes)[i].source(), file_), ordinal_name("sample.shapes", i) + " must be a table",
                      "write [[sample.shapes]] with kind, material and the shape's size");
          continue;
        }
        read_shape(*st, i, smp);
      }
    }
    if (const toml::table* st = v.table("stage", false)) read_stage(*st, smp);
    v.check_unknown_keys();
  }

  // [[sample.layers]] and the lateral extent they fill.
  void read_layers(TableView& v, SampleSpec& smp, bool voxel_ok) {
    auto lateral = v.numbers<2>("lateral_um", extent_rule(), true, "[2000.0, 1000.0]");
    smp.lateral_where = v.pos("lateral_um");
    if (lateral) smp.lateral_um = *lateral;
    bool lateral_fits = voxel_ok && lateral;
    if (voxel_ok && lateral) {
      for (int a = 0; a < 2; ++a) {
        const double n = smp.lateral_um[a] / smp.voxel_um[a];
        if (n > static_cast<double>(kMaxAxisVoxels)) {
          v.error("lateral_um", std::string(a == 0 ? "x" : "y") + " = " + fmt_g(smp.lateral_um[a], 8) + " um is " +
                                    fmt_g(n, 3) + " voxels of " + fmt_g(smp.voxel_um[a], 8) + " um; at most " +
                                    group_digits(kMaxAxisVoxels) + " fit along an axis",
                  "use larger voxels or a smaller lateral_um (both in micrometres)");
          lateral_fits = false;
        } else if (whole_voxels(smp.lateral_um[a], smp.voxel_um[a]) < 0) {
          lateral_fits = false;
          const double lo = std::max(1.0, std::floor(smp.lateral_um[a] / smp.voxel_um[a])) * smp.voxel_um[a];
          const double hi = std::ceil(smp.lateral_um[a] / smp.voxel_um[a]) * smp.voxel_um[a];
          v.error("lateral_um", std::string(a == 0 ? "x" : "y") + " = " + fmt_g(smp.lateral_um[a], 8) +
                                    " um is not a whole number of voxels of " + fmt_g(smp.voxel_um[a], 8) + " um",
                  "use " + fmt_g(lo, 8) + (hi != lo ? " or " + fmt_g(hi, 8) : std::string()) + " um");
        }
      }
    }
    if (!v.has("layers"))
      v.error_here("has neither [[sample.layers]] nor a [sample.volume]",
                   "describe the sample as [[sample.layers]] (material, thickness_um) in beam order, or as a "
                   "[sample.volume] (a segmented tomogram)");
    const toml::array* layers = v.array("layers", false, "[ { material = \"copper\", thickness_um = 10.0 } ]");
    if (layers && layers->empty())
      v.error("layers", "is empty", "add at least one [[sample.layers]] with material and thickness_um");
    if (layers) {
      for (size_t i = 0; i < layers->size(); ++i) {
        const toml::table* lt = (*layers)[i].as_table();
        if (!lt) {
          diag_.error(pos_of((*layers)[i].source(), file_), ordinal_name("sample.layers", i) + " must be a table",
                      "write [[sample.layers]] with material and thickness_um");
          continue;
        }
        TableView l(*lt, ordinal_name("sample.layers", i), file_, diag_, {"material", "thickness_um"});
        LayerSpec layer;
        layer.where = l.pos();
        layer.material_where = l.pos("material");
        layer.thickness_where = l.pos("thickness_um");
        auto mat = l.string("material", true, "\"copper\"");
        auto th = l.number("thickness_um", extent_rule(), true, "10.0");
        l.check_unknown_keys();
        if (mat) layer.material = *mat;
        if (th) layer.thickness_um = *th;
        if (mat && th) smp.layers.push_back(layer);
      }
      if (voxel_ok && check_layers_fit_voxels(smp) && lateral_fits && smp.layers.size() == layers->size())
        check_grid_size(v, smp);
    }
  }

  // [sample.volume]: the file's header is read here (the grid's size comes from it); its
  // labels are checked when the grid is built (host/grid/label_grid.h), by check and run alike.
  void read_volume(const toml::table& t, Scene& s, bool voxel_ok) {
    TableView v(t, "[sample.volume]", file_, diag_, {"file", "dataset", "shape", "dtype", "axes", "labels"});
    VolumeSpec& vol = s.sample.volume;
    vol.present = true;
    vol.file_where = v.pos("file");
    const size_t errors_before = diag_.size();
    const auto file = v.string("file", true, "\"electrode_labels.tif\"");
    std::optional<VolumeFormat> format;
    if (file) {
      format = volume_format(*file);
      if (!format)
        v.error("file", "'" + *file + "' is not a volume file dosemap reads",
                "give a .tif/.tiff stack, an .h5/.hdf5/.nxs file (with dataset), a .npy or a .raw file (with shape "
                "and dtype)");
    }
    const bool hdf5 = format == VolumeFormat::kHdf5, raw = format == VolumeFormat::kRaw;
    if (format && !hdf5 && v.has("dataset")) v.reject("dataset", "applies to HDF5 volumes (.h5, .hdf5, .nxs) only; remove it");
    if (format && !raw)
      for (const char* k : {"shape", "dtype"})
        if (v.has(k)) v.reject(k, "applies to .raw volumes only (the other formats say it themselves); remove it");
    if (hdf5) {
      if (auto ds = v.string("dataset", true, "\"/exchange/data\"")) {
        vol.dataset = *ds;
        if (ds->empty()) v.error("dataset", "is empty", "give the dataset's path in the file, e.g. \"/exchange/data\"");
      }
    }
    if (raw) {
      if (auto shape = v.numbers<3>("shape", in_range(1, static_cast<double>(kMaxAxisVoxels)), true, "[200, 300, 400]")) {
        for (int a = 0; a < 3; ++a) {
          if ((*shape)[a] != std::floor((*shape)[a]))
            v.error("shape", "must be whole numbers of voxels", "write e.g. shape = [200, 300, 400]");
          vol.raw_shape[a] = static_cast<int64_t>((*shape)[a]);
        }
      }
      if (auto dtype = v.choice("dtype", {"uint8", "uint16", "int32"}, true)) {
        vol.raw_bytes = *dtype == "uint8" ? 1 : *dtype == "uint16" ? 2 : 4;
        vol.raw_kind = *dtype == "int32" ? 'i' : 'u';
      }
    }
    std::array<int, 3> axes{2, 1, 0};
    std::array<bool, 3> flipped{false, false, false};
    if (auto a = v.string("axes", false, "\"zyx\"")) {
      // Three sample axes, each optionally preceded by '-' (index 0 at its highest coordinate).
      static const std::regex axes_re(R"((-?)([xyz])(-?)([xyz])(-?)([xyz]))");
      std::smatch m;
      bool ok = std::regex_match(*a, m, axes_re);
      for (int n = 0; ok && n < 3; ++n) {
        axes[n] = m[2 + 2 * n].str()[0] - 'x';
        flipped[n] = !m[1 + 2 * n].str().empty();
      }
      ok = ok && axes[0] != axes[1] && axes[1] != axes[2] && axes[0] != axes[2];
      if (!ok)
        v.error("axes", "'" + *a + "' does not name the file's three axes",
                "write the sample axis of each of the file's axes, slowest first: x, y and z in some order, e.g. "
                "\"zyx\" (pages = z, rows = y, columns = x); \"-z\" for an axis stored from its high end");
    }
    read_volume_labels(v, vol);
    v.check_unknown_keys();
    if (!file || !format || diag_.size() != errors_before) return;

    vol.format = *format;
    vol.path = scene_relative(*file);
    ArrayStack stack;
    try {
      stack = open_label_volume(vol);
    } catch (const UserError& e) {
      for (const Diagnostic& d : e.diagnostics()) v.error("file", "'" + *file + "' " + d.what, d.fix);
      return;
    }
    vol.file_dims = stack.dims;
    // One read as stored and as doubles, one slice of material ids, the label table.
    vol.read_buffer_bytes = stack.read_buffer_bytes() + 2.0 * stack.slice_values() + 4.0 * (1 << 20);
    // Fortran order lies with the array's axes reversed.
    for (int n = 0; n < 3; ++n) {
      vol.file_axis_to_sample[n] = stack.reversed ? axes[2 - n] : axes[n];
      vol.file_axis_flipped[n] = stack.reversed ? flipped[2 - n] : flipped[n];
    }
    if (!voxel_ok) return;
    std::array<double, 3> n{};
    for (int a = 0; a < 3; ++a) {
      n[a] = static_cast<double>(vol.sample_dims(a));
      if (n[a] * s.sample.voxel_um[a] > kMaxLength_um)
        v.error("file", "'" + *file + "' is " + fmt_g(n[a] * s.sample.voxel_um[a], 4) + " um long along " +
                            std::string(1, char('x' + a)) + " (" + fmt_g(n[a], 10) + " voxels of " +
                            fmt_g(s.sample.voxel_um[a], 6) + " um); at most " + fmt_g(kMaxLength_um, 4),
                "check voxel_um (micrometres)");
    }
    check_grid_dims(v, "file", n, "'" + *file + "' holds", "bin the volume (and scale voxel_um to match)");
  }

  // labels = { 0 = "void", 1 = "NMC811" }: integer keys, each a material of the scene or void.
  void read_volume_labels(TableView& v, VolumeSpec& vol) {
    const toml::table* labels = v.table("labels", true);
    if (!labels) return;
    if (labels->empty()) {
      v.error("labels", "is empty", "name every label the volume holds, e.g. labels = { 0 = \"void\", 1 = \"NMC811\" }");
      return;
    }
    static const std::regex integer_re(R"([+-]?[0-9]{1,16})");
    std::map<int64_t, std::string> seen;
    for (const auto& [key, node] : *labels) {
      const SourcePos where = pos_of(node.source(), file_);
      const std::string k(key.str());
      const std::string who = "[sample.volume] labels key '" + k + "'";
      if (!std::regex_match(k, integer_re) || std::fabs(std::stod(k)) > 9007199254740992.0) {
        diag_.error(where, who + " is not an integer label", "write the label value as the key, e.g. 3 = \"CBD\"");
        continue;
      }
      const std::optional<std::string> material = node.value<std::string>();
      if (!material) {
        diag_.error(where, who + " must name a material (a string), got " + toml_text(node), "write e.g. 3 = \"CBD\"");
        continue;
      }
      const int64_t value = std::stoll(k);
      if (const auto [it, fresh] = seen.emplace(value, k); !fresh) {
        diag_.error(where, who + " is label " + std::to_string(value) + " again (as '" + it->second + "')",
                    "name each label once");
        continue;
      }
      vol.labels.push_back({value, *material, where});
    }
    std::sort(vol.labels.begin(), vol.labels.end(),
              [](const VolumeLabel& a, const VolumeLabel& b) { return a.value < b.value; });
  }

  void read_stage(const toml::table& t, SampleSpec& smp) {
    TableView v(t, "[sample.stage]", file_, diag_, {"axis", "center_um", "tilt_deg"});
    StageSpec& st = smp.stage;
    st.present = true;
    st.where = v.pos();
    if (auto a = v.choice("axis", {"x", "y", "z"}, false)) st.axis = *a == "x" ? 0 : *a == "y" ? 1 : 2;
    if (auto c = v.numbers<3>("center_um", position_rule(), false, "[0.0, 0.0, 66.5]")) {
      st.has_center = true;
      st.center_um = *c;
    }
    st.tilt_deg = v.number("tilt_deg", in_range(-kMaxTilt_deg, kMaxTilt_deg), false, "30.0").value_or(0.0);
    v.check_unknown_keys();
  }

  // Whether every layer is a whole number of z voxels (each that is not is reported).
  bool check_layers_fit_voxels(const SampleSpec& smp) {
    std::vector<double> thicknesses;
    for (const auto& l : smp.layers) thicknesses.push_back(l.thickness_um);
    const double dz = smp.voxel_um[2];
    std::optional<double> fit;  // searched once, over all layers, and only when needed
    bool all_fit = true;
    for (size_t i = 0; i < smp.layers.size(); ++i) {
      const auto& l = smp.layers[i];
      if (whole_voxels(l.thickness_um, dz) >= 0) continue;
      all_fit = false;
      if (!fit) fit = fitting_voxel(thicknesses, dz);
      const double lo = std::max(1.0, std::floor(l.thickness_um / dz)) * dz, hi = std::ceil(l.thickness_um / dz) * dz;
      std::string fix = "make the layer " + fmt_g(lo, 8) + " or " + fmt_g(hi, 8) + " um thick";
      if (*fit > 0)
        fix = "use a z voxel that divides every layer, e.g. voxel_um = [" + fmt_g(smp.voxel_um[0], 8) + ", " +
              fmt_g(smp.voxel_um[1], 8) + ", " + fmt_g(*fit, 8) + "], or " + fix;
      // A thickness in mm typed in um: under a micrometre, and a whole number of voxels
      // once read as mm.
      if (l.thickness_um < 1.0 && whole_voxels(l.thickness_um * 1000.0, dz) >= 0)
        fix = "if you meant " + fmt_g(l.thickness_um, 8) + " mm, write thickness_um = " +
              fmt_g(l.thickness_um * 1000.0, 8) + "; otherwise " + fix;
      diag_.error(l.thickness_where,
                  ordinal_name("sample.layers", i) + " (" + l.material + ") thickness_um = " + fmt_g(l.thickness_um, 8) +
                      " is not a whole number of z voxels of " + fmt_g(dz, 8) + " um",
                  fix);
    }
    return all_fit;
  }

  // The grid's size, from whole voxel counts already checked per axis and layer: within
  // what indices and byte counts can hold (scene_limits.h). The memory a run needs is
  // compared with the machine later; this refuses sizes no machine could hold.
  void check_grid_size(TableView& v, const SampleSpec& smp) {
    std::array<double, 3> n{std::round(smp.lateral_um[0] / smp.voxel_um[0]), std::round(smp.lateral_um[1] / smp.voxel_um[1]), 0};
    for (const auto& l : smp.layers) n[2] += std::round(l.thickness_um / smp.voxel_um[2]);
    check_grid_dims(v, "voxel_um", n, "gives", "use larger voxels, a smaller lateral_um or thinner layers (all in micrometres)");
  }

  // nx x ny x nz within kMaxAxisVoxels, kMaxColumns and kMaxVoxels; `says`: how the message
  // begins after the key ("gives", "'labels.tif' holds").
  void check_grid_dims(TableView& v, std::string_view key, const std::array<double, 3>& n, const std::string& says,
                       const std::string& fix) {
    const std::string dims = fmt_g(n[0], 10) + " x " + fmt_g(n[1], 10) + " x " + fmt_g(n[2], 10);
    const double largest = std::max({n[0], n[1], n[2]});
    if (largest > static_cast<double>(kMaxAxisVoxels))
      v.error(key, says + " " + fmt_g(largest, 4) + " voxels along " +
                       std::string(1, char('x' + (largest == n[0] ? 0 : largest == n[1] ? 1 : 2))) + "; at most " +
                       group_digits(kMaxAxisVoxels) + " fit along an axis",
              fix);
    else if (n[0] * n[1] > static_cast<double>(kMaxColumns))
      v.error(key, says + " a grid of " + dims + " voxels, " + fmt_g(n[0] * n[1], 4) + " columns; at most " +
                       group_digits(kMaxColumns) + " are supported",
              fix);
    else if (n[0] * n[1] * n[2] > static_cast<double>(kMaxVoxels))
      v.error(key, says + " a grid of " + dims + " = " + fmt_g(n[0] * n[1] * n[2], 4) + " voxels; at most " +
                       group_digits(kMaxVoxels) + " are supported",
              fix);
  }

  void read_shape(const toml::table& t, size_t index, SampleSpec& smp) {
    const std::string shown = ordinal_name("sample.shapes", index);
    TableView v(t, shown, file_, diag_,
                {"kind", "material", "center_um", "size_um", "radius_um", "length_um", "axis"});
    ShapeSpec sh;
    sh.where = v.pos();
    sh.material_where = v.pos("material");
    auto kind = v.choice("kind", {"box", "cylinder", "sphere"}, true);
    auto mat = v.string("material", true, "\"void\"");
    auto center = v.numbers<3>("center_um", position_rule(), true, "[0.0, 0.0, 50.0]");
    bool ok = kind && mat && center;
    if (kind && *kind == "box") {
      sh.kind = ShapeKind::kBox;
      auto size = v.numbers<3>("size_um", extent_rule(), true, "[100.0, 100.0, 20.0]");
      for (const char* k : {"radius_um", "length_um", "axis"})
        v.reject(k, "applies to cylinders and spheres, not boxes; remove it");
      ok = ok && size;
      if (size) sh.size_um = *size;
    } else if (kind && *kind == "cylinder") {
      sh.kind = ShapeKind::kCylinder;
      auto r = v.number("radius_um", extent_rule(), true, "50.0");
      auto len = v.number("length_um", extent_rule(), true, "100.0");
      auto axis = v.choice("axis", {"x", "y", "z"}, true);
      v.reject("size_um", "applies to boxes; a cylinder takes radius_um, length_um and axis");
      ok = ok && r && len && axis;
      if (r) sh.radius_um = *r;
      if (len) sh.length_um = *len;
      if (axis) sh.axis = *axis == "x" ? 0 : *axis == "y" ? 1 : 2;
    } else if (kind && *kind == "sphere") {
      sh.kind = ShapeKind::kSphere;
      auto r = v.number("radius_um", extent_rule(), true, "50.0");
      for (const char* k : {"size_um", "length_um", "axis"})
        v.reject(k, "does not apply to spheres (a sphere takes radius_um only); remove it");
      ok = ok && r;
      if (r) sh.radius_um = *r;
    }
    v.check_unknown_keys();
    if (!ok) return;
    sh.material = *mat;
    sh.center_um = *center;
    smp.shapes.push_back(sh);
  }

  void read_beam(const toml::table& t, Scene& s) {
    TableView v(t, "[beam]", file_, diag_,
                {"energy_keV", "spectrum", "flux_ph_s", "profile", "fwhm_um", "size_um", "image", "pixel_um",
                 "image_dataset", "image_background", "image_first_row"});
    BeamSpec& b = s.beam;
    b.where = v.pos();
    const NumberRule energy_rule = in_range(kMinEnergy_keV, kMaxEnergy_keV);
    if (v.has("energy_keV") && v.has("spectrum")) {
      v.error("spectrum", "cannot be given together with energy_keV",
              "keep energy_keV for a monochromatic beam or spectrum for several lines");
    } else if (v.has("spectrum")) {
      read_spectrum(v, b);
    } else {
      if (auto e = v.number("energy_keV", energy_rule, !v.has("spectrum"), "27.0")) b.spectrum = {{*e, 1.0}};
    }
    if (auto f = v.number("flux_ph_s", in_range(kMinFlux_ph_s, kMaxFlux_ph_s), true, "2.44e10")) b.flux_ph_s = *f;
    b.flux_where = v.pos("flux_ph_s");
    auto profile = v.choice("profile", {"gaussian", "tophat", "image"}, true);
    if (profile && *profile == "gaussian") {
      b.profile = ProfileKind::kGaussian;
      if (auto f = v.numbers<2>("fwhm_um", length_rule(), true, "[20.0, 5.0]")) b.fwhm_um = *f;
      b.profile_where = v.pos("fwhm_um");
      for (const char* k : {"size_um", "image", "pixel_um", "image_dataset", "image_background", "image_first_row"})
        v.reject(k, "does not apply to profile = \"gaussian\" (which takes fwhm_um); remove it");
    } else if (profile && *profile == "tophat") {
      b.profile = ProfileKind::kTopHat;
      if (auto f = v.numbers<2>("size_um", length_rule(), true, "[630.0, 110.0]")) b.size_um = *f;
      b.profile_where = v.pos("size_um");
      for (const char* k : {"fwhm_um", "image", "pixel_um", "image_dataset", "image_background", "image_first_row"})
        v.reject(k, "does not apply to profile = \"tophat\" (which takes size_um); remove it");
    } else if (profile && *profile == "image") {
      b.profile = ProfileKind::kImage;
      auto px = v.numbers<2>("pixel_um", length_rule(), true, "[0.5, 0.5]");
      b.profile_where = v.pos("pixel_um");
      auto img = v.string("image", true, "\"beam.csv\"");
      for (const char* k : {"fwhm_um", "size_um"})
        v.reject(k, "does not apply to profile = \"image\" (which takes image and pixel_um); remove it");
      if (px) b.image.pixel_um = *px;
      BeamImageOptions options;
      bool options_ok = true;
      if (auto bg = v.number("image_background", any_number(), false, "100.0")) options.background = *bg;
      if (auto row = v.choice("image_first_row", {"lowest_y", "highest_y"}, false))
        options.first_row_highest_y = *row == "highest_y";
      if (auto ds = v.string("image_dataset", false, "\"/entry/data/data\"")) options.dataset = *ds;
      if (img && !img->empty()) {
        const bool hdf5 = array_file_kind(*img) == ArrayFileKind::kHdf5;
        if (hdf5 && !v.has("image_dataset")) {
          v.error("image", "is an HDF5 file: image_dataset must say which dataset holds the image",
                  "add e.g. image_dataset = \"/entry/data/data\"");
          options_ok = false;
        } else if (!hdf5 && v.has("image_dataset")) {
          v.error("image_dataset", "applies to HDF5 images (.h5, .hdf5, .nxs) only", "remove it");
          options_ok = false;
        } else if (hdf5 && options.dataset.empty()) {
          v.error("image_dataset", "is empty", "give the dataset's path in the file, e.g. \"/entry/data/data\"");
          options_ok = false;
        }
      }
      if (img && options_ok) {
        if (img->empty()) {
          v.error("image", "is empty", "name an image file (CSV, TIFF, HDF5 or .npy), e.g. image = \"beam.csv\"");
        } else {
          b.image.path = scene_relative(*img);
          Diagnostics local;
          read_beam_image(b.image.path, b.image.path, options, b.image, local);
          for (const auto& d : local.list()) {
            if (d.where.line == 0) {
              // File-level problem: point at the scene's image key.
              diag_.error(v.pos("image"), "[beam] image '" + *img + "': " + d.what, d.fix);
            } else {
              diag_.error(d.where, d.what, d.fix);
            }
          }
          for (int a = 0; px && local.empty() && a < 2; ++a) {
            const double extent = (a == 0 ? b.image.nx : b.image.ny) * b.image.pixel_um[a];
            if (extent > kMaxLength_um)
              v.error("pixel_um", "makes the image " + fmt_g(extent, 4) + " um wide along " + (a ? "y" : "x") +
                                      "; at most " + fmt_g(kMaxLength_um, 4) + " um",
                      "check pixel_um (micrometres)");
          }
        }
      }
    }
    v.check_unknown_keys();
  }

  void read_spectrum(TableView& v, BeamSpec& b) {
    const char* example = "[[26.9, 0.25], [27.0, 0.5], [27.1, 0.25]]";
    const toml::array* a = v.array("spectrum", true, example);
    if (!a) return;
    if (a->empty()) {
      v.error("spectrum", "is empty", std::string("list [energy_keV, weight] pairs, e.g. spectrum = ") + example);
      return;
    }
    if (a->size() > static_cast<size_t>(kMaxSpectrumLines)) {
      v.error("spectrum", "has " + std::to_string(a->size()) + " lines; dosemap transports at most " +
                              std::to_string(kMaxSpectrumLines),
              "bin the spectrum into fewer lines (each keeps its photon weight)");
      return;
    }
    std::vector<SpectrumLine> lines;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& n = (*a)[i];
      const toml::array* pair = n.as_array();
      std::optional<double> e, w;
      if (pair && pair->size() == 2) {
        e = as_finite_number((*pair)[0]);
        w = as_finite_number((*pair)[1]);
      }
      if (!e || !w || *e < kMinEnergy_keV || *e > kMaxEnergy_keV || !(*w > 0)) {
        diag_.error(pos_of(n.source(), file_),
                    "[beam] spectrum line " + std::to_string(i + 1) + " must be [energy_keV, weight] with energy between " +
                        fmt_g(kMinEnergy_keV) + " and " + fmt_g(kMaxEnergy_keV) + " keV and a positive weight, got " +
                        toml_text(n),
                    std::string("e.g. spectrum = ") + example);
        continue;
      }
      for (const auto& l : lines)
        if (l.energy_keV == *e)
          diag_.error(pos_of(n.source(), file_), "[beam] spectrum line " + std::to_string(i + 1) + " repeats " +
                                                     fmt_g(*e, 8) + " keV",
                      "merge the two weights into one line");
      lines.push_back({*e, *w});
    }
    // Weights are relative: scale by the largest first, so that weights near the largest
    // finite number still sum to a finite total.
    double largest = 0, total = 0;
    for (const auto& l : lines) largest = std::max(largest, l.weight);
    for (auto& l : lines) total += (l.weight /= largest);
    for (auto& l : lines) l.weight /= total;
    b.spectrum = lines;
  }

  // One quantity of a log: { column = "samx", unit = "mm", sign = -1, zero = 0.0 }. `units`:
  // the allowed units and their factor to the quantity's own (um, deg, s); `signed_axis`:
  // sign required and zero allowed (positions and angles).
  std::optional<LogColumn> read_log_column(TableView& v, std::string_view key, bool required,
                                           const std::vector<std::pair<std::string, double>>& units, bool signed_axis,
                                           std::string_view example) {
    if (!v.has(key)) {
      if (required) v.error(key, "is required", "add e.g. " + std::string(key) + " = " + std::string(example));
      return std::nullopt;
    }
    const toml::table* t = v.table(key, true);
    if (!t) return std::nullopt;
    std::vector<std::string> allowed = {"column"};
    if (!units.empty()) allowed.push_back("unit");
    if (signed_axis) allowed.insert(allowed.end(), {"sign", "zero"});
    if (key == "monitor") allowed.push_back("reference");
    TableView c(*t, v.name() + " " + std::string(key), file_, diag_, allowed);
    LogColumn col;
    col.present = true;
    col.where = v.pos(key);
    const auto name = c.string("column", true, "\"samx\"");
    if (name) col.column = *name;
    if (name && name->empty()) c.error("column", "is empty", "name the column (CSV header) or counter (HDF5)");
    bool ok = name && !name->empty();
    if (!units.empty()) {
      std::vector<std::string> names;
      for (const auto& u : units) names.push_back(u.first);
      const auto unit = c.choice("unit", names, true);
      ok = ok && unit;
      for (const auto& u : units)
        if (unit && *unit == u.first) col.unit = u.second;
    }
    if (signed_axis) {
      // No default: a wrong sign mirrors the whole map without any other sign of trouble.
      const auto sign = c.number("sign", in_range(-1, 1), true, "-1");
      if (sign && *sign != 1 && *sign != -1)
        c.error("sign", "must be 1 or -1",
                "-1 for a sample motor (moving the sample +d moves the beam -d across it), 1 for a beam motor");
      ok = ok && sign && (*sign == 1 || *sign == -1);
      if (sign) col.sign = *sign;
      const auto zero = c.number("zero", any_number(), false, "12.5");
      col.zero = zero.value_or(0.0);
      ok = ok && !(c.has("zero") && !zero);
    }
    if (key == "monitor") {
      const auto ref = c.number("reference", positive(), true, "1.0e5");
      ok = ok && ref;
      if (ref) col.reference = *ref;
    }
    c.check_unknown_keys();
    if (!ok) return std::nullopt;
    return col;
  }

  // kind = "log": the file's rows read and converted now (host/scene/scan_log.h).
  bool read_log_step(TableView& v, ScanStep& st) {
    static const std::vector<std::pair<std::string, double>> lengths = {{"nm", 1e-3}, {"um", 1.0}, {"mm", 1e3}};
    static const std::vector<std::pair<std::string, double>> angles = {
        {"deg", 1.0}, {"mrad", 0.057295779513082321}, {"rad", 57.295779513082321}};
    static const std::vector<std::pair<std::string, double>> times = {{"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}};
    ScanLogSpec spec;
    spec.file_where = v.pos("file");
    st.log_file_where = spec.file_where;
    const size_t errors_before = diag_.size();
    const auto file = v.string("file", true, "\"scan_0042.h5\"");
    const auto mode = v.choice("mode", {"points", "fly"}, true);
    spec.fly = mode && *mode == "fly";
    if (file) {
      spec.shown = *file;
      spec.path = scene_relative(*file);
      const ArrayFileKind kind = array_file_kind(*file);
      spec.hdf5 = kind == ArrayFileKind::kHdf5;
      if (!spec.hdf5 && kind != ArrayFileKind::kCsv)
        v.error("file", "'" + *file + "' is not a scan log dosemap reads", "give a .csv file or an .h5/.hdf5/.nxs (BLISS) file");
    }
    if (spec.hdf5) {
      if (auto entry = v.string("entry", true, "\"42.1\"")) {
        spec.entry = *entry;
        if (entry->empty()) v.error("entry", "is empty", "give the scan's entry in the file, e.g. \"42.1\"");
      }
      if (auto g = v.string("columns", false, "\"measurement\"")) spec.columns_group = *g;
      if (auto g = v.string("constants", false, "\"instrument/positioners_start\"")) spec.constants_group = *g;
    } else if (file) {
      for (const char* k : {"entry", "columns", "constants"})
        if (v.has(k)) v.reject(k, "applies to HDF5 logs (.h5, .hdf5, .nxs) only; remove it");
    }
    spec.x = read_log_column(v, "x", false, lengths, true, "{ column = \"samx\", unit = \"mm\", sign = -1 }")
                 .value_or(LogColumn{});
    spec.y = read_log_column(v, "y", false, lengths, true, "{ column = \"samy\", unit = \"mm\", sign = -1 }")
                 .value_or(LogColumn{});
    if (!v.has("x") || !v.has("y")) {
      if (auto at = v.numbers<2>("at_um", position_rule(), false, "[0.0, 0.0]")) spec.at_um = *at;
      else if (!v.has("at_um"))
        v.error_here(std::string("has no ") + (v.has("x") ? "y" : v.has("y") ? "x" : "x or y") +
                         " column: say where the beam stays along that axis",
                     "add at_um = [x, y] (the fixed position; the columns' axes ignore it), or a column for it");
    } else if (v.has("at_um")) {
      v.reject("at_um", "does not apply when both x and y come from columns; remove it");
    }
    if (v.has("angle")) {
      spec.angle = read_log_column(v, "angle", false, angles, true, "{ column = \"srot\", unit = \"deg\", sign = 1 }")
                       .value_or(LogColumn{});
      v.reject("angle_deg", "does not apply when the angle column gives the stage angle; remove it");
    }
    spec.time = read_log_column(v, "time", spec.fly, times, false, "{ column = \"epoch\", unit = \"s\" }")
                    .value_or(LogColumn{});
    if (spec.fly) {
      for (const char* k : {"exposure", "exposure_s", "move_s"})
        if (v.has(k)) v.reject(k, "does not apply to mode = \"fly\" (the beam is on from row to row); remove it");
    } else {
      if (v.has("exposure") && v.has("exposure_s"))
        v.reject("exposure_s", "and exposure both give the exposure time: keep one");
      if (v.has("exposure")) {
        spec.exposure = read_log_column(v, "exposure", true, times, false, "").value_or(LogColumn{});
      } else if (auto e = v.number("exposure_s", time_rule(), false, "0.1")) {
        spec.exposure_s = *e;
      } else if (!v.has("exposure_s")) {
        v.error_here("needs each row's exposure time",
                     "add exposure_s = 0.1 (the count time of every point: a BLISS scan's title ends in it), or "
                     "exposure = { column = \"count_time\", unit = \"s\" }");
      }
      if (spec.time.present && v.has("move_s"))
        v.reject("move_s", "does not apply when the time column says when each row begins; remove it");
      auto move = v.number("move_s", in_range(0.0, kMaxTime_s), false, "0.2");
      st.move_s = move.value_or(0.0);
    }
    if (v.has("monitor")) {
      spec.monitor = read_log_column(v, "monitor", false, {}, false, "").value_or(LogColumn{});
    }
    if (v.has("shutter")) spec.shutter = read_log_column(v, "shutter", false, {}, false, "").value_or(LogColumn{});
    const auto off = v.choice("off_grid", {"error", "skip"}, false);
    st.log_skip_off_grid = off && *off == "skip";
    if (!file || !mode || diag_.size() != errors_before) return false;
    st.log = read_scan_log(spec, diag_);
    return st.log != nullptr;
  }

  void read_scan(const toml::table& t, Scene& s) {
    TableView v(t, "[scan]", file_, diag_, {"repeat", "period_s", "steps"});
    ScanSpec& sc = s.scan;
    sc.where = v.pos();
    sc.repeat = v.integer("repeat", 1, kMaxRepeat, false).value_or(1);
    sc.period_s = v.number("period_s", in_range(0.0, kMaxTime_s), false, "0.0").value_or(0.0);
    sc.period_where = v.pos("period_s");
    const toml::array* steps = v.array("steps", true, "[ { kind = \"point\", at_um = [0.0, 0.0], exposure_s = 1.0 } ]");
    if (steps && steps->empty())
      v.error("steps", "is empty: the scan does nothing",
              "add at least one [[scan.steps]] (point, raster, fly, rotate, xrdct or wait)");
    if (steps) {
      for (size_t i = 0; i < steps->size(); ++i) {
        const toml::table* st = (*steps)[i].as_table();
        if (!st) {
          diag_.error(pos_of((*steps)[i].source(), file_), ordinal_name("scan.steps", i) + " must be a table",
                      "write [[scan.steps]] with kind = \"point\", \"raster\", \"fly\", \"rotate\", \"xrdct\" or "
                      "\"wait\"");
          continue;
        }
        read_step(*st, i, sc);
      }
      bool beam_on = false;
      for (const auto& st : sc.steps) beam_on = beam_on || st.kind != StepKind::kWait;
      if (!sc.steps.empty() && !beam_on && sc.steps.size() == steps->size())
        v.error("steps", "only has wait steps: the beam is never on", "add a point, raster, fly, rotate or xrdct step");
    }
    v.check_unknown_keys();
  }

  void read_step(const toml::table& t, size_t index, ScanSpec& sc) {
    static const std::map<std::string, std::vector<std::string>> keys = {
        {"point", {"at_um", "exposure_s"}},
        {"raster", {"from_um", "to_um", "step_um", "dwell_s", "move_s", "order"}},
        {"fly", {"path_um", "speed_um_s"}},
        {"wait", {"duration_s"}},
        {"rotate", {"at_um", "from_deg", "to_deg", "step_deg", "dwell_s", "move_s", "speed_deg_s"}},
        {"xrdct", {"from_deg", "to_deg", "step_deg", "x_from_um", "x_to_um", "x_step_um", "dwell_s", "move_s",
                   "speed_um_s", "y_um", "line_move_s", "order"}},
        {"log", {"file", "entry", "columns", "constants", "mode", "x", "y", "angle", "time", "exposure", "exposure_s",
                 "at_um", "move_s", "monitor", "shutter", "off_grid"}},
    };
    const std::string shown = ordinal_name("scan.steps", index);
    TableView probe(t, shown, file_, diag_, {});
    auto kind = probe.choice("kind", {"point", "raster", "fly", "wait", "rotate", "xrdct", "log"}, true);
    if (!kind) return;
    std::vector<std::string> allowed = keys.at(*kind);
    allowed.push_back("kind");
    // Every kind may hold the stage at an angle, except those that turn it themselves.
    const bool turns = *kind == "rotate" || *kind == "xrdct";
    if (!turns) allowed.push_back("angle_deg");
    TableView v(t, shown, file_, diag_, allowed);
    // Keys of the other kinds: say which kind they belong to rather than "unknown".
    for (const auto& [other, other_keys] : keys) {
      if (other == *kind) continue;
      for (const auto& k : other_keys) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        v.reject(k, "applies to kind = \"" + other + "\" steps, not \"" + *kind + "\"; remove it or change kind");
      }
    }
    if (turns)
      v.reject("angle_deg", "does not apply to kind = \"" + *kind +
                                "\" steps, which turn the stage from from_deg to to_deg; remove it");
    ScanStep st;
    st.where = v.pos();
    bool ok = true;
    if (!turns) {
      const auto angle = v.number("angle_deg", angle_rule(), false, "45.0");
      st.angle_deg = angle.value_or(0.0);
      st.angle_where = v.pos("angle_deg");
      if (v.has("angle_deg") && !angle) ok = false;
    }
    if (*kind == "point") {
      st.kind = StepKind::kPoint;
      auto at = v.numbers<2>("at_um", position_rule(), true, "[0.0, 0.0]");
      auto e = v.number("exposure_s", time_rule(), true, "2.5");
      ok = at && e;
      if (ok) {
        st.at_um = *at;
        st.exposure_s = *e;
      }
    } else if (*kind == "raster") {
      st.kind = StepKind::kRaster;
      auto from = v.numbers<2>("from_um", position_rule(), true, "[-500.0, -200.0]");
      auto to = v.numbers<2>("to_um", position_rule(), true, "[500.0, 200.0]");
      auto step = v.numbers<2>("step_um", length_rule(), true, "[50.0, 20.0]");
      auto dwell = v.number("dwell_s", time_rule(), true, "1.0");
      auto move = v.number("move_s", in_range(0.0, kMaxTime_s), false, "0.2");
      auto order = v.choice("order", {"snake", "lines"}, false);
      ok = from && to && step && dwell;
      if (ok) {
        st.from_um = *from;
        st.to_um = *to;
        st.step_um = *step;
        st.dwell_s = *dwell;
        st.move_s = move.value_or(0.0);
        st.order = order.value_or("snake") == "lines" ? RasterOrder::kLines : RasterOrder::kSnake;
        for (int a = 0; a < 2; ++a) {
          const double n = std::fabs(st.to_um[a] - st.from_um[a]) / st.step_um[a];
          if (n > kMaxRasterPointsPerAxis) {
            v.error("step_um", "gives " + fmt_g(n, 3) + " raster points along " + (a ? "y" : "x"),
                    "check the units: positions and steps are in micrometres");
            ok = false;
          }
        }
      }
    } else if (*kind == "fly") {
      st.kind = StepKind::kFly;
      auto speed = v.number("speed_um_s", in_range(kMinSpeed_um_s, kMaxSpeed_um_s), true, "100.0");
      const toml::array* path = v.array("path_um", true, "[[-500.0, 0.0], [500.0, 0.0]]");
      ok = speed && path;
      if (path) {
        if (path->size() < 2) {
          v.error("path_um", "needs at least 2 points to move along, got " + std::to_string(path->size()),
                  "write e.g. path_um = [[-500.0, 0.0], [500.0, 0.0]]");
          ok = false;
        }
        for (size_t i = 0; i < path->size(); ++i) {
          const toml::node& n = (*path)[i];
          const toml::array* p = n.as_array();
          std::optional<double> x, y;
          if (p && p->size() == 2) {
            x = as_finite_number((*p)[0]);
            y = as_finite_number((*p)[1]);
          }
          const NumberRule within = position_rule();
          if (!x || !y || !within.accepts(*x) || !within.accepts(*y)) {
            diag_.error(pos_of(n.source(), file_),
                        shown + " path_um point " + std::to_string(i + 1) + " must be [x_um, y_um] with " +
                            within.describe(true) + ", got " + toml_text(n),
                        "write each point as two numbers in micrometres");
            ok = false;
            continue;
          }
          if (!st.path_um.empty() && st.path_um.back()[0] == *x && st.path_um.back()[1] == *y) {
            diag_.error(pos_of(n.source(), file_),
                        shown + " path_um point " + std::to_string(i + 1) + " repeats the point before it",
                        "remove it (to stay in place with the beam on, use a point step)");
            ok = false;
          }
          st.path_um.push_back({*x, *y});
        }
      }
      if (speed) st.speed_um_s = *speed;
    } else if (*kind == "wait") {
      st.kind = StepKind::kWait;
      auto d = v.number("duration_s", time_rule(), true, "600.0");
      ok = ok && d.has_value();
      if (d) st.duration_s = *d;
    } else if (*kind == "rotate") {
      st.kind = StepKind::kRotate;
      auto at = v.numbers<2>("at_um", position_rule(), true, "[0.0, 0.0]");
      ok = read_angle_range(v, st, "rotate") && at && ok;
      if (at) st.at_um = *at;
      if (!v.has("speed_deg_s") && !v.has("step_deg") && !v.has("dwell_s")) {
        v.error_here("needs step_deg and dwell_s (step and shoot) or speed_deg_s (a continuous rotation)",
                     "add e.g. step_deg = 0.5 and dwell_s = 0.1, or speed_deg_s = 6.0");
        ok = false;
      } else if (v.has("speed_deg_s")) {
        st.continuous = true;
        for (const char* k : {"step_deg", "dwell_s", "move_s"})
          v.reject(k, "does not apply to a continuous rotation (speed_deg_s); remove it, or remove speed_deg_s to "
                      "step and shoot");
        auto speed = v.number("speed_deg_s", in_range(kMinAngularSpeed_deg_s, kMaxAngularSpeed_deg_s), true, "6.0");
        ok = ok && speed.has_value();
        if (speed) st.speed_deg_s = *speed;
      } else {
        ok = read_angle_steps(v, st) && ok;
        auto dwell = v.number("dwell_s", time_rule(), true, "0.1");
        auto move = v.number("move_s", in_range(0.0, kMaxTime_s), false, "0.0");
        ok = ok && dwell.has_value() && !(v.has("move_s") && !move);
        if (dwell) st.dwell_s = *dwell;
        st.move_s = move.value_or(0.0);
      }
    } else if (*kind == "log") {
      st.kind = StepKind::kLog;
      ok = read_log_step(v, st) && ok;
    } else {
      st.kind = StepKind::kXrdct;
      ok = read_angle_range(v, st, "xrdct") && ok;
      ok = read_angle_steps(v, st) && ok;
      auto x_from = v.number("x_from_um", position_rule(), true, "-500.0");
      auto x_to = v.number("x_to_um", position_rule(), true, "500.0");
      ok = ok && x_from && x_to;
      if (x_from) st.x_from_um = *x_from;
      if (x_to) st.x_to_um = *x_to;
      if (x_from && x_to && *x_from == *x_to)
        v.error("x_to_um", "equals x_from_um: the line has no length", "scan a line, e.g. x_from_um = -500.0, x_to_um = 500.0");
      if (!v.has("speed_um_s") && !v.has("x_step_um") && !v.has("dwell_s")) {
        v.error_here("needs x_step_um and dwell_s (points along each line) or speed_um_s (fly lines)",
                     "add e.g. x_step_um = 10.0 and dwell_s = 0.05, or speed_um_s = 200.0");
        ok = false;
      } else if (v.has("speed_um_s")) {
        st.continuous = true;
        for (const char* k : {"x_step_um", "dwell_s", "move_s"})
          v.reject(k, "does not apply to fly lines (speed_um_s); remove it, or remove speed_um_s to step along "
                      "the lines");
        auto speed = v.number("speed_um_s", in_range(kMinSpeed_um_s, kMaxSpeed_um_s), true, "200.0");
        ok = ok && speed.has_value();
        if (speed) st.speed_um_s = *speed;
      } else {
        auto step = v.number("x_step_um", length_rule(), true, "10.0");
        auto dwell = v.number("dwell_s", time_rule(), true, "0.05");
        auto move = v.number("move_s", in_range(0.0, kMaxTime_s), false, "0.0");
        ok = ok && step && dwell && !(v.has("move_s") && !move);
        if (step) st.x_step_um = *step;
        if (dwell) st.dwell_s = *dwell;
        st.move_s = move.value_or(0.0);
        if (step && x_from && x_to && std::fabs(*x_to - *x_from) / *step > kMaxRasterPointsPerAxis) {
          v.error("x_step_um", "gives " + fmt_g(std::fabs(*x_to - *x_from) / *step, 3) + " points per line",
                  "check the units: positions and steps are in micrometres");
          ok = false;
        }
      }
      if (v.has("y_um")) {
        auto ys = v.number_list("y_um", position_rule(), 1, false, "[0.0, 10.0]");
        ok = ok && ys.has_value();
        if (ys && static_cast<double>(ys->size()) > kMaxRasterPointsPerAxis) {
          v.error("y_um", "lists " + group_digits(static_cast<long long>(ys->size())) + " heights; at most " +
                              fmt_g(kMaxRasterPointsPerAxis, 3));
          ok = false;
        }
        if (ys) st.y_um = *ys;
      } else {
        st.y_um = {0.0};
      }
      auto line_move = v.number("line_move_s", in_range(0.0, kMaxTime_s), false, "0.5");
      ok = ok && !(v.has("line_move_s") && !line_move);
      st.line_move_s = line_move.value_or(0.0);
      auto order = v.choice("order", {"snake", "lines"}, false);
      ok = ok && !(v.has("order") && !order);
      st.order = order.value_or("snake") == "lines" ? RasterOrder::kLines : RasterOrder::kSnake;
    }
    v.check_unknown_keys();
    if (ok) sc.steps.push_back(st);
  }

  // from_deg and to_deg of a rotate or xrdct step.
  bool read_angle_range(TableView& v, ScanStep& st, const std::string& kind) {
    auto from = v.number("from_deg", angle_rule(), true, "0.0");
    auto to = v.number("to_deg", angle_rule(), true, "180.0");
    if (!from || !to) return false;
    st.from_deg = *from;
    st.to_deg = *to;
    if (*from == *to && (kind == "xrdct" || v.has("speed_deg_s"))) {
      v.error("to_deg", "equals from_deg: the stage does not turn",
              kind == "xrdct" ? "give the range of angles, e.g. from_deg = 0.0, to_deg = 179.0"
                              : "give the range the stage turns through, e.g. from_deg = 0.0, to_deg = 180.0");
      return false;
    }
    return true;
  }

  // step_deg of a step-and-shoot rotate or xrdct step, with the number of angles it gives.
  bool read_angle_steps(TableView& v, ScanStep& st) {
    auto step = v.number("step_deg", in_range(kMinAngleStep_deg, 360.0), true, "0.5");
    if (!step) return false;
    st.step_deg = *step;
    const double n = std::fabs(st.to_deg - st.from_deg) / st.step_deg;
    if (n > kMaxRasterPointsPerAxis) {
      v.error("step_deg", "gives " + fmt_g(n, 3) + " angles", "use a larger step_deg (in degrees)");
      return false;
    }
    return true;
  }

  void read_output(const toml::table& t, Scene& s) {
    TableView v(t, "[output]", file_, diag_, {"thresholds_Gy", "formats", "frames_s", "frame_every_s"});
    s.output.where = v.pos();
    if (const toml::array* f = v.array("formats", false, "[\"vdb\", \"vti\"]")) {
      s.output.formats_where = v.pos("formats");
      bool vdb = false, vti = false, ok = !f->empty();
      for (const auto& e : *f) {
        const auto* str = e.as_string();
        if (str && str->get() == "vdb" && !vdb) vdb = true;
        else if (str && str->get() == "vti" && !vti) vti = true;
        else ok = false;
      }
      if (!ok)
        v.error("formats", "must list \"vdb\" and/or \"vti\" once each, got " + toml_text(*f),
                "write e.g. formats = [\"vdb\", \"vti\"] (vti: VTK image data for ParaView)");
      else
        s.output.write_vdb = vdb, s.output.write_vti = vti;
    }
    if (v.has("frames_s") && v.has("frame_every_s")) {
      v.error("frame_every_s", "cannot be given together with frames_s", "keep one of them");
    } else if (v.has("frames_s")) {
      s.output.frames_where = v.pos("frames_s");
      if (auto f = v.number_list("frames_s", positive(), 1, false, "[3600.0, 7200.0]")) {
        for (size_t i = 1; i < f->size(); ++i)
          if (!((*f)[i] > (*f)[i - 1])) {
            v.error("frames_s", "must be in increasing order without repeats", "sort the frame times");
            break;
          }
        s.output.frames_s = *f;
      }
    } else if (v.has("frame_every_s")) {
      s.output.frames_where = v.pos("frame_every_s");
      s.output.frame_every_s = v.number("frame_every_s", time_rule(), false, "600.0").value_or(0.0);
    }
    if (auto list = read_thresholds(v, "[output]")) s.output.thresholds = *list;
    v.check_unknown_keys();
  }

  // A thresholds_Gy table ({ label = dose, ... }) of [output] or of a material, ascending.
  std::optional<std::vector<Threshold>> read_thresholds(TableView& v, const std::string& owner) {
    const toml::table* th = v.table("thresholds_Gy", false);
    if (!th) return std::nullopt;
    std::vector<Threshold> list;
    for (auto&& [k, node] : *th) {
      const std::string label(k.str());
      const SourcePos where = pos_of(node.source(), file_);
      if (!std::regex_match(label, label_pattern())) {
        diag_.error(pos_of(k.source(), file_), owner + " thresholds_Gy label '" + label + "' cannot be used in grid names",
                    "use letters, digits and _ only, starting with a letter");
        continue;
      }
      auto d = as_finite_number(node);
      if (!d || !(*d > 0)) {
        diag_.error(where, owner + " thresholds_Gy." + label + " must be a positive dose in Gy, got " + toml_text(node),
                    "write e.g. " + label + " = 1.0e6");
        continue;
      }
      list.push_back({label, *d});
    }
    std::stable_sort(list.begin(), list.end(), [](const Threshold& a, const Threshold& b) { return a.dose_Gy < b.dose_Gy; });
    if (list.size() > static_cast<size_t>(kMaxThresholds))
      v.error("thresholds_Gy", "has " + std::to_string(list.size()) + " thresholds; at most " +
                                   std::to_string(kMaxThresholds) + " are supported",
              "keep the thresholds that matter for this sample");
    return list;
  }

  // The grids t_<label>_s and dose_gt_<label> are one per label of all the scales the sample
  // uses together (host/scene/threshold_scale.h): the march keeps at most kMaxThresholds.
  void check_threshold_labels(const Scene& s) {
    const std::vector<bool> used = materials_in_use(s);
    std::unordered_set<std::string> labels;
    auto add = [&](const std::vector<Threshold>& list, const SourcePos& where, const std::string& owner) {
      for (const Threshold& t : list)
        if (labels.insert(t.label).second && labels.size() == static_cast<size_t>(kMaxThresholds) + 1) {
          diag_.error(where, owner + " thresholds_Gy brings the labels the sample uses to " +
                                 std::to_string(kMaxThresholds + 1) + "; at most " + std::to_string(kMaxThresholds) +
                                 " distinct labels are supported (each is a grid)",
                      "reuse the labels of [output] thresholds_Gy where they mean the same damage");
          return false;
        }
      return true;
    };
    bool any_default = false;
    for (size_t m = 0; m < s.materials.size(); ++m)
      any_default = any_default || (used[m] && !s.materials[m].has_thresholds);
    if (any_default && !add(s.output.thresholds, s.output.where, "[output]")) return;
    for (size_t m = 0; m < s.materials.size(); ++m)
      if (used[m] && s.materials[m].has_thresholds &&
          !add(s.materials[m].thresholds, s.materials[m].thresholds_where, "[materials." + s.materials[m].name + "]"))
        return;
  }

  void check_material_references(const Scene& s) {
    std::vector<std::string> with_void;
    for (const auto& m : s.materials) with_void.push_back(m.name);
    with_void.push_back(kVoidMaterial);
    // A suggestion costs an edit distance per material: one per distinct unknown name, and
    // only for the first few (the report shows only a few of one kind anyway).
    std::map<std::string, std::string> fixes;
    auto check = [&](const std::string& name, const SourcePos& where, const std::string& who) {
      if (name == kVoidMaterial || s.material_index(name) >= 0) return;
      if (declared_materials_.count(name)) return;
      auto known = fixes.find(name);
      if (known == fixes.end()) {
        std::string fix = fixes.size() < 2 * Diagnostics::kKeptPerKind ? did_you_mean(name, with_void) : "";
        if (fix.empty())
          fix = with_void.size() <= 12 ? "define [materials." + name + "] or use one of: " + join_alternatives(with_void)
                                       : "define [materials." + name + "] or use a material defined in [materials]";
        known = fixes.emplace(name, fix).first;
      }
      diag_.error(where, who + " uses material '" + name + "', which is not defined", known->second);
    };
    for (size_t i = 0; i < s.sample.layers.size(); ++i)
      check(s.sample.layers[i].material, s.sample.layers[i].material_where, ordinal_name("sample.layers", i));
    for (const VolumeLabel& l : s.sample.volume.labels)
      check(l.material, l.where, "[sample.volume] label " + std::to_string(l.value));
    for (size_t i = 0; i < s.sample.shapes.size(); ++i)
      check(s.sample.shapes[i].material, s.sample.shapes[i].material_where, ordinal_name("sample.shapes", i));
    for (const auto& m : s.materials) {
      for (const auto& c : m.components) {
        const std::string who = "[materials." + m.name + "] component";
        if (c.material == m.name) {
          diag_.error(c.where, who + " '" + c.material + "' is the composite itself", "list its constituents instead");
          continue;
        }
        check(c.material, c.where, who);
        const int idx = s.material_index(c.material);
        if (idx >= 0 && s.materials[idx].kind == MaterialSpec::Kind::kComposite)
          diag_.error(c.where, who + " '" + c.material + "' is itself a composite",
                      "list the components of '" + c.material + "' directly (composites do not nest)");
      }
    }
    check_component_counts(s);
    bool any_matter = false;
    for (const auto& l : s.sample.layers) any_matter = any_matter || l.material != kVoidMaterial;
    for (const auto& l : s.sample.volume.labels) any_matter = any_matter || l.material != kVoidMaterial;
    for (const auto& sh : s.sample.shapes) any_matter = any_matter || sh.material != kVoidMaterial;
    if ((!s.sample.layers.empty() || !s.sample.volume.labels.empty()) && !any_matter)
      diag_.error(s.sample.where, "[sample] contains only void: nothing absorbs dose",
                  "give at least one layer, label or shape a material");
  }

  // Without [sample.stage] the sample never turns: a step that turns it is a mistake the
  // user must resolve by saying about which axis.
  void check_stage_use(const Scene& s) {
    if (s.sample.stage.present) return;
    for (size_t i = 0; i < s.scan.steps.size(); ++i) {
      const ScanStep& st = s.scan.steps[i];
      const bool logged_turn =
          st.log && std::any_of(st.log->angle_deg.begin(), st.log->angle_deg.end(), [](double a) { return a != 0; });
      const bool turns = st.kind == StepKind::kRotate || st.kind == StepKind::kXrdct || logged_turn;
      if (!turns && st.angle_deg == 0) continue;
      diag_.error(turns ? st.where : st.angle_where,
                  ordinal_name("scan.steps", i) + " " +
                      (logged_turn ? std::string("replays a log whose angle column turns the stage")
                       : turns     ? std::string("kind = \"") + step_kind_name(st.kind) + "\" turns the stage"
                                   : "angle_deg = " + fmt_g(st.angle_deg, 8) + " turns the stage") +
                      ", but the scene has no [sample.stage]",
                  "add [sample.stage] with axis = \"y\" (vertical; or \"x\", \"z\") and, if the axis is not at "
                  "x = y = 0 and mid-depth, center_um");
      return;
    }
  }

  // The march keeps a dose per component grid (a distinct component material) and per
  // component slot (a composite's component, or a component material filling voxels alone)
  // in fixed-size arrays (cuda/engine_limits.h): refuse more here, where the scene says so.
  void check_component_counts(const Scene& s) {
    std::unordered_set<std::string> grids;
    int composite_slots = 0;
    bool slots_reported = false;
    for (const auto& m : s.materials) {
      std::unordered_set<std::string> in_this;  // a repeated component is its own error
      for (const auto& c : m.components) {
        if (c.material == kVoidMaterial || !in_this.insert(c.material).second) continue;
        const bool new_grid = grids.insert(c.material).second;
        ++composite_slots;
        if (new_grid && grids.size() == static_cast<size_t>(kMaxComponentGrids) + 1)
          diag_.error(c.where, "[materials." + m.name + "] component '" + c.material +
                                   "' is one distinct component material too many: at most " +
                                   std::to_string(kMaxComponentGrids) + " get a dose grid",
                      "merge components that need no separate dose");
        // Every component material also fills voxels alone (one more slot each).
        if (!slots_reported && composite_slots + static_cast<int>(grids.size()) > kMaxComponentSlots) {
          slots_reported = true;
          diag_.error(c.where, "[materials." + m.name + "] component '" + c.material + "' takes the composites past " +
                                   std::to_string(kMaxComponentSlots) +
                                   " component doses in all (each component of each composite, plus each component "
                                   "material on its own)",
                      "merge components that need no separate dose");
        }
      }
    }
  }

  std::string file_;
  Diagnostics& diag_;
  // Every name under [materials], valid or not: a reference to a material that has its
  // own error is not also "not defined".
  std::unordered_set<std::string> declared_materials_;
};

}  // namespace

Scene read_scene_text(const std::string& text, const std::string& path) {
  Diagnostics diag;
  if (static_cast<int64_t>(text.size()) > kMaxSceneFileBytes)
    throw UserError({path, 0, 0}, "is " + human_bytes(static_cast<double>(text.size())) + "; a scene may be at most " +
                                      human_bytes(static_cast<double>(kMaxSceneFileBytes)),
                    "is this a scene file? Big data (beam images) goes in files the scene names");
  if (!check_toml_nesting(text, path, diag)) diag.throw_if_any();
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    diag.error(pos_of(e.source(), path), "not valid TOML: " + std::string(e.description()),
               "see docs/scene-format.md for the syntax");
    diag.throw_if_any();
  }
  SceneReader reader(path, diag);
  Scene s = reader.read(root);
  diag.throw_if_any();
  return s;
}

Scene read_scene(const std::string& path) {
  std::string text;
  read_small_file(path, "scene file", kMaxSceneFileBytes, text);
  return read_scene_text(text, path);
}

}  // namespace dosemap
