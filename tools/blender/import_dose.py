"""Import a dosemap run into Blender and optionally render it headless.

  blender -b --factory-startup --python tools/blender/import_dose.py -- RUN_DIR \\
      [--render out.png] [--samples 32] [--resolution 960 540] [--lod auto|full|preview]
      [--crop auto|none] [--cut auto|none] [--max-memory GB] [--project X,Y,Z ...]

Builds: the dose volume (dose.vdb, or the frames in RUN_DIR/frames as an animated
sequence) with a material mapping dose to colour and brightness on a log scale (its
`density` grid: log10 of dose over four decades); one surface per damage threshold around
the voxels that reached it, each voxel against its own material's thresholds (from the
t_<label>_s grids; separate objects, distinct colours); the sample's layers as faint
outlines; a legend of the thresholds and a scale bar; a camera and a light framing the
dosed region (--crop auto, the default; none: the whole grid), the volume opened at the
plane y through the most dosed voxel (--cut auto, the default; none: whole). Blender units are
millimetres, as in the VDB; z (the beam axis) is stretched so that thin samples stay
visible, and the stretch is printed. With --render, Cycles renders a PNG (CPU, no
denoiser); --project prints and stores (in <png>.json) where sample points (mm,
unstretched) land in the image.

Memory is checked first: --lod auto (default) imports dose_preview.vdb (written by dosemap
run for large grids: each voxel the maximum of the voxels it covers, no frames) when the
full grids would not fit in --max-memory (default: half the available); full and preview
force one.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "viewers"))
from run_summary import memory_budget, threshold_labels, threshold_text  # noqa: E402 (tools/viewers)

import bpy
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector


def fail(what, fix):
    print(f"import_dose.py: error: {what}; {fix}", file=sys.stderr)
    sys.exit(2)


def parse_args():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if not argv:
        fail("no run directory given", "call: blender -b --factory-startup --python import_dose.py -- RUN_DIR [--render out.png]")
    opts = {"run": argv[0], "render": None, "samples": 32, "resolution": (960, 540), "project": [], "lod": "auto",
            "crop": "auto", "max_memory": None, "cut": "auto"}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--render":
            opts["render"] = argv[i + 1]
            i += 2
        elif a == "--samples":
            opts["samples"] = int(argv[i + 1])
            i += 2
        elif a == "--resolution":
            opts["resolution"] = (int(argv[i + 1]), int(argv[i + 2]))
            i += 3
        elif a in ("--lod", "--crop", "--cut") and i + 1 < len(argv):
            choices = ("auto", "full", "preview") if a == "--lod" else ("auto", "none")
            if argv[i + 1] not in choices:
                fail(f"{a} {argv[i + 1]}", f"use one of {', '.join(choices)}")
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a == "--max-memory" and i + 1 < len(argv):
            opts["max_memory"] = float(argv[i + 1])
            i += 2
        elif a == "--project":
            opts["project"].append(tuple(float(x) for x in argv[i + 1].split(",")))
            i += 2
        else:
            fail(f"unknown option '{a}'", "use --render, --samples, --resolution, --lod, --crop, --cut, --max-memory or --project")
    return opts


def math_node(mat, operation, source, value):
    """A Math node of `mat` computing `source` <operation> `value`."""
    node = mat.node_tree.nodes.new("ShaderNodeMath")
    node.operation = operation
    mat.node_tree.links.new(source, node.inputs[0])
    node.inputs[1].default_value = value
    return node


def emission_material(name, color, strength, alpha, rim=False):
    """A faint, self-lit surface: mostly transparent, tinted. With rim, it glows only where
    seen edge-on, so a closed surface reads as an outline and hides nothing behind it."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputMaterial")
    emit = nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (*color, 1.0)
    emit.inputs["Strength"].default_value = strength
    clear = nodes.new("ShaderNodeBsdfTransparent")
    mix = nodes.new("ShaderNodeMixShader")
    mix.inputs["Fac"].default_value = alpha
    if rim:
        weight = nodes.new("ShaderNodeLayerWeight")
        weight.inputs["Blend"].default_value = 0.2
        edge = math_node(mat, "POWER", weight.outputs["Facing"], 4.0)
        scaled = math_node(mat, "MULTIPLY", edge.outputs[0], alpha)
        links.new(scaled.outputs[0], mix.inputs["Fac"])
    links.new(clear.outputs[0], mix.inputs[1])
    links.new(emit.outputs[0], mix.inputs[2])
    links.new(mix.outputs[0], out.inputs["Surface"])
    mat.blend_method = "BLEND"
    return mat


