// The compiled part of the Python package `dosemap` (python/dosemap/__init__.py re-exports
// it): scenes read and validated by the same code as `dosemap check` and `dosemap run`, so
// that a scene Python accepts is exactly one the CLI accepts, and a rejected one raises
// SceneError with the CLI's own lines; runs computed and written by the CLI's own
// compute_run / write_run (host/cli/computed_run.h), their arrays handed to NumPy without a
// copy; plans computed by the CLI's compute_plan (host/cli/computed_plan.h); materials
// resolved as `dosemap materials` resolves them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "host/cli/computed_plan.h"
#include "host/cli/computed_run.h"
#include "host/cli/scene_setup.h"
#include "host/cli/scene_warnings.h"
#include "host/common/progress.h"
#include "host/outputs/output_files.h"
#include "host/common/errors.h"
#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/python/watched_work.h"
#include "host/scene/scene_limits.h"
#include "host/scene/scene_reader.h"
#include "host/scene/toml_reader.h"

namespace py = pybind11;

namespace dosemap {
namespace {

// ---- scenes as dicts: TOML's tables, arrays, strings, numbers and booleans ----

py::object toml_to_python(const toml::node& n) {
  if (const toml::table* t = n.as_table()) {
    // In the file's order (toml++ sorts keys): the scene numbers materials in that order.
    std::vector<std::pair<toml::source_position, const toml::key*>> keys;
    for (const auto& [key, value] : *t) keys.push_back({value.source().begin, &key});
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    py::dict d;
    for (const auto& [at, key] : keys) d[py::str(std::string(key->str()))] = toml_to_python(*t->get(key->str()));
    return std::move(d);
  }
  if (const toml::array* a = n.as_array()) {
    py::list l;
    for (const toml::node& value : *a) l.append(toml_to_python(value));
    return std::move(l);
  }
  if (const auto* v = n.as_string()) return py::str(v->get());
  if (const auto* v = n.as_integer()) return py::int_(v->get());
  if (const auto* v = n.as_floating_point()) return py::float_(v->get());
  if (const auto* v = n.as_boolean()) return py::bool_(v->get());
  return py::str(toml_text(n));  // dates and times, which no scene key takes: their text
}

void python_to_toml(py::handle v, const std::string& where, const std::function<void(toml::node&&)>& put);

// A key of a scene dict (at `where`): a string, as in a scene file.
std::string dict_key(py::handle key, const std::string& where) {
  if (!py::isinstance<py::str>(key))
    throw UserError(SourcePos{}, "scene dict: " + (where.empty() ? std::string("a") : where + ": a") + " key is " +
                                     std::string(py::str(py::repr(key))) + ", not a string",
                    "name every key with a string, as in the scene file");
  return key.cast<std::string>();
}

toml::table dict_to_table(py::handle d, const std::string& where) {
  toml::table t;
  for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(d)) {
    const std::string k = dict_key(key, where);
    python_to_toml(value, where.empty() ? k : where + "." + k, [&](toml::node&& n) { t.insert(k, std::move(n)); });
  }
  return t;
}

void python_to_toml(py::handle v, const std::string& where, const std::function<void(toml::node&&)>& put) {
  if (py::isinstance<py::bool_>(v)) return put(toml::value<bool>(v.cast<bool>()));
  if (py::isinstance<py::str>(v)) return put(toml::value<std::string>(v.cast<std::string>()));
  if (py::isinstance<py::dict>(v)) return put(dict_to_table(v, where));
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    toml::array a;
    size_t i = 0;
    for (py::handle item : v) python_to_toml(item, where + "[" + std::to_string(i++) + "]", [&](toml::node&& n) {
        a.push_back(std::move(n));
      });
    return put(std::move(a));
  }
  // Numbers, NumPy's included: whole numbers (__index__) as integers, others as floats.
  if (py::hasattr(v, "__index__")) {
    try {
      return put(toml::value<int64_t>(v.cast<int64_t>()));
    } catch (const py::cast_error&) {
      throw UserError(SourcePos{}, "scene dict: " + where + ": " + std::string(py::str(v)) + " does not fit in 64 bits",
                      "give a smaller number");
    }
  }
  if (py::hasattr(v, "__float__")) return put(toml::value<double>(py::float_(py::reinterpret_borrow<py::object>(v))));
  throw UserError(SourcePos{}, "scene dict: " + where + ": " + std::string(py::str(py::type::of(v).attr("__name__"))) +
                                   " cannot be written in a scene",
                  "use dicts, lists, strings, numbers and booleans, as in a scene file (TOML has no None)");
}

