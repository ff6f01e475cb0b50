"""dosemap from Python: scenes read and validated exactly as the CLI does.

    import dosemap
    scene = dosemap.Scene.load("scenes/operando_pouch_27keV.toml")
    scene.grid, scene.voxels, scene.exposures, scene.memory_bytes

A scene dosemap cannot use raises dosemap.SceneError (a ValueError) whose text is what
`dosemap check` prints, one "file:line:col: error: ..." line per mistake (e.diagnostics).
Runs, results as NumPy arrays and the planner are not bound yet: use the CLI for them.
"""
from ._dosemap import Scene, SceneError, __version__

__all__ = ["Scene", "SceneError", "__version__"]
