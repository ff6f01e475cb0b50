"""What the viewer scripts (tools/paraview, tools/blender; each runs in its program's own
Python) read from a dosemap run's summary.json: the threshold labels and how to name their
doses, and the memory a viewer may use. Plain Python, no third-party imports."""


def threshold_labels(summary):
    """Every label of the grids (t_<label>_s, dose_gt_<label>): the default scale's and the
    materials' own, ordered by their lowest dose."""
    materials = summary["materials"].values()
    lowest = dict(summary["thresholds_Gy"]) if any("thresholds_Gy" not in m for m in materials) else {}
    for m in materials:
        for label, dose in m.get("thresholds_Gy", {}).items():
            lowest[label] = min(dose, lowest.get(label, dose))
    return [label for label, _ in sorted(lowest.items(), key=lambda kv: kv[1])]


def threshold_text(summary, label):
    """'1e+06 Gy' when every material carrying the label gives it the same dose, else each."""
    doses = {name: m["thresholds_Gy"][label] for name, m in summary["materials"].items()
             if label in m.get("thresholds_Gy", {})}
    values = set(doses.values())
    if len(values) <= 1:
        return f"{next(iter(values), summary['thresholds_Gy'].get(label, 0)):.3g} Gy"
    return ", ".join(f"{name} {dose:.3g} Gy" for name, dose in doses.items())


def available_bytes():
    """MemAvailable from /proc/meminfo (Linux), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def memory_budget(max_memory_gb):
    """The bytes a viewer may use: --max-memory, else half of what is available (None:
    unknown, no limit)."""
    if max_memory_gb is not None:
        return max_memory_gb * 1e9
    free = available_bytes()
    return free / 2 if free is not None else None