// A key as TOML writes it: bare when it can be, else quoted.
std::string toml_key(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (bare) return key;
  std::ostringstream out;
  out << toml::toml_formatter(toml::value<std::string>(key));
  return out.str();
}

// The dict `d` as the TOML table at `header` (dotted, TOML-quoted keys; empty: the root),
// keys in the dict's order (toml++'s own writer sorts them, and the scene numbers materials
// in the order they come): its values first, then its tables as [header.key] and its lists
// of tables as [[header.key]]. toml++ writes every value.
void write_toml_table(std::ostream& out, py::handle d, const std::string& header, const std::string& where) {
  std::vector<std::pair<std::string, py::handle>> tables, table_lists;
  for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(d)) {
    const std::string k = dict_key(key, where);
    if (py::isinstance<py::dict>(value)) {
      tables.push_back({k, value});
      continue;
    }
    if ((py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) && py::len(value) > 0) {
      bool all_tables = true;
      for (py::handle item : value) all_tables = all_tables && py::isinstance<py::dict>(item);
      if (all_tables) {
        table_lists.push_back({k, value});
        continue;
      }
    }
    const std::string at = where.empty() ? k : where + "." + k;
    python_to_toml(value, at, [&](toml::node&& n) {
      toml::table one;
      one.insert(k, std::move(n));
      out << toml::toml_formatter(one) << "\n";
    });
  }
  for (const auto& [k, value] : tables) {
    const std::string h = header.empty() ? toml_key(k) : header + "." + toml_key(k);
    out << "\n[" << h << "]\n";
    write_toml_table(out, value, h, where.empty() ? k : where + "." + k);
  }
  for (const auto& [k, value] : table_lists) {
    const std::string h = header.empty() ? toml_key(k) : header + "." + toml_key(k);
    size_t i = 0;
    for (py::handle item : value) {
      out << "\n[[" << h << "]]\n";
      write_toml_table(out, item, h, (where.empty() ? k : where + "." + k) + "[" + std::to_string(i++) + "]");
    }
  }
}

// A grid's dims (x, y, z), voxel_um and origin_um.
py::dict grid_dict(const GridGeometry& g) {
  py::dict d;
  d["dims"] = py::make_tuple(g.dims[0], g.dims[1], g.dims[2]);
  d["voxel_um"] = py::make_tuple(g.voxel_um[0], g.voxel_um[1], g.voxel_um[2]);
  d["origin_um"] = py::make_tuple(g.origin_um[0], g.origin_um[1], g.origin_um[2]);
  // Index (i, j, k) = array[k, j, i] to the voxel centre in sample coordinates (um), as the
  // rows of a 4 x 4 affine matrix (dose.vdb's transform, there in mm): plain tuples, so that
  // grids compare with == (np.asarray(grid["transform"]) gives the matrix).
  py::list rows;
  for (int r = 0; r < 4; ++r) {
    std::array<double, 4> row{0, 0, 0, r == 3 ? 1.0 : 0.0};
    if (r < 3) {
      row[r] = g.voxel_um[r];
      row[3] = g.origin_um[r] + 0.5 * g.voxel_um[r];
    }
    rows.append(py::make_tuple(row[0], row[1], row[2], row[3]));
  }
  const py::tuple transform(rows);
  d["transform"] = transform;
  return d;
}

// A scene that passed every check `dosemap check` makes (the set-up, the memory it needs
// on this machine, a label volume's labels), with the TOML it was read from.
struct PyScene {
  std::shared_ptr<const SceneSetup> setup;
  std::string text;  // the TOML it was read from