def dose_material(extent_mm, cut_y_mm=None):
    """Colour from the `density` grid (log-scaled dose in [0, 1]) through an inferno-like
    ramp. The volume absorbs in proportion to that value and emits the ramp's colour at the
    same rate, so that a line of sight converges to the colour of the first dosed matter it
    meets instead of adding up to white: a large, evenly dosed cell reads as a coloured
    solid, weakly dosed parts stay see-through. Opaque within about 1/40 of the framed
    extent. With cut_y_mm, everything in front of that plane (y below it: the camera's side)
    is left out, opening the volume at the most dosed voxel like the ParaView slice."""
    mat = bpy.data.materials.new("dose (log scale)")
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputMaterial")
    attr = nodes.new("ShaderNodeAttribute")
    attr.attribute_name = "density"
    ramp = nodes.new("ShaderNodeValToRGB")  # an inferno-like ramp: dark purple -> red -> yellow
    stops = [(0.0, (0.02, 0.0, 0.08)), (0.35, (0.35, 0.02, 0.45)), (0.65, (0.85, 0.2, 0.1)), (1.0, (1.0, 0.95, 0.4))]
    ramp.color_ramp.elements[0].position, ramp.color_ramp.elements[0].color = stops[0][0], (*stops[0][1], 1)
    ramp.color_ramp.elements[1].position, ramp.color_ramp.elements[1].color = stops[-1][0], (*stops[-1][1], 1)
    for pos, col in stops[1:-1]:
        e = ramp.color_ramp.elements.new(pos)
        e.color = (*col, 1)
    links.new(attr.outputs["Fac"], ramp.inputs["Fac"])
    dens = math_node(mat, "MULTIPLY", attr.outputs["Fac"], 40.0 / extent_mm)
    if cut_y_mm is not None:
        coords = nodes.new("ShaderNodeTexCoord")  # object space: the VDB's millimetres
        xyz = nodes.new("ShaderNodeSeparateXYZ")
        links.new(coords.outputs["Object"], xyz.inputs[0])
        behind = math_node(mat, "GREATER_THAN", xyz.outputs["Y"], cut_y_mm)
        kept = nodes.new("ShaderNodeMath")
        kept.operation = "MULTIPLY"
        links.new(dens.outputs[0], kept.inputs[0])
        links.new(behind.outputs[0], kept.inputs[1])
        dens = kept
    vol = nodes.new("ShaderNodeVolumePrincipled")
    vol.inputs["Color"].default_value = (0, 0, 0, 1)  # absorbs, scatters nothing: the colour is the emission's
    links.new(ramp.outputs["Color"], vol.inputs["Emission Color"])
    links.new(dens.outputs[0], vol.inputs["Emission Strength"])
    links.new(dens.outputs[0], vol.inputs["Density"])
    vol.inputs["Density Attribute"].default_value = ""
    links.new(vol.outputs[0], out.inputs["Volume"])
    return mat


# Blender's memory per voxel of the dosed region: the density grid it renders (Cycles keeps
# its own copy), the crossing grids the threshold surfaces are built from, and the surfaces.
# Measured on this project's scenes (benchmarks/RESULTS.md), rounded up.
BYTES_PER_VOXEL = 24
BYTES_PER_VOXEL_PER_THRESHOLD = 8


