"""Debian's python3-openvdb opens every .vdb a run writes as it is: readAll and
readAllGridMetadata list dose.vdb's grids (the `material` grid is a float grid of material
indices: pyopenvdb has no Int32 grids and refused the whole file when it was one), the
frames' files too, and the material indices agree with summary.json voxel for voxel count."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt


def main():
    a = vt.parse_args()
    import numpy as np
    import pyopenvdb as vdb  # python3-openvdb: a core dependency (tools/setup)

    run = vt.demo_run(a.dosemap, a.source, formats="vdb")
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    path = os.path.join(run, "dose.vdb")
    listed = vdb.readMetadata(path)["grids"].split(",")
    grids, meta = vdb.readAll(path)
    names = [g.name for g in grids]
    vt.check(sorted(names) == sorted(listed), f"readAll lists every grid of dose.vdb (by name): {names}")
    vt.check(meta["creator"].startswith("dosemap "), "readAll returns the file's metadata")
    vt.check(sorted(g.name for g in vdb.readAllGridMetadata(path)) == sorted(listed), "readAllGridMetadata lists them too")

    material = next(g for g in grids if g.name == "material")
    vt.check(isinstance(material, vdb.FloatGrid), f"material is a float grid ({type(material).__name__})")
    vt.check(material.background == -1.0, "void (inactive) material reads -1")
    nx, ny, nz = summary["grid"]["dims"]
    dense = np.full((nx, ny, nz), -1.0, dtype=np.float32)
    material.copyToArray(dense, ijk=(0, 0, 0))
    vt.check(np.array_equal(dense, np.round(dense)), "material values are whole numbers")
    by_index = {m["index"]: name for name, m in summary["materials"].items()}
    for index, name in by_index.items():
        count = int(np.count_nonzero(dense == index))
        want = summary["materials"][name]["voxels"]
        vt.check(count == want, f"{name}: {count} voxels of index {index} in the grid, summary.json says {want}")
    void = int(np.count_nonzero(dense == -1.0))
    vt.check(material.activeVoxelCount() == nx * ny * nz - void, "void voxels are inactive, matter active")

    frames = sorted(f for f in os.listdir(os.path.join(run, "frames")) if f.endswith(".vdb"))
    vt.check(len(frames) == len(summary["frames"]) and frames, f"{len(frames)} frames written")
    for name in frames:
        fgrids, fmeta = vdb.readAll(os.path.join(run, "frames", name))
        vt.check(sorted(g.name for g in fgrids) == ["density", "dose"] and "time_s" in fmeta, f"readAll opens frames/{name}")


if __name__ == "__main__":
    main()