  // `path` names the scene in messages and is where its relative paths start from.
  static PyScene from_toml(std::string scene_toml, const std::string& path) {
    auto s = std::make_shared<SceneSetup>(set_up_scene(read_scene_text(scene_toml, path)));
    refuse_if_short_of_memory(*s);
    // A label volume is read whole by check and run: a label without a material is an
    // error of the scene, found only by reading every voxel.
    if (s->scene.sample.volume.present) voxelize(s->scene);
    return PyScene{std::move(s), std::move(scene_toml)};
  }
  // A Scene as given, or the scene file a path names.
  static PyScene of(const py::object& scene_or_path) {
    if (py::isinstance<PyScene>(scene_or_path)) return scene_or_path.cast<PyScene>();
    return load(py::str(scene_or_path));
  }
  static PyScene load(const std::string& path) {
    std::string text;
    read_small_file(path, "scene file", kMaxSceneFileBytes, text);
    return from_toml(std::move(text), path);
  }
  // The dict is written as TOML and read as a scene file named `name` in `directory`.
  static PyScene from_dict(py::dict d, const std::string& directory, const std::string& name) {
    std::ostringstream text;
    write_toml_table(text, d, "", "");
    return from_toml(text.str(), (std::filesystem::path(directory) / name).string());
  }
  py::dict to_dict() const {
    toml::table root;
    try {
      root = toml::parse(text, setup->scene.path);
    } catch (const toml::parse_error& e) {
      DOSEMAP_BUG_CHECK(false, std::string("a scene read once no longer parses: ") + std::string(e.description()));
    }
    return toml_to_python(root);
  }

  std::vector<std::string> materials() const {
    std::vector<std::string> names;
    for (const auto& m : setup->materials.materials) names.push_back(m.name);
    return names;
  }
};

// ---- runs ----

Backend backend_named(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "cpu") return Backend::kCpu;
  if (name == "cuda") return Backend::kCuda;
  throw UserError(SourcePos{}, "backend: '" + name + "' is not one of auto, cpu, cuda", "give backend=\"auto\" (the default)");
}

// A computed run (host/cli/computed_run.h): its arrays as read-only NumPy views of the
// engine's buffers, shape (nz, ny, nx), each keeping the run alive while it is referenced.
struct PyResult {
  std::shared_ptr<ComputedRun> run;

