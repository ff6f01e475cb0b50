// The compiled part of the Python package `dosemap` (python/dosemap/__init__.py re-exports
// it): scenes read and validated by the same code as `dosemap check` and `dosemap run`, so
// that a scene Python accepts is exactly one the CLI accepts, and a rejected one raises
// SceneError with the CLI's own lines. Runs and the planner are not bound yet (README,
// "From Python").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/scene_setup.h"
#include "host/common/errors.h"
#include "host/grid/voxel_grid.h"

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
      "A scene (or a file it names) that dosemap cannot use. str(e) is what the CLI prints on stderr "
      "(file:line:col: error: what; how to fix), one line per mistake; e.diagnostics lists the lines.";
  g_scene_error = scene_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UserError& e) {
      raise_scene_error(e);
    }
  });

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
