#!/usr/bin/python3
"""Figures of a dosemap run (called by `dosemap plot RUN_DIR`; Debian's /usr/bin/python3,
which has python3-openvdb and python3-matplotlib). Given a plan directory of `dosemap plan
--optimize pattern` instead, draws its pareto.png (plan_figures.py).

Writes into RUN_DIR:
  depth_profile.png  dose against depth along the chosen material's most dosed column, per
                     layer, with the dose to each component of composite layers, and the
                     chosen material's thresholds
  depth_profile.csv  the plotted values
  lateral_map.png    dose over x-y at the depth of the chosen material's most dosed voxel, log
                     colour scale, with its threshold contours
  dose_vs_time.png   dose against time at the most dosed voxel of each material, with the
                     thresholds (from dose_history.json)
  rotation_slice.png (turned samples, stage axis x or y) dose in the plane across the
                     rotation axis through the most dosed voxel, log scale, threshold contours
  point_positions.png  (scans with point steps) the most dosed voxel of each material, or of
                     each component of a composite, in the column under each point position,
                     with the thresholds (summary.json point_positions)
  points_map.png     (runs with points.csv) the dose at each scan point on the scan's own
                     grid: per material (the four most dosed), the largest dose in the beam's
                     columns after the point's last visit, log colour scale, threshold marks
The chosen material (--material NAME, a material of the scene) defaults to the material most
at risk: the one that carries thresholds (its own or the default) with the largest ratio of
its peak dose to its lowest threshold; a steel can without thresholds is never chosen. With
no material carrying thresholds: the most dosed one.
Exit codes: 0 done, 2 the run directory, a package or the material is missing (message
says how to fix).
"""
import json
import math
import os
import sys


def fail(where, what, fix):
    print(f"{where}: error: {what}; {fix}", file=sys.stderr)
    sys.exit(2)


def choose_material(summary, name, run):
    """--material NAME, or the material most at risk (module docstring)."""
    materials = summary["materials"]
    if name is not None:
        if name not in materials or materials[name].get("voxels", 0) == 0:
            present = [m for m, s in materials.items() if s.get("voxels", 0) > 0]
            fail(f"--material {name}", "is not a material of the run's sample" if name not in materials
                 else "fills no voxel of the run's sample", "use one of: " + ", ".join(present))
        return name
    dosed = {m: s for m, s in materials.items() if s.get("voxels", 0) > 0 and s.get("dose_max_Gy", 0) > 0}
    if not dosed:
        fail(run, "the run deposited no dose", "check that the beam hits the sample (dosemap check)")
    def own(s):  # summaries before per-material thresholds list only the default
        return s.get("thresholds_Gy", summary["thresholds_Gy"])

    at_risk = {m: s["dose_max_Gy"] / min(own(s).values()) for m, s in dosed.items() if own(s)}
    pool = at_risk or {m: s["dose_max_Gy"] for m, s in dosed.items()}
    return max(pool, key=lambda m: pool[m])