  template <typename T>
  py::array view(const T* data) const {
    const GridGeometry& g = run->grid->geometry;
    const std::vector<py::ssize_t> shape{g.dims[2], g.dims[1], g.dims[0]};
    const std::vector<py::ssize_t> strides{static_cast<py::ssize_t>(g.dims[1] * g.dims[0] * sizeof(T)),
                                           static_cast<py::ssize_t>(g.dims[0] * sizeof(T)), sizeof(T)};
    py::capsule owner(new std::shared_ptr<ComputedRun>(run),
                      [](void* p) { delete static_cast<std::shared_ptr<ComputedRun>*>(p); });
    py::array a(py::dtype::of<T>(), shape, strides, data, owner);
    a.attr("setflags")(py::arg("write") = false);
    return a;
  }
  // The grids of dose.vdb by name (its float grids; material as the voxels' uint16 indices).
  std::vector<std::string> names() const {
    const TransportTables& tt = run->results.tables;
    std::vector<std::string> n{"material", "dose", "dose_rate_peak", "dose_rate_mean"};
    for (const auto& label : tt.thresholds.labels) n.push_back("t_" + label + "_s");
    for (const auto& c : tt.component_grid_names) n.push_back("dose:" + c);
    return n;
  }
  py::array get(const std::string& name) const {
    const DoseResults& r = run->results;
    const TransportTables& tt = r.tables;
    if (name == "material") return view(run->grid->material.data());
    if (name == "dose") return view(r.dose_Gy.data());
    if (name == "dose_rate_peak") return view(r.rate_peak_Gy_s.data());
    if (name == "dose_rate_mean") return view(r.rate_mean_Gy_s.data());
    for (int t = 0; t < tt.thresholds.count(); ++t)
      if (name == "t_" + tt.thresholds.labels[t] + "_s") return view(r.crossing(t));
    for (size_t c = 0; c < tt.component_grid_names.size(); ++c)
      if (name == "dose:" + tt.component_grid_names[c]) return view(r.component_dose(static_cast<int>(c)));
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw py::key_error("no grid '" + name + "' in this run; it has " + known);
  }
  // The dose at each frame time (frames/dose_NNNN.vdb), in the order of frame_times_s.
  py::list frames() const {
    py::list l;
    for (size_t f = 0; f < run->setup->frame_times_s.size(); ++f) l.append(view(run->results.frame_dose(static_cast<int>(f))));
    return l;
  }
  py::object summary() const {
    return py::module_::import("json").attr("loads")(summary_json(*run->record));
  }
  void write(const std::string& dir, std::optional<std::vector<std::string>> formats, bool overwrite,
             const std::string& crop, const py::object& progress_callback) {
    const Scene& scene = run->setup->scene;
    RunWriteOptions w;
    w.write_vdb = scene.output.write_vdb;
    w.write_vti = scene.output.write_vti;
    if (formats) {
      w.write_vdb = w.write_vti = false;
      for (const auto& f : *formats) {
        if (f != "vdb" && f != "vti")
          throw UserError(SourcePos{}, "formats: '" + f + "' is not vdb or vti", "give formats=(\"vdb\", \"vti\")");
        (f == "vti" ? w.write_vti : w.write_vdb) = true;
      }
    }
    if (crop != "auto" && crop != "none")
      throw UserError(SourcePos{}, "crop: '" + crop + "' is not auto or none", "give crop=\"auto\" (the default)");
    w.crop_vti = crop == "auto";
    w.keep_results = true;  // the arrays stay the views' buffers
    Progress progress(false);
    w.progress = &progress;
    run_watched(progress, progress_callback, [&] {
      RunDirectory out(dir, overwrite);
      write_run(*run, out, w);
    });
  }
};

// The engine's notes (EngineOptions::note: running on the CPU, and why) as Python warnings.
void warn_notes(const std::vector<std::string>& notes) {
  if (notes.empty()) return;
  py::object warn = py::module_::import("warnings").attr("warn");
  for (const std::string& n : notes) warn("dosemap: note: " + n, py::arg("stacklevel") = 2);
}

PyResult run_scene(py::object scene_or_path, int threads, const std::string& backend, bool convergence,
                   const py::object& progress_callback) {
  const PhaseClock since_setup;
  const PyScene scene = PyScene::of(scene_or_path);
  if (convergence)
    if (auto why = convergence_not_possible(scene.setup->scene, scene.setup->timeline, scene.setup->geometry))
      throw UserError({*why});
  // Valid but doubtful (unit slips, voxels too coarse for the beam): said, not refused.
  py::object warn = py::module_::import("warnings").attr("warn");
  for (const Diagnostic& w : scene_warnings(*scene.setup)) warn(w.format("warning"), py::arg("stacklevel") = 2);
  RunComputeOptions options;
  options.engine.backend = backend_named(backend);
  options.engine.threads = threads;
  options.convergence = convergence;
  Progress progress(false);
  options.engine.progress = &progress;
  std::vector<std::string> notes;  // the engine's (on the CPU: why), as warnings once it ends
  options.engine.note = [&](const std::string& text) { notes.push_back(text); };
  auto run = std::make_shared<ComputedRun>();
  run_watched(progress, progress_callback, [&] {
    auto grid = std::make_shared<const VoxelGrid>(voxelize(scene.setup->scene));
    *run = compute_run(scene.setup, std::move(grid), options, since_setup);
  });
  warn_notes(notes);
  return PyResult{std::move(run)};
}

// `dosemap plan`'s result (host/cli/computed_plan.h): plan.json as a dict, planned.toml as
// text and as a Scene, the report the CLI prints, and write() for the CLI's files.
struct PyPlan {
  std::shared_ptr<const ComputedPlan> plan;

