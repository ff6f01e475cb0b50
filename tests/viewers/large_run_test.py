"""A run above the preview size (8.6 M voxels): dosemap run writes dose_preview.vti and
dose_preview.vdb; with too little memory for the full grids (--max-memory) the ParaView
figure and the Blender import switch to them by themselves, say so, and still draw the
dose; with enough they use the full grids."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import viewer_testing as vt


def main():
    a = vt.parse_args()
    out = os.path.join(vt.scratch_dir("dosemap_viewer_"), "large")
    vt.run([a.dosemap, "run", os.path.join(a.source, "tests", "viewers", "scenes", "large_foil.toml"), "-o", out])
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    preview = summary["viewers"]["preview"]
    vt.check(preview is not None and preview["factor"] == 2, f"a preview at factor 2: {preview}")
    for name in ("dose_preview.vti", "dose_preview.vdb"):
        vt.check(os.path.isfile(os.path.join(out, name)), f"{name} written")

    have_paraview = vt.have("pvpython") and vt.have("Xvfb")
    if have_paraview:
        with vt.VirtualDisplay() as display:
            for budget, expect_preview in (("0.01", True), ("64", False)):
                png = os.path.join(out, f"paraview_{budget}.png")
                r = vt.run_full(["pvpython", os.path.join(a.source, "tools", "paraview", "dose_figure.py"), out,
                                 "--out", png, "--max-memory", budget], env=display.env(),
                                retry_on="bad X server connection")
                said = "drawing dose_preview.vti" in r.stderr
                vt.check(said == expect_preview, f"ParaView with {budget} GB: preview {said}")
                img = vt.read_png(png)
                vt.check(vt.distinct_colours(img) >= 30, f"ParaView with {budget} GB drew the dose")
    else:
        print("note: pvpython or Xvfb missing: ParaView not checked")

    if vt.have("blender"):
        png = os.path.join(out, "blender.png")
        r = vt.run_full(["blender", "-b", "--factory-startup", "--python",
                         os.path.join(a.source, "tools", "blender", "import_dose.py"), "--", out, "--render", png,
                         "--samples", "4", "--resolution", "480", "270", "--max-memory", "0.01"])
        vt.check("importing dose_preview.vdb" in r.stdout, "Blender with 0.01 GB imports the preview")
        with open(png + ".json") as f:
            vt.check(json.load(f)["preview"], "the render says it shows the preview")
        img = vt.read_png(png)
        vt.check(vt.luminance(img).std() > 0.02, "Blender rendered the dose")
    else:
        print("note: blender missing: Blender not checked")
    if not have_paraview and not vt.have("blender"):
        sys.exit(vt.SKIP)


main()
