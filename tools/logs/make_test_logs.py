#!/usr/bin/env python3
"""Small scan logs as beamline control systems write them, for the log-replay tests
(tests/scan_log_test.cpp) and as examples: CSV files and HDF5 files laid out as ESRF BLISS
writes scans (/<n>.1/title, /<n>.1/measurement/<counter>, /<n>.1/instrument/positioners_start,
NeXus classes as attributes, the machine's ring current in a /<n>.2 subscan).

  tools/logs/make_test_logs.py OUTDIR

Writes into OUTDIR:
  raster_points.csv   a 3 x 3 step raster (piezo py/pz in um, sample motors: beam = -motor),
                      0.5 s per point, no time column (0.1 s moves between points)
  raster_bliss.h5     the same raster as BLISS scan 3.1 ("amesh pz -8 8 2 py -6 6 2 0.5"), with
                      epoch and elapsed_time counters 0.6 s apart, and a monitor
  monitor_points.csv  two points 40 um apart, the second with the monitor at half the reference
  fly_bliss.h5        a fly scan (fscan) along x, positions every 0.25 s, in scan 7.1
  interrupted_bliss.h5  a step scan aborted mid-point: counters of uneven lengths, scan 12.1
"""
import os
import sys

import h5py
import numpy as np

EPOCH0 = 1764316800.0  # 2025-11-28 08:00 UTC, as BLISS's epoch counter gives it


def raster_points():
    """amesh order: x fastest, lines (no snake): the 9 points of from [-8,-6] to [8,6] step [8,6]."""
    return [(x, y) for y in (-6.0, 0.0, 6.0) for x in (-8.0, 0.0, 8.0)]


def bliss_scan(f, number, title, counters, positioners_start, current_mA=None):
    """One BLISS scan entry /<number>.1 (and /<number>.2 with the ring current)."""
    entry = f.create_group(f"{number}.1")
    entry.attrs["NX_class"] = "NXentry"
    entry["title"] = title
    entry["start_time"] = "2025-11-28T08:00:00.000000+00:00"
    meas = entry.create_group("measurement")
    meas.attrs["NX_class"] = "NXcollection"
    for name, values in counters.items():
        meas[name] = np.asarray(values)
    inst = entry.create_group("instrument")
    inst.attrs["NX_class"] = "NXinstrument"
    start = inst.create_group("positioners_start")
    start.attrs["NX_class"] = "NXcollection"
    for name, value in positioners_start.items():
        start[name] = value
        start[name].attrs["units"] = "um" if name.startswith("p") else "deg" if name == "srot" else "mm"
    if current_mA is not None:
        sub = f.create_group(f"{number}.2")
        sub.attrs["NX_class"] = "NXentry"
        sub["title"] = "machine info"
        sub.create_group("measurement")["current"] = np.asarray(current_mA)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    pts = raster_points()

    with open(os.path.join(out, "raster_points.csv"), "w") as f:
        f.write("# 3 x 3 raster, piezo motors in um; the beam on the sample is minus the motor\n")
        f.write("pz,py,diode\n")
        for x, y in pts:
            f.write(f"{-x:g},{-y:g},{1234 + int(x * 10 + y):d}\n")

    with h5py.File(os.path.join(out, "raster_bliss.h5"), "w") as f:
        t = np.arange(len(pts)) * 0.6
        bliss_scan(f, 3, "amesh pz -8 8 2 py -6 6 2 0.5",
                   {"pz": [-x for x, _ in pts], "py": [-y for _, y in pts],
                    "epoch": EPOCH0 + t, "elapsed_time": t, "mon": np.full(len(pts), 1.0e5)},
                   {"pz": 0.0, "py": 0.0, "srot": 0.0, "samz": 12.5}, current_mA=[199.9, 199.8])
        # Another scan in the same file, as a session file holds many.
        bliss_scan(f, 4, "ct 1", {"epoch": [EPOCH0 + 60]}, {"pz": 0.0, "py": 0.0})

    with open(os.path.join(out, "monitor_points.csv"), "w") as f:
        f.write("x_um,y_um,t_s,mon\n")
        f.write("-20,0,0.0,100000\n")
        f.write("20,0,1.0,50000\n")

    with h5py.File(os.path.join(out, "fly_bliss.h5"), "w") as f:
        t = np.arange(9) * 0.25
        x = -10.0 + 20.0 * t / 2.0  # 10 um/s, the beam along +x: the motor moves -x
        bliss_scan(f, 7, "fscan samx 0.01 -0.0025 8 0.25 0.25",
                   {"samx": -x / 1000.0, "elapsed_time": t, "epoch": EPOCH0 + t, "mon": np.full(9, 2.0e5)},
                   {"samx": 0.0, "samy": 0.0, "srot": 0.0})

    with h5py.File(os.path.join(out, "interrupted_bliss.h5"), "w") as f:
        n = len(pts)
        t = np.arange(n) * 0.6
        # Aborted during point 8: positions written for 8 points, the time for 7, the monitor for 8.
        bliss_scan(f, 12, "amesh pz -8 8 2 py -6 6 2 0.5",
                   {"pz": [-x for x, _ in pts[:8]], "py": [-y for _, y in pts[:8]],
                    "epoch": EPOCH0 + t[:7], "mon": np.full(8, 1.0e5)},
                   {"pz": 0.0, "py": 0.0})


if __name__ == "__main__":
    main()
