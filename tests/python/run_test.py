"""dosemap.run equals `dosemap run` bit for bit: on several scenes (frames; a turned sample;
a label volume) Result.write gives a dose.vdb byte-identical to the CLI's but for its UUID
and the hash that covers it, the same points.csv and summary (but for timings), and the
arrays (frames too) are the CLI's grids exactly. The arrays are read-only views of the run's buffers
(no copy) that outlive the Result while referenced."""
import gc
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt

UUID = slice(21, 57)  # OpenVDB's header: magic, versions, offsets flag, then the 36-character UUID


def same_but_uuid(a, b):
    with open(a, "rb") as f:
        x = f.read()
    with open(b, "rb") as f:
        y = f.read()
    # The integrity record's last 32 bytes: "DOSEMAP1", size, XXH3 (of the bytes, UUID included), "INTEGRTY".
    return len(x) == len(y) and x[:UUID.start] == y[:UUID.start] and x[UUID.stop:-16] == y[UUID.stop:-16] \
        and x[-8:] == y[-8:]


def main():
    a = vt.parse_args()
    import numpy as np
    import pyopenvdb as vdb
    import dosemap

    tmp = vt.scratch_dir("dosemap_python_run_")
    for name in ("operando_pouch_27keV", "laminography_pouch", "electrode_microstructure", "quickstart"):
        scene = os.path.join(a.source, "scenes", name + ".toml")
        cli_dir, py_dir = os.path.join(tmp, name + "_cli"), os.path.join(tmp, name + "_py")
        subprocess.run([a.dosemap, "run", scene, "-o", cli_dir, "--format", "vdb", "--threads", "2"], check=True,
                       capture_output=True)
        result = dosemap.run(scene, threads=1)  # another thread count: the results do not depend on it
        result.write(py_dir, formats=("vdb",))
        vt.check(same_but_uuid(os.path.join(cli_dir, "dose.vdb"), os.path.join(py_dir, "dose.vdb")),
                 f"{name}: Result.write's dose.vdb is the CLI's byte for byte (but its UUID)")
        for f in sorted(os.listdir(os.path.join(cli_dir, "frames"))) if os.path.isdir(os.path.join(cli_dir, "frames")) else []:
            vt.check(same_but_uuid(os.path.join(cli_dir, "frames", f), os.path.join(py_dir, "frames", f)),
                     f"{name}: frames/{f} the CLI's")
        if os.path.exists(os.path.join(cli_dir, "points.csv")):
            with open(os.path.join(cli_dir, "points.csv")) as f1, open(os.path.join(py_dir, "points.csv")) as f2:
                vt.check(f1.read() == f2.read(), f"{name}: points.csv the CLI's")
        with open(os.path.join(cli_dir, "summary.json")) as f1, open(os.path.join(py_dir, "summary.json")) as f2:
            s1, s2 = json.load(f1), json.load(f2)
        for s in (s1, s2):
            s.pop("run", None)
        vt.check(s1 == s2, f"{name}: summary.json the CLI's (but its timings)")
        nx, ny, nz = result.grid["dims"]
        grids = {g.name: g for g in vdb.readAll(os.path.join(cli_dir, "dose.vdb"))[0]}
        # Where a voxel holds matter the arrays hold what the grids do (inactive there: never
        # reached, -1, or no such component, 0, the grids' backgrounds).
        matter = (np.asarray(result.material) != 65535).transpose(2, 1, 0)  # (nz, ny, nx) -> (x, y, z)
        material = np.full((nx, ny, nz), -1.0, dtype=np.float32)
        grids["material"].copyToArray(material, ijk=(0, 0, 0))
        vt.check(np.array_equal(np.asarray(result.material).transpose(2, 1, 0)[matter], material[matter])
                 and np.all(material[~matter] == -1), f"{name}: material equals the CLI's grid")
        for key in result.keys():
            if key == "material":
                continue
            g = grids[key]
            dense = np.full((nx, ny, nz), g.background, dtype=np.float32)
            g.copyToArray(dense, ijk=(0, 0, 0))
            mine = np.asarray(result[key]).transpose(2, 1, 0)
            vt.check(np.array_equal(mine[matter].view(np.uint32), dense[matter].view(np.uint32)),
                     f"{name}: {key} equals the CLI's grid bit for bit")
        # The transform: index (i, j, k) to the voxel centre, as dose.vdb's (which is in mm).
        T = np.asarray(result.grid["transform"])
        for ijk in [(0, 0, 0), (nx - 1, ny - 1, nz - 1), (nx // 2, 0, nz // 3)]:
            mine_mm = (T @ np.array([*ijk, 1.0]))[:3] / 1000
            theirs_mm = np.array(grids["dose"].transform.indexToWorld(ijk))
            vt.check(np.allclose(mine_mm, theirs_mm, rtol=0, atol=1e-9), f"{name}: grid transform at {ijk} is dose.vdb's")
        frame_files = sorted(os.listdir(os.path.join(cli_dir, "frames"))) if os.path.isdir(os.path.join(cli_dir, "frames")) else []
        vt.check(len(result.frames) == len(result.frame_times_s) == len(frame_files),
                 f"{name}: {len(result.frames)} frames, as the CLI wrote")
        for f, frame in zip(frame_files, result.frames):
            g = [g for g in vdb.readAll(os.path.join(cli_dir, "frames", f))[0] if g.name == "dose"][0]
            dense = np.full((nx, ny, nz), g.background, dtype=np.float32)
            g.copyToArray(dense, ijk=(0, 0, 0))
            vt.check(np.array_equal(np.asarray(frame).transpose(2, 1, 0)[matter].view(np.uint32),
                                    dense[matter].view(np.uint32)), f"{name}: frame {f} equals the CLI's bit for bit")

    r = dosemap.run(os.path.join(a.source, "scenes", "quickstart.toml"))
    d = r.dose
    vt.check(not d.flags.owndata and not d.flags.writeable and d.base is not None,
             "arrays are read-only views of the run's buffers")
    vt.check(np.shares_memory(d, r.dose), "two reads of .dose are the same memory (no copy)")
    peak = float(d.max())
    del r
    gc.collect()
    vt.check(float(d.max()) == peak and d.shape[0] > 0, "an array outlives its Result")
    try:
        dosemap.run(os.path.join(a.source, "scenes", "quickstart.toml"), backend="gpu")
        vt.check(False, "an unknown backend is refused")
    except dosemap.SceneError as e:
        vt.check("backend" in str(e), f"an unknown backend: {e}")


if __name__ == "__main__":
    main()
