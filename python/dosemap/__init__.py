"""dosemap from Python: scenes read and validated, runs and plans computed, exactly as the CLI does.

    import dosemap
    scene = dosemap.Scene.load("scenes/operando_pouch_27keV.toml")
    scene.grid, scene.voxels, scene.exposures, scene.memory_bytes
    d = scene.to_dict(); d["beam"]["flux_ph_s"] = 1e11
    brighter = dosemap.Scene.from_dict(d, directory="scenes")   # the same checks as a file
    result = dosemap.run(scene)          # result.dose: NumPy (nz, ny, nx), a view of the run's buffer
    result.write("out/demo")             # the CLI's files
    dosemap.materials("LiNi0.8Mn0.1Co0.1O2", 27.0, density_g_cm3=4.8)["lines"][0]["mu_en_rho_cm2_g"]
    plan = dosemap.plan(scene, limits={"NMC811": 1e6})   # as dosemap plan; plan.planned: a Scene

A scene dosemap cannot use raises dosemap.SceneError (a ValueError) whose text is what
`dosemap check` prints, one "file:line:col: error: ..." line per mistake (e.diagnostics).
dosemap.run, Result.write and dosemap.plan take progress=callable(stage, done, total) and stop
on Ctrl-C (KeyboardInterrupt), leaving no half-written files.
"""
from ._dosemap import (Plan, Result, Scene, SceneError, __version__, dict_to_toml, materials, nist_compounds, plan,
                       run)

__all__ = ["Plan", "Result", "Scene", "SceneError", "__version__", "dict_to_toml", "materials", "nist_compounds",
           "plan", "run"]
