"""Blender imports a run (its frames as a sequence) and renders it headless with Cycles:
the render is not blank, and the most dosed location (3) is the brightest, location 1 the
dimmest, where each lands in the image."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import viewer_testing as vt


def main():
    a = vt.parse_args()
    vt.require("blender", "blender")
    import numpy as np
    run = vt.demo_run(a.dosemap, a.source, formats="vdb")
    png = os.path.join(run, "blender.png")
    # The three locations' centres at mid-depth of the cell (mm).
    centres = [(-1.0, 0.0, 0.0665), (0.0, 0.0, 0.0665), (1.0, 0.0, 0.0665)]
    vt.run(["blender", "-b", "--factory-startup", "--python",
            os.path.join(a.source, "tools", "blender", "import_dose.py"), "--", run, "--render", png,
            "--samples", "8", "--resolution", "640", "360"] + sum((["--project", f"{x},{y},{z}"] for x, y, z in centres), []))
    vt.check(os.path.isfile(png), "Blender wrote the render")
    img = vt.read_png(png)
    lum = vt.luminance(img)
    vt.check(img.shape[1] == 640 and img.shape[0] == 360, f"render size {img.shape[1]} x {img.shape[0]}")
    vt.check(lum.std() > 0.02 and vt.distinct_colours(img) > 50, "the render is not blank")
    with open(png + ".json") as f:
        pixels = [p["pixel"] for p in json.load(f)["points"]]
    radius = 0.06 * img.shape[1]
    means = []
    for x, y in pixels:
        yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
        window = (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
        means.append(float(lum[window].mean()))
    print("mean luminance around locations 1, 2, 3:", ", ".join(f"{m:.3f}" for m in means))
    vt.check(means[2] > means[1] > means[0], "brighter where more dosed: location 3 > 2 > 1")
    vt.check(lum.max() == lum[(np.mgrid[0:img.shape[0], 0:img.shape[1]][1] > pixels[1][0])].max(),
             "the brightest pixel lies on the side of the most dosed location")


main()
