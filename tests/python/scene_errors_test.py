"""dosemap.Scene.load accepts exactly what `dosemap check` accepts: every scene of the
invalid corpus (tests/scenes/invalid) raises dosemap.SceneError whose text is, line for
line, what the CLI prints on stderr (e.diagnostics: the lines), and every example scene
loads, with the grid and exposures the CLI reports."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt


def without_free_memory(text):
    """The memory refusal quotes MemAvailable and a voxel size that would fit in it, which
    change between the CLI's run and ours when other tests run alongside: compare the rest."""
    return re.sub(r"but only .* is available.*", "but only <MemAvailable> is available", text)


def main():
    a = vt.parse_args()
    import dosemap

    vt.check(issubclass(dosemap.SceneError, ValueError), "SceneError is a ValueError")
    corpus = sorted(glob.glob(os.path.join(a.source, "tests", "scenes", "invalid", "*.toml")))
    vt.check(len(corpus) > 50, f"{len(corpus)} invalid scenes")
    for path in corpus:
        cli = subprocess.run([a.dosemap, "check", path], capture_output=True, text=True)
        name = os.path.basename(path)
        vt.check(cli.returncode == 2, f"{name}: the CLI refuses it (exit code {cli.returncode})")
        try:
            dosemap.Scene.load(path)
        except dosemap.SceneError as e:
            lines = cli.stderr.rstrip("\n").split("\n")
            if (without_free_memory(str(e)) != without_free_memory(cli.stderr.rstrip("\n"))
                    or [without_free_memory(d) for d in e.diagnostics] != [without_free_memory(l) for l in lines]):
                vt.check(False, f"{name}: SceneError says\n{e}\nthe CLI says\n{cli.stderr}")
            continue
        vt.check(False, f"{name}: Scene.load accepted a scene the CLI refuses")
    print(f"ok: {len(corpus)} invalid scenes raise SceneError with the CLI's text")

    for path in sorted(glob.glob(os.path.join(a.source, "scenes", "*.toml"))):
        name = os.path.basename(path)
        cli = subprocess.run([a.dosemap, "check", path], capture_output=True, text=True)
        if cli.returncode != 0:
            try:
                dosemap.Scene.load(path)
                vt.check(False, f"{name}: Scene.load accepted a scene the CLI refuses:\n{cli.stderr}")
            except dosemap.SceneError as e:
                vt.check(without_free_memory(str(e)) == without_free_memory(cli.stderr.rstrip("\n")),
                         f"{name}: refused by both, with the same text\n{e}\n{cli.stderr}")
            continue
        scene = dosemap.Scene.load(path)
        nx, ny, nz = scene.grid["dims"]
        grid_line = next(l for l in cli.stdout.splitlines() if l.strip().startswith("grid"))
        vt.check(f"{nx} x {ny} x {nz}" in grid_line and scene.voxels == nx * ny * nz,
                 f"{name}: grid {nx} x {ny} x {nz} as the CLI reports ({grid_line.strip()})")
        vt.check(scene.exposures > 0 and scene.duration_s > 0 and scene.materials, f"{name}: {scene!r}")

    try:
        dosemap.Scene.load(os.path.join(a.source, "no_such_scene.toml"))
        vt.check(False, "a missing file raises SceneError")
    except dosemap.SceneError as e:
        vt.check("no_such_scene.toml" in str(e) and len(e.diagnostics) == 1, f"a missing file: {e}")


if __name__ == "__main__":
    main()