  py::object json() const { return py::module_::import("json").attr("loads")(plan->plan_json); }
  py::object planned_toml() const {
    if (plan->planned_toml.empty()) return py::none();
    return py::str(plan->planned_toml);
  }
  // Read as `<scene>_planned.toml` beside the scene: a relative volume path still resolves
  // (planned.toml's beam image path is absolute).
  py::object planned() const {
    if (plan->planned_toml.empty()) return py::none();
    const std::filesystem::path scene(plan->setup->scene.path);
    return py::cast(
        PyScene::from_toml(plan->planned_toml, (scene.parent_path() / (scene.stem().string() + "_planned.toml")).string()));
  }
  py::object not_planned() const {
    if (!plan->planned_toml.empty()) return py::none();
    return py::str(plan->not_planned);
  }
  void write(const std::string& dir, bool overwrite) const {
    py::gil_scoped_release unlocked;
    RunDirectory out(dir, overwrite);
    write_plan(*plan, out);
  }
};

// The limits {name: value} as the CLI's NAME=VALUE texts (the shortest digits that read back
// as the value), in the dict's order (plan.json lists them so).
std::vector<std::string> limit_texts(const std::optional<py::dict>& limits) {
  std::vector<std::string> texts;
  if (limits)
    for (const auto& [name, value] : *limits) {
      if (!py::isinstance<py::str>(name) || !(py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)))
        throw py::type_error("limits: give {material: number}, e.g. {\"NMC811\": 1e6}; got " +
                             std::string(py::repr(name)) + ": " + std::string(py::repr(value)));
      char digits[64];
      const auto end = std::to_chars(digits, digits + sizeof digits, value.cast<double>()).ptr;
      texts.push_back(name.cast<std::string>() + "=" + std::string(digits, end));
    }
  return texts;
}

PyPlan plan_scene(py::object scene_or_path, std::optional<py::dict> limits, std::optional<py::dict> rate_limits,
                  std::optional<std::string> optimize, std::optional<double> max_dwell_scale,
                  std::optional<double> rate_window_s, int threads, const std::string& backend,
                  const py::object& progress_callback) {
  const PyScene scene = PyScene::of(scene_or_path);
  PlanOptions o;
  o.limits = limit_texts(limits);
  o.rate_limits = limit_texts(rate_limits);
  o.optimize = optimize.value_or("");
  o.max_dwell_scale_given = max_dwell_scale.has_value();
  o.max_dwell_scale = max_dwell_scale.value_or(o.max_dwell_scale);
  o.rate_window_given = rate_window_s.has_value();
  o.rate_window_s = rate_window_s.value_or(o.rate_window_s);
  o.threads = threads;
  backend_named(backend);  // refused as run() refuses it
  o.backend = backend;
  Progress progress(false);
  std::vector<std::string> notes;
  std::shared_ptr<const ComputedPlan> plan;
  run_watched(progress, progress_callback, [&] {
    const PlanJob job = prepare_plan(scene.setup, o);
    plan = std::make_shared<const ComputedPlan>(
        compute_plan(job, &progress, [&](const std::string& text) { notes.push_back(text); }));
  });
  warn_notes(notes);
  return PyPlan{std::move(plan)};
}

