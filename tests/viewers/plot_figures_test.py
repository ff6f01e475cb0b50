"""`dosemap plot RUN_DIR` writes every figure of a run (the demo's point steps add the
point-position figure) for the material most at risk (the demo's cathode, not its copper
foil, which carries no thresholds), or the one given with --material; the depth profile's
values match summary.json (its maximum in the chosen material is that material's peak)."""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import viewer_testing as vt


def main():
    a = vt.parse_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("SKIP: python3-matplotlib is not installed (tools/setup --viz installs it)")
        sys.exit(vt.SKIP)
    run = vt.demo_run(a.dosemap, a.source, formats="vdb")
    out = vt.run([a.dosemap, "plot", run])
    # The demo scan has three point positions: their figure is drawn too.
    for name in ("depth_profile.png", "lateral_map.png", "dose_vs_time.png", "point_positions.png", "points_map.png"):
        path = os.path.join(run, name)
        vt.check(os.path.isfile(path) and path in out, f"{name} written and named")
        img = vt.read_png(path)
        vt.check(img.shape[1] >= 800 and img.shape[0] >= 450, f"{name} is {img.shape[1]} x {img.shape[0]} px")
        vt.check(vt.distinct_colours(img) > 20, f"{name} is not blank")
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(run, "depth_profile.csv")) as f:
        rows = list(csv.DictReader(f))
    nz = summary["grid"]["dims"][2]
    vt.check(len(rows) == nz, f"the depth profile has one row per z voxel ({nz})")
    chosen = out.split("figures for ")[1].split()[0]
    vt.check(chosen == "cathode", f"the figures are for the material most at risk: {chosen}")

    def peak_in(material):
        return max(float(r["dose_Gy"]) for r in rows for layer in summary["sample"]["layers"]
                   if layer["material"] == material and layer["z0_um"] <= float(r["z_um"]) < layer["z1_um"])

    expect = summary["materials"][chosen]["dose_max_Gy"]
    peak = peak_in(chosen)
    vt.check(abs(peak - expect) <= 1e-6 * expect, f"profile maximum in {chosen} {peak:.7g} Gy = its dose_max {expect:.7g} Gy")
    # Every layer's mean dose along the column is within the material's range in the summary.
    for layer in summary["sample"]["layers"]:
        doses = [float(r["dose_Gy"]) for r in rows if layer["z0_um"] <= float(r["z_um"]) < layer["z1_um"]]
        m = summary["materials"][layer["material"]]
        vt.check(max(doses) <= m["dose_max_Gy"] * (1 + 1e-6),
                 f"{layer['material']}: profile max {max(doses):.4g} <= material max {m['dose_max_Gy']:.4g} Gy")

    # --material: the figures of another material; an unknown one is refused with the choices.
    out = vt.run([a.dosemap, "plot", run, "--material", "copper"])
    vt.check("figures for copper" in out, "--material copper draws copper's figures")
    with open(os.path.join(run, "depth_profile.csv")) as f:
        rows = list(csv.DictReader(f))
    expect = summary["materials"]["copper"]["dose_max_Gy"]
    vt.check(abs(peak_in("copper") - expect) <= 1e-6 * expect, "copper's profile peaks at copper's dose_max")
    import subprocess
    bad = subprocess.run([a.dosemap, "plot", run, "--material", "steel"], capture_output=True, text=True)
    vt.check(bad.returncode == 2 and "use one of:" in bad.stderr and "cathode" in bad.stderr,
             f"--material steel: exit 2 with the choices ({bad.stderr.strip()[:120]})")


main()