def text_object(scene, name, body, size, color, parent=None, location=(0, 0, 0)):
    """A flat, self-lit text (legend, scale bar label)."""
    curve = bpy.data.curves.new(name, "FONT")
    curve.body = body
    curve.size = size
    obj = bpy.data.objects.new(name, curve)
    scene.collection.objects.link(obj)
    # Dimmer than the hottest dose, so that the brightest pixel is always data.
    obj.data.materials.append(emission_material(name, tuple(0.7 * c for c in color), 0.7, 1.0))
    if parent is not None:
        obj.parent = parent
    obj.location = location
    return obj


def nice_length(x):
    """The largest of 1, 2, 5 x 10^n not above x."""
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def main():
    opts = parse_args()
    run = opts["run"]
    summary_path = os.path.join(run, "summary.json")
    if not os.path.isfile(summary_path):
        fail(f"{summary_path} not found", "give the directory of a dosemap run (dosemap run SCENE -o DIR)")
    with open(summary_path) as f:
        summary = json.load(f)
    nx, ny, nz = summary["grid"]["dims"]
    vx, vy, vz = (v * 1e-3 for v in summary["grid"]["voxel_um"])
    ox, oy, oz = (v * 1e-3 for v in summary["grid"]["origin_um"])
    sx, sy, sz = nx * vx, ny * vy, nz * vz
    viewers = summary.get("viewers", {})
    whole = {"i": [0, nx], "j": [0, ny], "k": [0, nz]}
    dosed = viewers.get("dosed_region") or whole
    labels = threshold_labels(summary)

    # ---- level of detail: the full grids unless they would not fit ----
    need = math.prod(dosed[a][1] - dosed[a][0] for a in "ijk") * (
        BYTES_PER_VOXEL + BYTES_PER_VOXEL_PER_THRESHOLD * len(labels))
    budget = memory_budget(opts["max_memory"])
    preview = viewers.get("preview")
    preview_vdb = os.path.join(run, "dose_preview.vdb")
    use_preview = opts["lod"] == "preview" or (opts["lod"] == "auto" and budget is not None and need > budget)
    if use_preview:
        if not (preview and os.path.isfile(preview_vdb)):
            if opts["lod"] == "preview":
                fail(f"{preview_vdb} not found", "dosemap run writes a preview for grids over 8.4 M voxels; use --lod full")
            fail(f"the full grids need about {need / 1e9:.3g} GB, more than the {budget / 1e9:.3g} GB Blender may use",
                 "free memory or raise --max-memory (dosemap run writes dose_preview.vdb for grids over 8.4 M voxels)")
        if opts["lod"] == "auto":
            print(f"import_dose: the full grids need about {need / 1e9:.3g} GB, more than the {budget / 1e9:.3g} GB "
                  f"Blender may use: importing dose_preview.vdb (each voxel the maximum of {preview['factor']}^3; no frames)")

    frame = dosed if opts["crop"] == "auto" else whole
    fx0, fx1 = ox + frame["i"][0] * vx, ox + frame["i"][1] * vx
    fy0, fy1 = oy + frame["j"][0] * vy, oy + frame["j"][1] * vy
    fz0, fz1 = oz + frame["k"][0] * vz, oz + frame["k"][1] * vz
    stretch = max(1.0, max(fx1 - fx0, fy1 - fy0) / (fz1 - fz0) / 4.0)
    print(f"import_dose: z (beam axis) stretched x{stretch:.3g} for visibility")

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene

    # ---- the dose volume (a sequence when the run has frames) ----
    frames_dir = os.path.join(run, "frames")
    frames = sorted(f for f in os.listdir(frames_dir) if f.startswith("dose_") and f.endswith(".vdb")) \
        if os.path.isdir(frames_dir) and not use_preview else []
    vdb = preview_vdb if use_preview else os.path.join(run, "dose.vdb")
    if not os.path.isfile(vdb):
        fail(f"{vdb} not found", "run dosemap with the vdb format")
    if frames:
        bpy.ops.object.volume_import(filepath=os.path.join(frames_dir, frames[0]), directory=frames_dir,
                                     files=[{"name": f} for f in frames], relative_path=False)
        scene.frame_start, scene.frame_end = 1, len(frames)
        scene.frame_set(len(frames))  # a still shows the end of the scan
    else:
        bpy.ops.object.volume_import(filepath=vdb, relative_path=False)
    volume = bpy.context.active_object
    volume.name = "dose"
    volume.scale = (1.0, 1.0, stretch)
    extent = max(fx1 - fx0, fy1 - fy0, (fz1 - fz0) * stretch)
    hottest = summary.get("dose_max", {}).get("voxel")
    cut_y = oy + hottest[1] * vy if opts["cut"] == "auto" and hottest else None
    volume.data.materials.append(dose_material(extent, cut_y))
    volume.data.render.space = "OBJECT"

    # ---- threshold surfaces: around the voxels whose dose reached each threshold ----
    # Built from t_<label>_s (active, >= 0, where the voxel's own material's threshold was
    # reached; -1 elsewhere), read from the final grids (also when the volume is a sequence).
    if frames:
        bpy.ops.object.volume_import(filepath=vdb, relative_path=False)
        source = bpy.context.active_object
        source.name = "thresholds (source)"
        source.scale = (1.0, 1.0, stretch)
        source.hide_render = True
        source.hide_viewport = True
    else:
        source = volume
    palette = [(0.1, 0.85, 0.25), (0.1, 0.55, 1.0), (0.95, 0.2, 0.9), (0.0, 0.95, 0.95), (1.0, 0.65, 0.0)]
    legend = []
    for n, label in enumerate(labels):
        stats = [m for m in summary["materials"].values()] + \
            [c for m in summary["materials"].values() for c in m.get("components", {}).values()]
        reached = any(m.get("above", {}).get(label, {}).get("voxels", 0) > 0 for m in stats)
        if not reached:
            continue
        color = palette[n % len(palette)]
        mesh = bpy.data.meshes.new(f"dose >= {label}")
        obj = bpy.data.objects.new(f"dose >= {label} ({threshold_text(summary, label)})", mesh)
        scene.collection.objects.link(obj)
        mod = obj.modifiers.new("threshold", "VOLUME_TO_MESH")
        mod.object = source
        mod.grid_name = f"t_{label}_s"
        mod.threshold = -0.5  # crossed voxels hold times >= 0, the rest the background -1
        mod.resolution_mode = "GRID"
        obj.data.materials.append(emission_material(f"threshold {label}", color, 1.5, 0.8, rim=True))
        legend.append((f"dose >= {label} ({threshold_text(summary, label)})", color))

    # ---- the sample's layers as faint outlines ----
    outline = emission_material("layer outline", (0.7, 0.75, 0.85), 1.0, 0.5)
    for n, layer in enumerate(summary["sample"]["layers"]):
        z0, z1 = layer["z0_um"] * 1e-3 * stretch, layer["z1_um"] * 1e-3 * stretch
        bpy.ops.mesh.primitive_cube_add(location=(ox + sx / 2, oy + sy / 2, oz * stretch + (z0 + z1) / 2))
        box = bpy.context.active_object
        box.name = f"layer {n + 1}: {layer['material']}"
        box.scale = (sx / 2, sy / 2, (z1 - z0) / 2)
        wire = box.modifiers.new("outline", "WIREFRAME")
        wire.thickness = 0.004 * max(sx, sy)
        wire.use_relative_offset = False
        wire.use_even_offset = False
        box.data.materials.append(outline)

    # ---- camera and light framing the dosed region (crop auto) or the grid ----
    centre = Vector(((fx0 + fx1) / 2, (fy0 + fy1) / 2, (fz0 + fz1) / 2 * stretch))
    cam_data = bpy.data.cameras.new("camera")
    cam_data.lens = 50
    cam = bpy.data.objects.new("camera", cam_data)
    scene.collection.objects.link(cam)
    direction = Vector((0.45, -1.0, 0.9)).normalized()  # from the front, above, to the right
    diagonal = math.sqrt((fx1 - fx0) ** 2 + (fy1 - fy0) ** 2 + ((fz1 - fz0) * stretch) ** 2)
    cam.location = centre + direction * diagonal * 2.0  # the whole framed box in view
    cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = cam
    sun = bpy.data.objects.new("light", bpy.data.lights.new("light", "SUN"))
    sun.data.energy = 2.0
    sun.rotation_euler = (math.radians(40), math.radians(15), math.radians(30))
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.015, 0.015, 0.02, 1)
    scene.world = world

    # ---- legend (top left of the image) and scale bar (along x, at the front edge) ----
    w, h = opts["resolution"]
    depth = 1.0 * extent  # in front of the camera, before the sample
    half_w = depth * cam_data.sensor_width / 2 / cam_data.lens
    half_h = half_w * h / w
    line = 0.075 * half_h
    rows = [(f"dose, log scale: {summary.get('dose_max', {}).get('Gy', 0) * 1e-4:.3g} - "
             f"{summary.get('dose_max', {}).get('Gy', 0):.3g} Gy" + ("  (preview)" if use_preview else ""),
             (1.0, 0.95, 0.4))] + legend
    for n, (text, color) in enumerate(rows):
        text_object(scene, f"legend {n}", text, 0.8 * line, color, parent=cam,
                    location=(-0.95 * half_w, 0.92 * half_h - n * line * 1.15, -depth))
    bar = nice_length(0.3 * (fx1 - fx0))
    bar_y, bar_z = fy0, fz0 * stretch
    bpy.ops.mesh.primitive_cube_add(location=(fx0 + bar / 2, bar_y, bar_z))
    bar_obj = bpy.context.active_object
    bar_obj.name = f"scale bar {bar:g} mm"
    bar_obj.scale = (bar / 2, 0.01 * extent, 0.01 * extent)
    bar_obj.data.materials.append(emission_material("scale bar", (0.7, 0.7, 0.7), 0.7, 1.0))
    label = text_object(scene, "scale bar label", f"{bar * 1e3:g} um" if bar < 1 else f"{bar:g} mm", 0.05 * extent,
                        (1.0, 1.0, 1.0), location=(fx0, bar_y, bar_z + 0.03 * extent))
    label.rotation_euler = (math.radians(90), 0, 0)  # upright, facing the camera's side (-y)

    if not opts["render"]:
        return
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = opts["samples"]
    scene.cycles.use_denoising = False  # this Blender has no OpenImageDenoise
    scene.cycles.volume_step_rate = 1.0
    scene.view_settings.view_transform = "Standard"  # keep the colour ramp's colours (Filmic washes them out)
    scene.render.resolution_x, scene.render.resolution_y = opts["resolution"]
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = os.path.abspath(opts["render"])
    bpy.context.view_layer.update()
    bpy.ops.render.render(write_still=True)
    # Where points of the sample (mm, unstretched) land in the image, pixels from the top left.
    points = []
    for p in opts["project"]:
        q = world_to_camera_view(scene, cam, Vector((p[0], p[1], p[2] * stretch)))
        points.append({"mm": list(p), "pixel": [q.x * w, (1 - q.y) * h]})
        print(f"project {p[0]} {p[1]} {p[2]} -> pixel {q.x * w:.1f} {(1 - q.y) * h:.1f}")
    with open(os.path.abspath(opts["render"]) + ".json", "w") as f:
        json.dump({"stretch_z": stretch, "points": points, "preview": use_preview,
                   "legend": [text for text, _ in rows], "scale_bar_mm": bar}, f, indent=1)
    print(f"import_dose: rendered {scene.render.filepath}")


main()