def layer_labels(fig, ax, layers):
    """Layer names above the axes, each centred on its layer; a name that would overlap the
    one before goes to the next free row (thin layers stack instead of overprinting)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    row_ends = []  # per row: the right edge (display pixels) of its last label
    ax._dosemap_label_rows = 1
    for layer in layers:
        t = ax.text(0.5 * (layer["z0_um"] + layer["z1_um"]), 1.02, layer["material"], transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8)
        box = t.get_window_extent(renderer)
        row = next((r for r, end in enumerate(row_ends) if box.x0 > end + 2), len(row_ends))
        if row == len(row_ends):
            row_ends.append(box.x1)
        row_ends[row] = box.x1
        if row:
            t.set_position((t.get_position()[0], 1.02 + 0.06 * row))
        ax._dosemap_label_rows = max(ax._dosemap_label_rows, row + 1)


def label_rows(ax):
    return getattr(ax, "_dosemap_label_rows", 1)


def main():
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            fail("dosemap plot", message, "run: dosemap plot RUN_DIR [--material NAME]")

    ap = Parser(prog="dosemap plot")
    ap.add_argument("run_dir")
    ap.add_argument("--material", default=None)
    args = ap.parse_args()
    run = args.run_dir
    if os.path.isfile(os.path.join(run, "plan.json")) and not os.path.isfile(os.path.join(run, "summary.json")):
        if args.material is not None:
            fail("--material", "applies to a run's figures, not to a plan's", "leave it out for a plan directory")
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import plan_figures
        plan_figures.draw_pareto(run, fail)
        return
    for name in ("summary.json", "dose.vdb", "dose_history.json"):
        if not os.path.isfile(os.path.join(run, name)):
            fail(os.path.join(run, name), "not found",
                 "give the directory of a dosemap run written with the vdb format (dosemap run SCENE -o DIR)")
    try:
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm
    except ImportError as e:
        fail("dosemap plot", f"cannot import {e.name}", "install python3-matplotlib (tools/setup --viz)")
    try:
        import pyopenvdb as vdb
    except ImportError:
        fail("dosemap plot", "cannot import pyopenvdb", "install python3-openvdb (tools/setup)")

    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(run, "dose_history.json")) as f:
        history = json.load(f)
    grid = summary["grid"]
    nx, ny, nz = grid["dims"]
    vx, vy, vz = grid["voxel_um"]
    ox, oy, oz = grid["origin_um"]
    chosen = choose_material(summary, args.material, run)
    chosen_stats = summary["materials"][chosen]
    # The chosen material's own thresholds (per-material scales: docs/scene-format.md).
    thresholds = sorted(chosen_stats.get("thresholds_Gy", summary["thresholds_Gy"]).items(), key=lambda kv: kv[1])
    print(f"dosemap plot: figures for {chosen} (--material to choose another)")
    vdb_path = os.path.join(run, "dose.vdb")
    # Names from the file's metadata: python3-openvdb cannot list files of dosemap 0.2 (their
    # Int32 material grid), which this reads too.
    names = vdb.readMetadata(vdb_path)["grids"].split(",")

    def dense(name):
        g = vdb.read(vdb_path, name)
        a = np.zeros((nx, ny, nz), dtype=np.float32)
        g.copyToArray(a, ijk=(0, 0, 0))
        return a

    dose = dense("dose")
    components = {n[len("dose:"):]: dense(n) for n in names if n.startswith("dose:")}
    if "dose_max" not in summary:
        fail(run, "the run deposited no dose", "check that the beam hits the sample (dosemap check)")
    i, j, k = chosen_stats.get("dose_max_voxel", summary["dose_max"]["voxel"])
    title = summary["title"]
    model = summary["dose_model"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    written = []

    def thresholds_h(ax, lo, hi):
        """Threshold lines, labelled just above the line at the left edge."""
        for n, (label, value) in enumerate(thresholds):
            if lo <= value <= hi:
                ax.axhline(value, color="0.35", lw=0.8, ls=":")
                ax.annotate(f"{label} {value:.3g} Gy", (0.005, value), xycoords=("axes fraction", "data"),
                            xytext=(2, 2), textcoords="offset points", va="bottom", ha="left", fontsize=7, color="0.25",
                            bbox=dict(facecolor="white", alpha=0.75, lw=0, pad=0.8))  # readable over bars and curves

    def dose_map(sl, extent, hs, vs, figsize, aspect, decades):
        """A dose slice (rows: vertical axis) on a log colour scale over `decades` below its
        maximum, with the threshold contours and a colour bar."""
        fig, ax = plt.subplots(figsize=figsize, dpi=110)
        vmax = sl.max()
        vmin = max(vmax * decades, sl[sl > 0].min()) if np.any(sl > 0) else 1.0
        im = ax.imshow(np.where(sl > 0, sl, np.nan), origin="lower", extent=extent, norm=LogNorm(vmin=vmin, vmax=vmax),
                       cmap="inferno", aspect=aspect, interpolation="nearest")
        levels = [v for _, v in thresholds if vmin < v < vmax]
        if levels:
            contour_colors = [colors[(n + 2) % len(colors)] for n in range(len(levels))]
            ax.contour(hs, vs, sl, levels=levels, colors=contour_colors, linewidths=1.2)
            names = {v: lab for lab, v in thresholds}
            handles = [plt.Line2D([], [], color=c, lw=1.2) for c in contour_colors]
            ax.legend(handles, [f"{names[v]} {v:.3g} Gy" for v in levels], loc="upper left", fontsize=7,
                      title="threshold contours", title_fontsize=7)
        cb = fig.colorbar(im, ax=ax, shrink=0.85 if aspect == "equal" else 1.0)
        cb.set_label("dose (Gy, log scale)")
        return fig, ax

    # ---- depth profile along the most dosed column ----
    z = oz + (np.arange(nz) + 0.5) * vz
    col = dose[i, j, :].astype(float)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    positive = col[col > 0]
    lo = positive.min() if positive.size else 1.0
    hi = col.max() if col.max() > 0 else 10.0
    for n, layer in enumerate(summary["sample"]["layers"]):
        ax.axvspan(layer["z0_um"], layer["z1_um"], color="0.93" if n % 2 else "0.86", lw=0)
    layer_labels(fig, ax, summary["sample"]["layers"])
    ax.step(z, np.where(col > 0, col, np.nan), where="mid", color="k", lw=1.6, label="voxel dose")
    rows = {"z_um": z, "dose_Gy": col}
    for n, (name, arr) in enumerate(sorted(components.items())):
        c = arr[i, j, :].astype(float)
        if not np.any(c > 0):
            continue
        ax.step(z, np.where(c > 0, c, np.nan), where="mid", color=colors[n % len(colors)], lw=1.0, ls="--",
                label=f"dose to {name}")
        lo, hi = min(lo, c[c > 0].min()), max(hi, c.max())
        rows[f"dose:{name}_Gy"] = c
    ax.set_yscale("log")
    ax.set_ylim(lo / 2, hi * 3)
    ax.set_xlim(z[0] - 0.5 * vz, z[-1] + 0.5 * vz)
    ax.set_xlabel("depth along the beam z (µm)")
    ax.set_ylabel("dose (Gy)")
    thresholds_h(ax, lo / 2, hi * 3)
    ax.set_title(f"Dose along the most dosed column of {chosen}, x = {ox + (i + 0.5) * vx:.4g} µm, "
                 f"y = {oy + (j + 0.5) * vy:.4g} µm", fontsize=10, pad=18 + 11 * label_rows(ax))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.text(0.01, 0.01, f"{title} | model {model}", fontsize=7, color="0.4")
    fig.tight_layout()
    fig.savefig(os.path.join(run, "depth_profile.png"))
    plt.close(fig)
    written.append("depth_profile.png")
    with open(os.path.join(run, "depth_profile.csv"), "w") as f:
        keys = list(rows)
        f.write(",".join(keys) + "\n")
        for r in range(nz):
            f.write(",".join(f"{rows[key][r]:.9g}" for key in keys) + "\n")
    written.append("depth_profile.csv")

    # ---- lateral map through the most dosed voxel ----
    sl = dose[:, :, k].T.astype(float)  # rows: y, columns: x
    fig, ax = dose_map(sl, [ox, ox + nx * vx, oy, oy + ny * vy], ox + (np.arange(nx) + 0.5) * vx,
                       oy + (np.arange(ny) + 0.5) * vy, (9, 4.8), "auto", 1e-4)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.set_title(f"Dose at depth z = {z[k]:.4g} µm (the depth of {chosen}'s most dosed voxel), "
                 f"contours: {chosen}'s thresholds", fontsize=10)
    fig.text(0.01, 0.01, f"{title} | model {model}", fontsize=7, color="0.4")
    fig.tight_layout()
    fig.savefig(os.path.join(run, "lateral_map.png"))
    plt.close(fig)
    written.append("lateral_map.png")

    # ---- turned samples: the slice across the rotation axis through the most dosed voxel ----
    stage = summary.get("stage", {})
    if stage.get("present") and stage.get("axis") in ("x", "y"):
        if stage["axis"] == "y":  # x-z plane at the most dosed row
            sl, h_axis, v_axis = dose[:, j, :].T.astype(float), ("x", ox, vx, nx), ("z", oz, vz, nz)
            where = f"y = {oy + (j + 0.5) * vy:.4g} µm"
        else:  # y-z plane at the most dosed x
            sl, h_axis, v_axis = dose[i, :, :].T.astype(float), ("y", oy, vy, ny), ("z", oz, vz, nz)
            where = f"x = {ox + (i + 0.5) * vx:.4g} µm"
        (hn, ho, hv, hc), (vn, vo, vv, vc) = h_axis, v_axis
        fig, ax = dose_map(sl, [ho, ho + hc * hv, vo, vo + vc * vv], ho + (np.arange(hc) + 0.5) * hv,
                           vo + (np.arange(vc) + 0.5) * vv, (7.5, 6.2), "equal", 1e-3)
        cx, cy, cz = stage["center_um"]
        ax.plot([cx if stage["axis"] == "y" else cy], [cz], marker="+", color="cyan", ms=10, mew=1.5)
        ax.set_xlabel(f"{hn} (µm)")
        ax.set_ylabel(f"{vn} (µm, beam along +z at angle 0)")
        ax.set_title(f"Dose across the rotation axis ({stage['axis']}, +), {where}, {stage['poses']} poses", fontsize=10)
        fig.text(0.01, 0.01, f"{title} | model {model}", fontsize=7, color="0.4")
        fig.tight_layout()
        fig.savefig(os.path.join(run, "rotation_slice.png"))
        plt.close(fig)
        written.append("rotation_slice.png")

    # ---- dose against time at the most dosed voxel of each material ----
    duration = summary["time"]["scan_duration_s"]
    unit, scale = ("h", 3600.0) if duration > 7200 else ("min", 60.0) if duration > 120 else ("s", 1.0)
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=100)
    lo, hi = math.inf, 0.0
    dashes = ["--", ":", "-."]
    for n, (name, m) in enumerate(history["materials"].items()):
        if m["dose_Gy"] <= 0:
            continue
        # The curve is piecewise linear between its points; resample it so that the ramps
        # up from zero show on the log scale.
        t_points = np.array(m["t_s"])
        t = np.union1d(t_points, np.linspace(0, duration, 3000))
        d = np.interp(t, t_points, np.array(m["dose_curve_Gy"]))
        t = t / scale
        color = colors[n % len(colors)]
        ax.plot(t, np.where(d > 0, d, np.nan), color=color, lw=1.6, label=f"{name} ({m['dose_Gy']:.3g} Gy)")
        for c, (cname, cdose) in enumerate(m.get("component_dose_Gy", {}).items()):
            if cdose > 0:
                ax.plot(t, np.where(d > 0, d * cdose / m["dose_Gy"], np.nan), color=color, lw=1.0,
                        ls=dashes[c % len(dashes)], label=f"    dose to {cname}")
                hi = max(hi, cdose)
        lo = min(lo, d[d > 0].min() if np.any(d > 0) else math.inf)
        hi = max(hi, d.max())
    if hi > 0:
        ax.set_yscale("log")
        lo = max(lo, hi * 1e-4)  # four decades below the highest curve...
        if thresholds:
            lo = min(lo, thresholds[0][1] / 2)  # ...or down to the lowest threshold
        ax.set_ylim(lo / 2, hi * 3)
        ax.set_xlim(0, duration / scale)
        thresholds_h(ax, lo / 2, hi * 3)
    ax.set_xlabel(f"time from scan start ({unit})")
    ax.set_ylabel("dose (Gy)")
    ax.set_title("Dose against time at the most dosed voxel of each material", fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    fig.text(0.01, 0.01, f"{title} | model {model}", fontsize=7, color="0.4")
    fig.tight_layout()
    fig.savefig(os.path.join(run, "dose_vs_time.png"))
    plt.close(fig)
    written.append("dose_vs_time.png")

    # ---- dose at each point position ----
    positions = summary.get("point_positions", [])
    if positions:
        # Bars: plain materials, and the components of composites (the dose that matters there).
        keys = []
        for p in positions:
            for name, m in p["materials"].items():
                parts = [(f"{name}: {c}", (name, c)) for c in m.get("components", {})] or [(name, (name, None))]
                for label, key in parts:
                    if key not in [k for _, k in keys]:
                        keys.append((label, key))

        def dose_at(p, key):
            m = p["materials"].get(key[0])
            if m is None:
                return 0.0
            return m["dose_max_Gy"] if key[1] is None else m["components"][key[1]]["dose_max_Gy"]

        def duration_text(s):
            return f"{s / 3600:.3g} h" if s >= 7200 else f"{s / 60:.3g} min" if s >= 120 else f"{s:.3g} s"

        fig, ax = plt.subplots(figsize=(max(9, 1.1 * len(keys) + 3), 5.5), dpi=100)
        width = 0.8 / len(positions)
        lo, hi = math.inf, 0.0
        for n, p in enumerate(positions):
            d = np.array([dose_at(p, key) for _, key in keys])
            x = np.arange(len(keys)) - 0.4 + (n + 0.5) * width
            x_um, y_um = p["at_um"]
            ax.bar(x, np.where(d > 0, d, np.nan), width=width * 0.92, color=colors[n % len(colors)],
                   label=f"({x_um:.6g}, {y_um:.6g}) µm, beam on {duration_text(p['beam_on_s'])}")
            if np.any(d > 0):
                lo, hi = min(lo, d[d > 0].min()), max(hi, d.max())
        if hi > 0:
            ax.set_yscale("log")
            if thresholds:
                lo = min(lo, thresholds[0][1])
            ax.set_ylim(lo / 3, hi * 3)
            thresholds_h(ax, lo / 3, hi * 3)
        ax.set_xticks(np.arange(len(keys)))
        ax.set_xticklabels([label for label, _ in keys], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-1.8, len(keys) - 0.4)  # room on the left for the threshold labels
        ax.set_ylabel("dose of the most dosed voxel in the column (Gy)")
        ax.set_title("Dose at each point position: the voxel column under the beam centre", fontsize=10)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, title="position", title_fontsize=8)
        fig.text(0.01, 0.01, f"{title} | model {model}", fontsize=7, color="0.4")
        fig.tight_layout()
        fig.savefig(os.path.join(run, "point_positions.png"))
        plt.close(fig)
        written.append("point_positions.png")

    # ---- the per-point map (points.csv), bounded: only the columns it draws are read ----
    points_csv = os.path.join(run, "points.csv")
    if os.path.isfile(points_csv):
        with open(points_csv) as f:
            header = f.readline().strip().split(",")
        materials = [h[: -len("_dose_max_Gy")] for h in header if h.endswith("_dose_max_Gy")]
        cols = [header.index(c) for c in ("step", "point", "x_um", "y_um", "x_end_um", "y_end_um")]
        dose_cols = [header.index(m + "_dose_max_Gy") for m in materials]
        table = np.genfromtxt(points_csv, delimiter=",", skip_header=1, usecols=cols + dose_cols, ndmin=2,
                              filling_values=np.nan, invalid_raise=False)
        if table.size and materials:
            # The last visit of each (step, point): rows are in time order.
            key = table[:, 0] * (table[:, 1].max() + 1) + table[:, 1]
            _, last_from_end = np.unique(key[::-1], return_index=True)
            rows = table[len(key) - 1 - last_from_end]
            x = 0.5 * (rows[:, 2] + rows[:, 4])  # a fly segment's middle
            y = 0.5 * (rows[:, 3] + rows[:, 5])
            doses = rows[:, 6:]
            order = np.argsort([-np.nanmax(doses[:, m]) if np.any(np.isfinite(doses[:, m])) else 0
                                for m in range(len(materials))])[:4]
            fig, axes = plt.subplots(1, len(order), figsize=(4.2 * len(order) + 1, 4.6), dpi=100, squeeze=False)
            span = max(np.ptp(x), np.ptp(y), 1e-9)
            size = max(4.0, min(120.0, 9000.0 / max(1, len(x)) ** 0.5 / max(span / (np.ptp(x) + 1e-9), 1)))
            for ax, m in zip(axes[0], order):
                d = doses[:, m]
                ok = np.isfinite(d) & (d > 0)
                if np.any(ok):
                    lo, hi = d[ok].min(), d[ok].max()
                    norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.01)
                    sc = ax.scatter(x[ok], y[ok], c=d[ok], s=size, cmap="inferno", norm=norm, marker="s",
                                    rasterized=True)
                    bar = fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.04)
                    bar.set_label("Gy", fontsize=8)
                    for label, value in thresholds:
                        if lo <= value <= hi:
                            bar.ax.axhline(value, color="cyan", lw=1)
                            bar.ax.text(-0.4, value, label, fontsize=6, va="center", ha="right",
                                        transform=bar.ax.get_yaxis_transform())
                if np.any(~ok):
                    ax.scatter(x[~ok], y[~ok], s=size, facecolors="none", edgecolors="0.7", marker="s", linewidths=0.5)
                ax.set_title(f"{materials[m]}: largest dose after the last visit", fontsize=9)
                ax.set_xlabel("x (µm)")
                ax.set_ylabel("y (µm)")
                ax.set_aspect("equal", adjustable="datalim")
            fig.text(0.01, 0.01, f"{title} | {len(x)} points, {len(table)} visits (points.csv) | model {model}",
                     fontsize=7, color="0.4")
            fig.tight_layout()
            fig.savefig(os.path.join(run, "points_map.png"))
            plt.close(fig)
            written.append("points_map.png")

    for w in written:
        print(os.path.join(run, w))


if __name__ == "__main__":
    main()
