// The compiled part of the Python package `dosemap` (python/dosemap/__init__.py re-exports
// it): scenes read and validated by the same code as `dosemap check` and `dosemap run`, so
// that a scene Python accepts is exactly one the CLI accepts, and a rejected one raises
// SceneError with the CLI's own lines; materials resolved as `dosemap materials` resolves
// them. Runs and the planner are not bound yet (README, "From Python").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/scene_setup.h"
#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"

namespace py = pybind11;

namespace dosemap {
namespace {

// A scene that passed every check `dosemap check` makes (the set-up, the memory it needs
// on this machine, a label volume's labels).
struct PyScene {
  std::shared_ptr<const SceneSetup> setup;

  static PyScene load(const std::string& path) {
    auto s = std::make_shared<SceneSetup>(set_up_scene(path));
    refuse_if_short_of_memory(*s);
    // A label volume is read whole by check and run: a label without a material is an
    // error of the scene, found only by reading every voxel.
    if (s->scene.sample.volume.present) voxelize(s->scene);
    return PyScene{std::move(s)};
  }

  py::dict grid() const {
    const GridGeometry& g = setup->geometry;
    py::dict d;
    d["dims"] = py::make_tuple(g.dims[0], g.dims[1], g.dims[2]);
    d["voxel_um"] = py::make_tuple(g.voxel_um[0], g.voxel_um[1], g.voxel_um[2]);
    d["origin_um"] = py::make_tuple(g.origin_um[0], g.origin_um[1], g.origin_um[2]);
    return d;
  }
  std::vector<std::string> materials() const {
    std::vector<std::string> names;
    for (const auto& m : setup->materials.materials) names.push_back(m.name);
    return names;
  }
};

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
  m.def("nist_compounds", &nist_compound_names, "The NIST compound names xraylib knows (materials' spec).");

  py::class_<PyScene>(m, "Scene", "A scene read and validated exactly as `dosemap check` and `dosemap run` do.")
      .def_static("load", &PyScene::load, py::arg("path"),
                  "Reads and validates a scene file (TOML); raises SceneError with the CLI's messages.")
      .def_property_readonly("path", [](const PyScene& s) { return s.setup->scene.path; })
      .def_property_readonly("title", [](const PyScene& s) { return s.setup->scene.title; })
      .def_property_readonly("grid", &PyScene::grid, "dims (x, y, z), voxel_um and origin_um of the voxel grid")
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
