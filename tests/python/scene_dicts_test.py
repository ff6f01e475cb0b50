"""Scenes as dicts: Scene.from_dict(scene.to_dict()) is the same scene for every example
(grid, scan, materials, memory, and the same dict again), and a dict with a mistake is
refused like the TOML: every scene of the invalid corpus, read into a dict by Python's own
tomllib, raises SceneError with the CLI's messages (only the file positions differ: a dict
has no lines). Values TOML cannot hold (None, objects) and non-string keys are refused."""
import glob
import os
import re
import subprocess
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt


def what(line):
    return re.sub(r"^.*?: error: ", "", line)


def main():
    a = vt.parse_args()
    import numpy as np
    import dosemap

    for path in sorted(glob.glob(os.path.join(a.source, "scenes", "*.toml"))):
        name = os.path.basename(path)
        try:
            scene = dosemap.Scene.load(path)
        except dosemap.SceneError:
            continue  # refused here (memory): scene_errors_test compares that with the CLI
        d = scene.to_dict()
        again = dosemap.Scene.from_dict(d, directory=os.path.dirname(path), name=name)
        same = all(getattr(again, k) == getattr(scene, k) for k in
                   ("grid", "voxels", "materials", "exposures", "duration_s", "beam_on_s", "frame_times_s",
                    "memory_bytes", "title"))
        vt.check(same and again.to_dict() == d, f"{name}: from_dict(to_dict()) is the same scene")

    corpus = sorted(glob.glob(os.path.join(a.source, "tests", "scenes", "invalid", "*.toml")))
    compared = 0
    for path in corpus:
        name = os.path.basename(path)
        try:
            with open(path, "rb") as f:
                d = tomllib.load(f)
        except tomllib.TOMLDecodeError:
            continue  # a TOML syntax error: no dict to make
        cli = subprocess.run([a.dosemap, "check", path], capture_output=True, text=True)
        try:
            dosemap.Scene.from_dict(d, directory=os.path.dirname(path), name=name)
            vt.check(False, f"{name}: from_dict accepted what the CLI refuses: {cli.stderr}")
        except dosemap.SceneError as e:
            mine = [what(l) for l in e.diagnostics]
            theirs = [what(l) for l in cli.stderr.rstrip("\n").split("\n")]
            if mine != theirs:
                vt.check(False, f"{name}: the dict's messages\n{mine}\ndiffer from the TOML's\n{theirs}")
        compared += 1
    vt.check(compared >= 70, f"{compared} invalid scenes refused as dicts with the TOML's messages")

    demo = os.path.join(a.source, "scenes", "operando_pouch_27keV.toml")
    d = dosemap.Scene.load(demo).to_dict()
    d["beam"]["size"] = d["beam"].pop("size_um")
    try:
        dosemap.Scene.from_dict(d, directory=os.path.dirname(demo))
        vt.check(False, "a typo in a dict is refused")
    except dosemap.SceneError as e:
        vt.check("unknown key 'size' in [beam]" in str(e) and "size_um" in str(e), f"a typo: {e}")
    d = dosemap.Scene.load(demo).to_dict()
    d["beam"]["flux_ph_s"] = np.float32(1e10)
    d["scan"]["repeat"] = np.int64(3) if "repeat" in d["scan"] else d["scan"].get("repeat")
    vt.check(dosemap.Scene.from_dict(d, directory=os.path.dirname(demo)).voxels > 0, "NumPy numbers are numbers")
    text = dosemap.dict_to_toml(dosemap.Scene.load(demo).to_dict())
    vt.check(tomllib.loads(text) == dosemap.Scene.load(demo).to_dict(), "dict_to_toml writes TOML that reads back")
    for bad, says in [(None, "NoneType cannot be written in a scene"), (object(), "object cannot be written")]:
        d = dosemap.Scene.load(demo).to_dict()
        d["beam"]["flux_ph_s"] = bad
        try:
            dosemap.Scene.from_dict(d)
            vt.check(False, f"{bad!r} is refused")
        except dosemap.SceneError as e:
            vt.check(says in str(e) and "beam.flux_ph_s" in str(e), f"{bad!r}: {e}")
    try:
        dosemap.Scene.from_dict({1: "x"})
        vt.check(False, "a key that is not a string is refused")
    except dosemap.SceneError as e:
        vt.check("not a string" in str(e), f"a non-string key: {e}")


if __name__ == "__main__":
    main()
