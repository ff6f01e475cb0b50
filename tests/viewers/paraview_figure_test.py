"""ParaView (pvpython, under xvfb-run) opens a run's dose.vti: the dose of three voxels as
ParaView reads them equals the engine's (read from dose.vdb), and the standard figure
renders with several distinct colours where the dose is."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import viewer_testing as vt


def main():
    a = vt.parse_args()
    vt.require("pvpython", "paraview")
    vt.require("Xvfb", "xvfb")
    import pyopenvdb as vdb
    run = vt.demo_run(a.dosemap, a.source)
    # Three voxels: NMC at location 3, separator at location 2, copper at location 1.
    voxels = [(250, 15, 100), (150, 15, 70), (50, 15, 5)]
    png = os.path.join(run, "paraview_slice.png")
    # pvpython 5.11 sometimes aborts opening its render window ("bad X server connection")
    # on a healthy server under CPU load (xdpyinfo connects at once): up to three attempts,
    # run serially.
    with vt.VirtualDisplay() as display:
        out = vt.run(["pvpython", os.path.join(a.source, "tools", "paraview", "dose_figure.py"), run, "--out", png]
                     + sum((["--probe", f"{i},{j},{k}"] for i, j, k in voxels), []), env=display.env(),
                     retry_on="bad X server connection")
    grid = vdb.read(os.path.join(run, "dose.vdb"), "dose")
    acc = grid.getConstAccessor()
    probes = [line.split() for line in out.splitlines() if line.startswith("probe ")]
    vt.check(len(probes) == 3, "ParaView printed the three probed voxels")
    for p in probes:
        i, j, k, value = int(p[1]), int(p[2]), int(p[3]), float(p[4])
        engine = acc.getValue((i, j, k))
        vt.check(engine > 0 and abs(value - engine) <= 1e-6 * engine,
                 f"voxel ({i},{j},{k}): ParaView {value:.6g} Gy = engine {engine:.6g} Gy")
    vt.check(os.path.isfile(png), "the figure was written")
    img = vt.read_png(png)
    vt.check(img.shape[1] >= 1200 and img.shape[0] >= 500, f"figure size {img.shape[1]} x {img.shape[0]}")
    # The data area (left 80 %, middle rows) holds the dose colours.
    h, w = img.shape[:2]
    data = img[int(0.2 * h):int(0.8 * h), :int(0.8 * w)]
    n = vt.distinct_colours(data)
    vt.check(n >= 30, f"{n} distinct colours where the dose is (not blank)")


main()
