"""The standard ParaView figure of a dosemap run: a slice through the most dosed voxel
(x-z plane, the beam going up the page), dose on a log colour scale with a labelled colour
bar, and the threshold contours. Needs the run's dose.vti (run with formats = ["vti"] or
--format vdb,vti).

  xvfb-run -a -s "-screen 0 1280x1024x24" pvpython tools/paraview/dose_figure.py RUN_DIR \\
      [--out RUN_DIR/paraview_slice.png] [--probe i,j,k ...]

--probe prints the dose of voxels (i, j, k) as ParaView reads them ("probe i j k dose").
"""
import argparse
import json
import math
import os
import sys

from paraview import servermanager
from paraview.simple import (CellDatatoPointData, ColorBy, Contour, GetActiveViewOrCreate, GetColorTransferFunction,
                             GetScalarBar, Hide, Show, Slice, SaveScreenshot, Text, Transform, XMLImageDataReader)


def fail(where, what, fix):
    print(f"{where}: error: {what}; {fix}", file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--out", default=None)
    ap.add_argument("--probe", action="append", default=[], help="i,j,k of a voxel whose dose to print")
    args = ap.parse_args()
    vti = os.path.join(args.run_dir, "dose.vti")
    summary_path = os.path.join(args.run_dir, "summary.json")
    if not os.path.isfile(vti):
        fail(vti, "not found", "run dosemap with --format vdb,vti (or formats = [\"vdb\", \"vti\"] in [output])")
    if not os.path.isfile(summary_path):
        fail(summary_path, "not found", "give the directory of a dosemap run")
    with open(summary_path) as f:
        summary = json.load(f)
    nx, ny, nz = summary["grid"]["dims"]
    vx, vy, vz = [v * 1e-3 for v in summary["grid"]["voxel_um"]]
    ox, oy, oz = [v * 1e-3 for v in summary["grid"]["origin_um"]]

    reader = XMLImageDataReader(FileName=[vti])
    reader.UpdatePipeline()
    if args.probe:
        image = servermanager.Fetch(reader)
        dose = image.GetCellData().GetArray("dose")
        for p in args.probe:
            i, j, k = (int(x) for x in p.split(","))
            print(f"probe {i} {j} {k} {dose.GetValue(i + nx * (j + ny * k)):.9g}")

    # The sample is thin along the beam: stretch z so the slice is about a third as tall as wide.
    width, depth = nx * vx, nz * vz
    stretch = max(1.0, width / depth / 3.0)
    stretched = Transform(Input=reader)
    stretched.Transform = "Transform"
    stretched.Transform.Scale = [1.0, 1.0, stretch]
    i, j, k = summary["dose_max"]["voxel"]
    y0 = oy + (j + 0.5) * vy
    centre = [ox + (i + 0.5) * vx, y0, (oz + (k + 0.5) * vz) * stretch]

    view = GetActiveViewOrCreate("RenderView")
    view.ViewSize = [1600, 700]
    view.OrientationAxesVisibility = 0
    view.Background = [1, 1, 1]
    try:
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    sl = Slice(Input=stretched)
    sl.SliceType = "Plane"
    sl.SliceType.Origin = centre
    sl.SliceType.Normal = [0, 1, 0]
    shown = Show(sl, view)
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

    # Threshold contours: dose on the points, iso-surfaces cut by the same plane.
    points = CellDatatoPointData(Input=stretched)
    palette = [[0.1, 0.75, 0.2], [0.1, 0.55, 1.0], [0.85, 0.1, 0.85], [0.0, 0.9, 0.9], [1.0, 0.6, 0.0]]
    legend = []
    thresholds = sorted(summary["thresholds_Gy"].items(), key=lambda kv: kv[1])
    for n, (label, level) in enumerate(thresholds):
        if not (0 < level < dmax):
            continue
        iso = Contour(Input=points)
        iso.ContourBy = ["POINTS", "dose"]
        iso.Isosurfaces = [level]
        cut = Slice(Input=iso)
        cut.SliceType = "Plane"
        cut.SliceType.Origin = centre
        cut.SliceType.Normal = [0, 1, 0]
        d = Show(cut, view)
        ColorBy(d, None)
        color = palette[n % len(palette)]
        d.AmbientColor = d.DiffuseColor = color
        d.LineWidth = 2.5
        d.Ambient, d.Diffuse = 1.0, 0.0
        legend.append((f"{label} {level:.3g} Gy", color))
    # Legend along the top, above the slice.
    for n, (text, color) in enumerate(legend):
        t = Text(Text="\u2014 " + text)
        td = Show(t, view)
        td.Color = color
        td.FontSize = 14
        td.WindowLocation = "Any Location"
        td.Position = [0.02 + 0.22 * n, 0.93]
    # ParaView's text renderer treats '|' specially: keep it out of the title.
    name = summary["title"].replace("|", "/")
    title = Text(Text=f"{name}\nslice y = {y0 * 1e3:.4g} um through the most dosed voxel (x-z plane, beam upwards); "
                      f"z stretched x{stretch:.3g}; model {summary['dose_model']}")
    tt = Show(title, view)
    tt.Color = [0, 0, 0]
    tt.FontSize = 13
    tt.WindowLocation = "Lower Left Corner"

    # Parallel projection: the scale is half the visible height. Show the whole grid with
    # a margin, shifted left to leave the right edge to the colour bar.
    aspect = 1600 / 700
    height = depth * stretch
    scale = max(0.5 * width * 1.3 / aspect, 0.5 * height * 1.6)
    focal = [ox + 0.5 * width + 0.1 * width, y0, oz * stretch + 0.5 * height]
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
