#!/usr/bin/env python3
"""The scan log of scenes/operando_pouch_replay.toml: one map of the demo pouch cell as a
BLISS session file would record it, with what really happens at a beamline.

Scan 5.1, "amesh samx 13.245 11.355 3 samy 4.44 3.56 4 30": 4 x 5 points, 30 s each, the
sample motors in mm (the beam hits the cell's centre at samx = 12.3, samy = 4.0). The epoch
counter has the real start of each count (moves take 2 s, plus a little overhead); the i0
monitor reads 1.0e6 counts at full flux, 5.0e5 at points 7-9 (a 50 % attenuator was in for
them), and the fast shutter ("fshut", 1 = open) stayed closed at point 13 (a beam loss: its
30 s pass without beam). Deterministic; written by the build beside the scene (not committed).

  tools/logs/make_example_log.py OUT.h5
"""
import sys

import h5py
import numpy as np


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    xs = np.array([-945.0, -315.0, 315.0, 945.0])          # um on the sample
    ys = np.array([-440.0, -220.0, 0.0, 220.0, 440.0])
    pts = [(x, y) for y in ys for x in xs]                   # amesh: samx fastest, no snake
    n = len(pts)
    rng = np.random.default_rng(5)
    start = 1764316800.0 + 3600.0
    t = start + np.arange(n) * 32.0 + np.cumsum(rng.uniform(0.0, 0.4, n))  # moves + overhead
    i0 = np.full(n, 1.0e6) * rng.normal(1.0, 0.002, n)
    i0[6:9] *= 0.5
    fshut = np.ones(n, dtype=np.int8)
    fshut[12] = 0
    with h5py.File(sys.argv[1], "w") as f:
        e = f.create_group("5.1")
        e.attrs["NX_class"] = "NXentry"
        e["title"] = "amesh samx 13.245 11.355 3 samy 4.44 3.56 4 30"
        e["start_time"] = "2025-11-28T09:00:00.000000+00:00"
        m = e.create_group("measurement")
        m.attrs["NX_class"] = "NXcollection"
        m["samx"] = 12.3 - np.array([p[0] for p in pts]) / 1000.0  # moving the sample +d moves the beam -d
        m["samy"] = 4.0 - np.array([p[1] for p in pts]) / 1000.0
        m["epoch"] = t
        m["elapsed_time"] = t - start
        m["i0"] = i0
        m["fshut"] = fshut
        ps = e.create_group("instrument").create_group("positioners_start")
        for name, value in {"samx": 13.245, "samy": 4.44, "samz": 0.0, "srot": 0.0}.items():
            ps[name] = value
    print(f"{sys.argv[1]}: scan 5.1, {n} points")


if __name__ == "__main__":
    main()