// `dosemap materials SPEC --energy-keV E... [--density D]` as a dict: what the material is,
// its elements and, per energy, its coefficients (cm^2/g) and attenuation length.
py::dict material_dict(const std::string& spec, const std::vector<double>& energies_keV,
                       std::optional<double> density_g_cm3) {
  if (energies_keV.empty())
    throw UserError(SourcePos{}, "materials needs at least one energy", "e.g. dosemap.materials(\"C3H4O3\", 27.0)");
  // The ranges the CLI's options accept.
  for (const double e : energies_keV)
    if (!(e >= kMaterialEnergyMin_keV && e <= kMaterialEnergyMax_keV))
      throw UserError(SourcePos{}, "energy_keV: " + fmt_g(e) + " is outside " + fmt_g(kMaterialEnergyMin_keV) + " to " +
                                       fmt_g(kMaterialEnergyMax_keV) + " keV",
                      "give photon energies in keV");
  if (density_g_cm3 && !(*density_g_cm3 >= kMaterialDensityMin_g_cm3 && *density_g_cm3 <= kMaterialDensityMax_g_cm3))
    throw UserError(SourcePos{}, "density_g_cm3: " + fmt_g(*density_g_cm3) + " is outside " +
                                     fmt_g(kMaterialDensityMin_g_cm3) + " to " + fmt_g(kMaterialDensityMax_g_cm3) + " g/cm3",
                    "give the density in g/cm3");
  const Material m = material_from_text(spec, density_g_cm3, energies_keV);
  py::dict d;
  d["name"] = m.name;
  d["source"] = m.source;
  d["density_g_cm3"] = m.density_g_cm3 > 0 ? py::object(py::float_(m.density_g_cm3)) : py::object(py::none());
  py::dict elements;
  for (const ElementFraction& e : m.elements) elements[py::str(element_symbol(e.Z))] = e.mass_fraction;
  d["elements"] = elements;  // mass fractions
  py::list lines;
  for (const MaterialCoefficients& c : m.lines) {
    py::dict l;
    l["energy_keV"] = c.energy_keV;
    l["mu_rho_cm2_g"] = c.mu_rho();
    l["photo_cm2_g"] = c.c.photo;
    l["coherent_cm2_g"] = c.c.coherent;
    l["incoherent_cm2_g"] = c.c.incoherent;
    l["mu_en_rho_cm2_g"] = c.mu_en_rho();
    l["photo_model_cm2_g"] = c.c.photo_model();
    l["absorbed_model_cm2_g"] = c.c.absorbed_model();
    l["attenuation_length_um"] = m.density_g_cm3 > 0 ? py::object(py::float_(1e4 / (c.mu_rho() * m.density_g_cm3)))
                                                      : py::object(py::none());
    lines.append(l);
  }
  d["lines"] = lines;
  return d;
}

// SceneError(text) with .diagnostics: the lines the CLI prints on stderr, one per mistake.
PyObject* g_scene_error = nullptr;

void raise_scene_error(const UserError& e) {
  std::vector<std::string> lines;
  std::string text;
  for (const Diagnostic& d : e.diagnostics()) {
    lines.push_back(d.format());
    text += (text.empty() ? "" : "\n") + lines.back();
  }
  py::object error = py::reinterpret_borrow<py::object>(g_scene_error)(text);
  error.attr("diagnostics") = lines;
  PyErr_SetObject(g_scene_error, error.ptr());
}

}  // namespace
}  // namespace dosemap

