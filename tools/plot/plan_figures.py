"""The figure of a pattern search (`dosemap plan --optimize pattern`), drawn from plan.json by
dosemap_plot.py into the plan directory:
  pareto.png  every candidate raster: beam-on time (points measured x dwell) against the
              largest dose (as a fraction of its limit) and against the largest dose rate over
              the search's window; the Pareto front joined and coloured by the third
              objective, the scene as written, the chosen pattern and the planned one marked.
"""
import json
import os


def draw_pareto(plan_dir, fail):
    path = os.path.join(plan_dir, "plan.json")
    with open(path) as f:
        plan = json.load(f)
    search = plan.get("patterns")
    if not search:
        fail(path, "holds no pattern search", "run dosemap plan SCENE --limit ... --optimize pattern -o DIR")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail("dosemap plot", f"cannot import {e.name}", "install python3-matplotlib (tools/setup --viz)")

    cands = search["candidates"]
    front = sorted((c for c in cands if c["on_front"]), key=lambda c: c["beam_on_s"])
    chosen = cands[search["chosen"]] if search.get("chosen") is not None else None
    planned = search.get("planned")
    written = cands[search["as_written"]] if search.get("as_written") is not None else None
    window = search["rate_window_s"]
    rate_label = f"largest dose rate over {window:g} s (Gy/s)"

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6))
    panels = [("dose_fraction", lambda c: 100 * c["dose_fraction"], "largest dose (% of its limit)", "window_rate_Gy_s"),
              ("window_rate_Gy_s", lambda c: c["window_rate_Gy_s"], rate_label, "dose_fraction")]
    for ax, (key, y, ylabel, colour_key) in zip(axes, panels):
        ax.scatter([c["beam_on_s"] for c in cands], [y(c) for c in cands], s=10, color="0.8", label="candidates",
                   zorder=1)
        sc = ax.scatter([c["beam_on_s"] for c in front], [y(c) for c in front], s=28,
                        c=[c[colour_key] * (100 if colour_key == "dose_fraction" else 1) for c in front],
                        cmap="viridis", label="Pareto front", zorder=3)
        bar = fig.colorbar(sc, ax=ax)
        bar.set_label("largest dose (% of limit)" if colour_key == "dose_fraction" else rate_label, fontsize=8)
        if written:
            ax.scatter([written["beam_on_s"]], [y(written)], marker="s", s=60, facecolors="none", edgecolors="black",
                       label="the scene's raster", zorder=4)
        if chosen:
            ax.scatter([chosen["beam_on_s"]], [y(chosen)], marker="D", s=50, facecolors="none", edgecolors="tab:red",
                       label="chosen: " + chosen["description"], zorder=4)
        if planned:
            ax.scatter([planned["beam_on_s"]], [y(planned)], marker="*", s=160, color="tab:red",
                       label="planned (dwell to the limit)", zorder=5)
        if key == "dose_fraction":
            ax.axhline(100, color="tab:red", lw=0.8, ls="--")
            ax.text(0.01, 100, " limit", color="tab:red", fontsize=8, va="bottom", transform=ax.get_yaxis_transform())
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("beam on: points measured x dwell (s)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", lw=0.3, color="0.9")
    # Below the panels, where it hides no point.
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=3, frameon=False)
    fig.suptitle(f"{plan.get('title', '')}: {search['evaluated']} rasters, {len(front)} on the Pareto front",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    out = os.path.join(plan_dir, "pareto.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(out)
