"""The standard ParaView figure of a dosemap run: a slice through the most dosed voxel
(x-z plane, the beam going up the page), dose on a log colour scale with a labelled colour
bar, and the threshold contours (the dose_gt_<label> masks: each voxel against its own
material's thresholds). Needs the run's dose.vti (run with formats = ["vti"] or
--format vdb,vti).

  xvfb-run -a -s "-screen 0 1280x1024x24" pvpython tools/paraview/dose_figure.py RUN_DIR \\
      [--out RUN_DIR/paraview_slice.png] [--lod auto|full|preview] [--crop auto|none]
      [--max-memory GB] [--probe i,j,k ...]

At real scale (a coin-cell map's dose.vti holds 2 GB of arrays) it reads only the arrays it draws, slices
before anything else, and checks memory first: --lod auto (default) uses dose_preview.vti
(written by dosemap run for large grids: each voxel the maximum of the voxels it covers)
when the full grid's arrays would not fit in --max-memory (default: half the available). --crop auto (default)
frames the dosed region (summary.json viewers.dosed_region), none the whole grid.
--probe prints the dose of voxels (i, j, k) as ParaView reads them ("probe i j k dose").
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "viewers"))
from run_summary import memory_budget, threshold_labels, threshold_text  # noqa: E402 (tools/viewers)

from paraview import servermanager
from paraview.simple import (CellDatatoPointData, ColorBy, Contour, GetActiveViewOrCreate, GetColorTransferFunction,
                             GetScalarBar, Show, Slice, SaveScreenshot, Text, Transform, XMLImageDataReader)


def fail(where, what, fix):
    print(f"{where}: error: {what}; {fix}", file=sys.stderr)
    sys.exit(2)


def region_voxels(region):
    return math.prod(region[a][1] - region[a][0] for a in ("i", "j", "k"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--out", default=None)
    ap.add_argument("--lod", choices=("auto", "full", "preview"), default="auto")
    ap.add_argument("--crop", choices=("auto", "none"), default="auto")
    ap.add_argument("--max-memory", type=float, default=None, help="GB the figure may use (default: half the available)")
    ap.add_argument("--probe", action="append", default=[], help="i,j,k of a voxel whose dose to print")
    args = ap.parse_args()
    summary_path = os.path.join(args.run_dir, "summary.json")
    if not os.path.isfile(summary_path):
        fail(summary_path, "not found", "give the directory of a dosemap run")
    with open(summary_path) as f:
        summary = json.load(f)
    vti = os.path.join(args.run_dir, "dose.vti")
    if not os.path.isfile(vti):
        fail(vti, "not found", "run dosemap with --format vdb,vti (or formats = [\"vdb\", \"vti\"] in [output])")
    if "dose_max" not in summary:
        fail(args.run_dir, "the run deposited no dose", "check that the beam hits the sample (dosemap check)")
    viewers = summary.get("viewers", {})
    grid = summary["grid"]
    region = viewers.get("vti_region") or {a: [0, n] for a, n in zip("ijk", grid["dims"])}

    # Level of detail: the full grid unless its slice pipeline would not fit.
    preview = viewers.get("preview")
    preview_vti = os.path.join(args.run_dir, "dose_preview.vti")
    # The reader holds the drawn arrays (dose float32 + one byte per mask) of the whole file;
    # slicing and contouring add little: twice that, against the budget.
    masks = [f"dose_gt_{label}" for label in threshold_labels(summary)]
    need = 2 * region_voxels(region) * (4 + len(masks))
    budget = memory_budget(args.max_memory)
    use_preview = args.lod == "preview" or (args.lod == "auto" and budget is not None and need > budget)
    if use_preview:
        if not (preview and os.path.isfile(preview_vti)):
            if args.lod == "preview":
                fail(preview_vti, "not found", "dosemap run writes a preview for grids over 8.4 M voxels; use --lod full")
            fail(vti, f"the figure needs about {need / 1e9:.3g} GB, more than the {budget / 1e9:.3g} GB it may use",
                 "free memory or raise --max-memory, or rerun dosemap run with --crop auto (only the dosed region)")
        if args.lod == "auto":
            print(f"note: the full grid needs about {need / 1e9:.3g} GB, more than the {budget / 1e9:.3g} GB the figure "
                  f"may use: drawing dose_preview.vti (each voxel the maximum of {preview['factor']}^3)", file=sys.stderr)
        vti = preview_vti
        dims, vox, org = preview["dims"], preview["voxel_um"], preview["origin_um"]
        to_preview = lambda n, a: (n - region["ijk"[a]][0]) // preview["factor"]
    else:
        dims, vox, org = grid["dims"], grid["voxel_um"], grid["origin_um"]
        to_preview = lambda n, a: n
    vx, vy, vz = [v * 1e-3 for v in vox]
    ox, oy, oz = [v * 1e-3 for v in org]

    reader = XMLImageDataReader(FileName=[vti])
    present = set(reader.CellArrayInfo.keys()) if hasattr(reader, "CellArrayInfo") else None
    masks = [m for m in masks if present is None or m in present]
    reader.CellArrayStatus = ["dose"] + masks  # only what is drawn is read
    reader.UpdatePipeline()
    if args.probe:
        image = servermanager.Fetch(reader)
        dose = image.GetCellData().GetArray("dose")
        for p in args.probe:
            i, j, k = (int(x) for x in p.split(","))
            print(f"probe {i} {j} {k} {dose.GetValue(image.ComputeCellId([i, j, k])):.9g}")

    # The most dosed voxel in the drawn file's indices, and the slice plane through it.
    i, j, k = (to_preview(n, a) for a, n in enumerate(summary["dose_max"]["voxel"]))
    y0 = oy + (j + 0.5) * vy
    # The framed part: the dosed region (crop auto) or the whole grid, in mm.
    frame = viewers.get("dosed_region") if args.crop == "auto" and viewers.get("dosed_region") else \
        {a: [0, n] for a, n in zip("ijk", grid["dims"])}
    gx, gz = grid["voxel_um"][0] * 1e-3, grid["voxel_um"][2] * 1e-3
    gox, goz = grid["origin_um"][0] * 1e-3, grid["origin_um"][2] * 1e-3
    x_lo, x_hi = gox + frame["i"][0] * gx, gox + frame["i"][1] * gx
    z_lo, z_hi = goz + frame["k"][0] * gz, goz + frame["k"][1] * gz
    width, depth = x_hi - x_lo, z_hi - z_lo
    # The sample is thin along the beam: stretch z so the slice is about a third as tall as wide.
    stretch = max(1.0, width / depth / 3.0)

    view = GetActiveViewOrCreate("RenderView")
    view.ViewSize = [1600, 700]
    view.OrientationAxesVisibility = 0
    view.Background = [1, 1, 1]
    try:
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    # Slice first (a plane of cells), then stretch the plane: nothing volumetric is copied.
    sl = Slice(Input=reader)
    sl.SliceType = "Plane"
    sl.SliceType.Origin = [ox + (i + 0.5) * vx, y0, oz + (k + 0.5) * vz]
    sl.SliceType.Normal = [0, 1, 0]
    stretched = Transform(Input=sl)
    stretched.Transform = "Transform"
    stretched.Transform.Scale = [1.0, 1.0, stretch]
    shown = Show(stretched, view)
    ColorBy(shown, ("CELLS", "dose"))
    shown.Ambient, shown.Diffuse = 1.0, 0.0  # unlit: the colour is the dose
    lut = GetColorTransferFunction("dose")
    lut.ApplyPreset("Inferno (matplotlib)", True)
    dmax = summary["dose_max"]["Gy"]
    lut.UseLogScale = 1
    lut.RescaleTransferFunction(dmax * 1e-4, dmax)
    lut.NanColor = [0.85, 0.85, 0.85]
    bar = GetScalarBar(lut, view)
    bar.Title = "dose (Gy, log scale)"
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0, 0, 0]
    bar.RangeLabelFormat = "%-#.2e"
    bar.WindowLocation = "Any Location"
    bar.Orientation = "Vertical"
    bar.Position = [0.92, 0.12]
    bar.ScalarBarLength = 0.72
    bar.TitleFontSize = 14
    bar.LabelFontSize = 12
    bar.Visibility = 1
    shown.SetScalarBarVisibility(view, True)

    # Threshold contours: the edge of each dose_gt_<label> mask on the slice (each voxel
    # judged against its own material's thresholds).
    points = CellDatatoPointData(Input=stretched)
    palette = [[0.1, 0.75, 0.2], [0.1, 0.55, 1.0], [0.85, 0.1, 0.85], [0.0, 0.9, 0.9], [1.0, 0.6, 0.0]]
    legend = []
    for n, mask in enumerate(masks):
        label = mask[len("dose_gt_"):]
        iso = Contour(Input=points)
        iso.ContourBy = ["POINTS", mask]
        iso.Isosurfaces = [0.5]
        d = Show(iso, view)
        d.ColorArrayName = ["POINTS", ""]  # a solid colour (ColorBy(None) fails on an empty contour)
        color = palette[n % len(palette)]
        d.AmbientColor = d.DiffuseColor = color
        d.LineWidth = 2.5
        d.Ambient, d.Diffuse = 1.0, 0.0
        legend.append((f"{label} {threshold_text(summary, label)}", color))
    # Legend along the top, above the slice.
    for n, (text, color) in enumerate(legend):
        t = Text(Text="\u2014 " + text)
        td = Show(t, view)
        td.Color = color
        td.FontSize = 14
        td.WindowLocation = "Any Location"
        td.Position = [0.02 + 0.19 * (n % 5), 0.93 - 0.045 * (n // 5)]
    # ParaView's text renderer treats '|' specially: keep it out of the title.
    name = summary["title"].replace("|", "/")
    lod = f"; preview: each voxel the max of {preview['factor']}^3" if use_preview else ""
    title = Text(Text=f"{name}\nslice y = {y0 * 1e3:.4g} um through the most dosed voxel (x-z plane, beam upwards); "
                      f"z stretched x{stretch:.3g}; model {summary['dose_model']}{lod}")
    tt = Show(title, view)
    tt.Color = [0, 0, 0]
    tt.FontSize = 13
    tt.WindowLocation = "Lower Left Corner"

    # Parallel projection: the scale is half the visible height. Show the framed part with
    # a margin, shifted left to leave the right edge to the colour bar.
    aspect = 1600 / 700
    height = depth * stretch
    scale = max(0.5 * width * 1.3 / aspect, 0.5 * height * 1.6)
    focal = [x_lo + 0.5 * width + 0.1 * width, y0, z_lo * stretch + 0.5 * height]
    view.CameraParallelProjection = 1
    view.CameraFocalPoint = focal
    view.CameraPosition = [focal[0], y0 - 10 * width, focal[2]]
    view.CameraViewUp = [0, 0, 1]
    view.CameraParallelScale = scale
    out = args.out or os.path.join(args.run_dir, "paraview_slice.png")
    SaveScreenshot(out, view, ImageResolution=[1600, 700])
    print(out)


if __name__ == "__main__":
    main()