PYBIND11_MODULE(_dosemap, m) {
  using namespace dosemap;
  m.doc() = "dosemap: voxel-resolved X-ray dose and dose-rate maps (the compiled part)";
  m.attr("__version__") = DOSEMAP_VERSION;

  static py::exception<UserError> scene_error(m, "SceneError", PyExc_ValueError);
  scene_error.doc() =
      "A scene (or a file it names, or a material spec) that dosemap cannot use. str(e) is what the CLI prints "
      "on stderr "
      "(file:line:col: error: what; how to fix), one line per mistake; e.diagnostics lists the lines.";
  g_scene_error = scene_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UserError& e) {
      raise_scene_error(e);
    }
  });

  m.def(
      "materials",
      [](const std::string& spec, py::object energy_keV, std::optional<double> density_g_cm3) {
        std::vector<double> energies;
        if (py::isinstance<py::float_>(energy_keV) || py::isinstance<py::int_>(energy_keV))
          energies.push_back(energy_keV.cast<double>());
        else
          energies = energy_keV.cast<std::vector<double>>();
        return material_dict(spec, energies, density_g_cm3);
      },
      py::arg("spec"), py::arg("energy_keV"), py::arg("density_g_cm3") = py::none(),
      "A formula or NIST compound at one energy or a list of energies (keV), as `dosemap materials` shows it: "
      "name, source, density_g_cm3 (None for a formula of several elements without density_g_cm3), elements "
      "(mass fractions) and lines (per energy: mu_rho_cm2_g, photo_cm2_g, coherent_cm2_g, incoherent_cm2_g, "
      "mu_en_rho_cm2_g, photo_model_cm2_g, absorbed_model_cm2_g, attenuation_length_um). Raises SceneError "
      "for what the CLI refuses.");
  m.def(
      "dict_to_toml",
      [](py::dict d) {
        std::ostringstream text;
        write_toml_table(text, d, "", "");
        return text.str();
      },
      py::arg("scene"),
      "The TOML text Scene.from_dict reads for this dict (its error positions point into it): save it as a scene "
      "file. Keys keep the dict's order.");
  m.def("nist_compounds", &nist_compound_names, "The NIST compound names xraylib knows (materials' spec).");

  py::class_<PyResult>(m, "Result",
                       "A run's results in memory: NumPy arrays of shape (nz, ny, nx) that are read-only views of the "
                       "engine's buffers (no copy; each keeps the run alive), the summary, and write() for the CLI's files.")
      .def_property_readonly("dose", [](const PyResult& r) { return r.get("dose"); }, "absorbed dose (Gy)")
      .def_property_readonly("rate_peak", [](const PyResult& r) { return r.get("dose_rate_peak"); }, "peak dose rate (Gy/s)")
      .def_property_readonly("rate_mean", [](const PyResult& r) { return r.get("dose_rate_mean"); },
                             "dose-weighted mean dose rate (Gy/s)")
      .def_property_readonly("material", [](const PyResult& r) { return r.get("material"); },
                             "material index per voxel (uint16, scene order; 65535 = void)")
      .def("__getitem__", &PyResult::get, py::arg("name"),
           "a grid by its dose.vdb name: 't_<label>_s' (-1 where never reached), 'dose:<component>', ...")
      .def("keys", &PyResult::names, "the grids' names")
      .def_property_readonly("frames", &PyResult::frames,
                             "the dose (Gy) at each of frame_times_s: frames/dose_NNNN.vdb's grids, as views")
      .def_property_readonly("frame_times_s", [](const PyResult& r) { return r.run->setup->frame_times_s; })
      .def_property_readonly("summary", &PyResult::summary, "summary.json's content (before writing: no files)")
      .def_property_readonly("grid", [](const PyResult& r) { return grid_dict(r.run->grid->geometry); },
                             "dims (x, y, z), voxel_um, origin_um and transform (index (i, j, k) = array[k, j, i] to "
                             "the voxel centre, um), as Scene.grid")
      .def("write", &PyResult::write, py::arg("dir"), py::arg("formats") = py::none(), py::arg("overwrite") = false,
           py::arg("crop") = "auto", py::arg("progress") = py::none(),
           "Writes what `dosemap run` writes into `dir` (formats: ('vdb', 'vti'), default the scene's), all or "
           "nothing; the arrays stay. progress(stage, done, total) and Ctrl-C as for run().");

  m.def("run", &run_scene, py::arg("scene"), py::arg("threads") = 0, py::arg("backend") = "auto",
        py::arg("convergence") = false, py::arg("progress") = py::none(),
        "Runs a Scene (or a scene file's path) as `dosemap run` does and returns its Result; the scene's warnings "
        "are Python warnings. The run has its own thread (the GIL released); this thread calls "
        "progress(stage, done, total) when given (up to ten times a second), and Ctrl-C (KeyboardInterrupt, "
        "Jupyter's interrupt) or an exception from progress stops the run within moments and is re-raised.");

  py::class_<PyPlan>(m, "Plan",
                     "A plan (dosemap plan): how far the scan's beam-on times or flux may be scaled within the limits, "
                     "or an optimised dwell per point or raster pattern.")
      .def_property_readonly("json", &PyPlan::json, "plan.json's content as a dict")
      .def_property_readonly("report", [](const PyPlan& p) { return p.plan->report; }, "the tables dosemap plan prints")
      .def_property_readonly("planned", &PyPlan::planned,
                             "the planned scene (planned.toml) as a Scene, ready for dosemap.run; None when there is none")
      .def_property_readonly("planned_toml", &PyPlan::planned_toml, "planned.toml's text, or None")
      .def_property_readonly("not_planned", &PyPlan::not_planned, "why there is no planned scene, or None")
      .def("write", &PyPlan::write, py::arg("dir"), py::arg("overwrite") = false,
           "Writes plan.json and planned.toml into `dir` as dosemap plan does, all or nothing (pareto.png: "
           "`dosemap plot DIR`).")
      .def("__repr__", [](const PyPlan& p) {
        return "<dosemap.Plan of '" + p.plan->setup->scene.path + "': " +
               (p.plan->planned_toml.empty() ? "no planned scene (" + p.plan->not_planned + ")" : p.plan->planned_what) +
               ">";
      });

  m.def("plan", &plan_scene, py::arg("scene"), py::arg("limits") = py::none(), py::arg("rate_limits") = py::none(),
        py::arg("optimize") = py::none(), py::arg("max_dwell_scale") = py::none(),
        py::arg("rate_window_s") = py::none(), py::arg("threads") = 0, py::arg("backend") = "auto",
        py::arg("progress") = py::none(),
        "Plans a Scene (or a scene file's path) as `dosemap plan` does: limits={'NMC811': 1e6} (Gy; a material or "
        "'material:component'), rate_limits={'NMC811': 1e5} (Gy/s), optimize=None, 'dwell' or 'pattern', "
        "max_dwell_scale (dwell), rate_window_s (pattern). Returns a Plan; SceneError for what the CLI refuses. "
        "progress and Ctrl-C as for run().");

  py::class_<PyScene>(m, "Scene", "A scene read and validated exactly as `dosemap check` and `dosemap run` do.")
      .def_static("load", &PyScene::load, py::arg("path"),
                  "Reads and validates a scene file (TOML); raises SceneError with the CLI's messages.")
      .def_static("from_dict", &PyScene::from_dict, py::arg("scene"), py::arg("directory") = ".",
                  py::arg("name") = "scene_dict.toml",
                  "A scene from a dict of the scene file's tables (as to_dict gives), written as TOML and read as the "
                  "scene file `name` in `directory` (where its relative paths start; messages name it): the same "
                  "reader and checks as a file, so a typo raises SceneError as the TOML would.")
      .def_static("from_toml", &PyScene::from_toml, py::arg("text"), py::arg("path") = "scene.toml",
                  "A scene from TOML text, read as if it were the file `path`.")
      .def("to_dict", &PyScene::to_dict, "The scene file's tables as a dict (as written: defaults not filled in).")
      .def_property_readonly("toml", [](const PyScene& s) { return s.text; }, "The TOML the scene was read from.")
      .def_property_readonly("path", [](const PyScene& s) { return s.setup->scene.path; })
      .def_property_readonly("title", [](const PyScene& s) { return s.setup->scene.title; })
      .def_property_readonly("grid", [](const PyScene& s) { return grid_dict(s.setup->geometry); },
                             "dims (x, y, z), voxel_um and origin_um of the voxel grid, and transform: the 4 x 4 "
                             "matrix from index (i, j, k) = array[k, j, i] to the voxel centre (um)")
      .def_property_readonly("voxels", [](const PyScene& s) { return s.setup->geometry.voxels(); })
      .def_property_readonly("materials", &PyScene::materials, "the materials' names, in scene order")
      .def_property_readonly("exposures", [](const PyScene& s) { return s.setup->timeline.exposures.size(); })
      .def_property_readonly("duration_s", [](const PyScene& s) { return s.setup->timeline.duration_s; })
      .def_property_readonly("beam_on_s", [](const PyScene& s) { return s.setup->timeline.beam_on_s; })
      .def_property_readonly("frame_times_s", [](const PyScene& s) { return s.setup->frame_times_s; })
      .def_property_readonly("memory_bytes", [](const PyScene& s) { return s.setup->memory.peak_bytes(); },
                             "the run's estimated peak memory (bytes)")
      .def("__repr__", [](const PyScene& s) {
        const GridGeometry& g = s.setup->geometry;
        return "<dosemap.Scene '" + s.setup->scene.path + "': " + std::to_string(g.dims[0]) + " x " +
               std::to_string(g.dims[1]) + " x " + std::to_string(g.dims[2]) + " voxels, " +
               std::to_string(s.setup->timeline.exposures.size()) + " exposures>";
      });
}
