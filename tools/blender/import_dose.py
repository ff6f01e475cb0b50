"""Import a dosemap run into Blender and optionally render it headless.

  blender -b --factory-startup --python tools/blender/import_dose.py -- RUN_DIR \\
      [--render out.png] [--samples 32] [--resolution 960 540] [--project X,Y,Z ...]

Builds: the dose volume (dose.vdb, or the frames in RUN_DIR/frames as an animated
sequence) with a material mapping dose to colour and brightness on a log scale (its
`density` grid: log10 of dose over four decades); one surface per damage threshold where
dose = threshold (separate objects, distinct colours); the sample's layers as faint
outlines; a camera and a light framing the grid. Blender units are millimetres, as in the
VDB; z (the beam axis) is stretched so that thin samples stay visible, and the stretch is
printed. With --render, Cycles renders a PNG (CPU, no denoiser); --project prints and
stores (in <png>.json) where sample points (mm, unstretched) land in the image.
"""
import json
import math
import os
import sys

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
    opts = {"run": argv[0], "render": None, "samples": 32, "resolution": (960, 540), "project": []}
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
        elif a == "--project":
            opts["project"].append(tuple(float(x) for x in argv[i + 1].split(",")))
            i += 2
        else:
            fail(f"unknown option '{a}'", "use --render, --samples, --resolution or --project")
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


def dose_material():
    """Colour and brightness from the `density` grid (log-scaled dose in [0, 1])."""
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
    # Brightness rises steeply with dose: emission ~ fac^3, so the most dosed region dominates.
    cube = math_node(mat, "POWER", attr.outputs["Fac"], 3.0)
    strength = math_node(mat, "MULTIPLY", cube.outputs[0], 16.0)
    dens = math_node(mat, "MULTIPLY", attr.outputs["Fac"], 2.0)
    vol = nodes.new("ShaderNodeVolumePrincipled")
    links.new(ramp.outputs["Color"], vol.inputs["Color"])
    links.new(ramp.outputs["Color"], vol.inputs["Emission Color"])
    links.new(strength.outputs[0], vol.inputs["Emission Strength"])
    links.new(dens.outputs[0], vol.inputs["Density"])
    vol.inputs["Density Attribute"].default_value = ""
    links.new(vol.outputs[0], out.inputs["Volume"])
    return mat


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
    stretch = max(1.0, max(sx, sy) / sz / 4.0)
    print(f"import_dose: z (beam axis) stretched x{stretch:.3g} for visibility")

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene

    # ---- the dose volume (a sequence when the run has frames) ----
    frames_dir = os.path.join(run, "frames")
    frames = sorted(f for f in os.listdir(frames_dir) if f.startswith("dose_") and f.endswith(".vdb")) \
        if os.path.isdir(frames_dir) else []
    if frames:
        bpy.ops.object.volume_import(filepath=os.path.join(frames_dir, frames[0]), directory=frames_dir,
                                     files=[{"name": f} for f in frames], relative_path=False)
        scene.frame_start, scene.frame_end = 1, len(frames)
        scene.frame_set(len(frames))  # a still shows the end of the scan
    else:
        vdb = os.path.join(run, "dose.vdb")
        if not os.path.isfile(vdb):
            fail(f"{vdb} not found", "run dosemap with the vdb format")
        bpy.ops.object.volume_import(filepath=vdb, relative_path=False)
    volume = bpy.context.active_object
    volume.name = "dose"
    volume.scale = (1.0, 1.0, stretch)
    volume.data.materials.append(dose_material())
    volume.data.render.space = "OBJECT"

    # ---- threshold surfaces: where dose equals each threshold ----
    palette = [(0.1, 0.85, 0.25), (0.1, 0.55, 1.0), (0.95, 0.2, 0.9), (0.0, 0.95, 0.95), (1.0, 0.65, 0.0)]
    dmax = summary.get("dose_max", {}).get("Gy", 0.0)
    for n, (label, level) in enumerate(sorted(summary["thresholds_Gy"].items(), key=lambda kv: kv[1])):
        if not (0 < level < dmax):
            continue
        mesh = bpy.data.meshes.new(f"dose >= {label}")
        obj = bpy.data.objects.new(f"dose >= {label} ({level:.3g} Gy)", mesh)
        scene.collection.objects.link(obj)
        mod = obj.modifiers.new("threshold", "VOLUME_TO_MESH")
        mod.object = volume
        mod.grid_name = "dose"
        mod.threshold = level
        mod.resolution_mode = "GRID"
        obj.data.materials.append(emission_material(f"threshold {label}", palette[n % len(palette)], 1.5, 0.8, rim=True))

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

    # ---- camera and light framing the grid ----
    centre = Vector((ox + sx / 2, oy + sy / 2, (oz + sz / 2) * stretch))
    extent = max(sx, sy, sz * stretch)
    cam_data = bpy.data.cameras.new("camera")
    cam_data.lens = 50
    cam = bpy.data.objects.new("camera", cam_data)
    scene.collection.objects.link(cam)
    direction = Vector((0.45, -1.0, 0.9)).normalized()  # from the front, above, to the right
    cam.location = centre + direction * extent * 2.1
    track = cam.constraints.new("TRACK_TO")
    track.target = None
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
    w, h = opts["resolution"]
    points = []
    for p in opts["project"]:
        q = world_to_camera_view(scene, cam, Vector((p[0], p[1], p[2] * stretch)))
        points.append({"mm": list(p), "pixel": [q.x * w, (1 - q.y) * h]})
        print(f"project {p[0]} {p[1]} {p[2]} -> pixel {q.x * w:.1f} {(1 - q.y) * h:.1f}")
    with open(os.path.abspath(opts["render"]) + ".json", "w") as f:
        json.dump({"stretch_z": stretch, "points": points}, f, indent=1)
    print(f"import_dose: rendered {scene.render.filepath}")


main()
