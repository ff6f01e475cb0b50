"""examples/quickstart.ipynb runs top to bottom with nbclient, as a beamline scientist's Jupyter
would run it: every cell without error, from the source tree's root and from examples/, in a
kernel that is this Debian python3 with the PYTHONPATH this test was given. It draws its three
figures (the dose slice, the depth profile, the flux sweep), and the sweep's maximum doses rise
in proportion to the flux. The notebook is stored without outputs."""
import base64
import importlib.util
import io
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt

# module : Debian package (tools/setup installs the first three, tools/setup --viz matplotlib)
NEEDED = {"nbformat": "python3-nbformat", "nbclient": "python3-nbclient", "ipykernel": "python3-ipykernel",
          "matplotlib": "python3-matplotlib"}
SWEEP = re.compile(r"flux ([0-9.eE+-]+) ph/s: max dose ([0-9.eE+-]+) Gy, in the electrodes ([0-9.eE+-]+) Gy")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def kernel_spec(tmp):
    """A python3 kernelspec that is this interpreter, first on JUPYTER_PATH: a python3 kernelspec
    in ~/.local/share/jupyter or /usr/local/share/jupyter (a pip-installed Jupyter, another
    Python) would otherwise win over Debian's /usr/share/jupyter/kernels/python3. (Through the
    environment rather than a kernel manager of our own, so that nbclient owns its kernel and
    shuts it down.)"""
    spec_dir = os.path.join(tmp, "kernels", "python3")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "Python 3 (dosemap test)", "language": "python"}, f)
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + before if before else "")


def execute(path, cwd):
    """Runs the notebook in memory (the file is left as it is) in a kernel started in `cwd`, with
    a last cell that reports the kernel's interpreter and where dosemap came from; returns the
    executed notebook and that report."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json as _j, sys as _s, dosemap as _d\n"
        "print('KERNEL ' + _j.dumps({'python': _s.executable, 'dosemap': _d.__file__}))"))
    client = NotebookClient(nb, kernel_name="python3", timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": cwd}})
    t0 = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as e:
        vt.check(False, f"a cell raised (kernel in {cwd}):\n{ANSI.sub('', str(e))}")
    print(f"executed in {time.monotonic() - t0:.1f} s with the kernel in {cwd}", flush=True)
    report = None
    for o in nb.cells[-1].outputs:
        if o.output_type == "stream" and o.name == "stdout" and "KERNEL " in o.text:
            report = json.loads(o.text.split("KERNEL ", 1)[1].splitlines()[0])
    nb.cells.pop()
    return nb, report


def outputs(nb, kind=None):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if kind is None or o.output_type == kind]


def main():
    a = vt.parse_args()
    missing = [deb for module, deb in NEEDED.items() if importlib.util.find_spec(module) is None]
    if missing:
        # Not a skip: tools/setup installs them, so a missing one is a broken setup.
        print(f"FAIL: Debian packages missing: {' '.join(missing)} (tools/setup installs them, "
              f"python3-matplotlib with --viz; or apt-get install -y {' '.join(missing)})")
        sys.exit(1)
    import nbformat
    import numpy as np
    from matplotlib import image

    source = os.path.abspath(a.source)
    path = os.path.join(source, "examples", "quickstart.ipynb")
    stored = nbformat.read(path, as_version=4)
    nbformat.validate(stored)
    vt.check(stored.nbformat == 4, "the notebook is nbformat 4 and valid")
    vt.check(all(not c.outputs and c.execution_count is None for c in stored.cells if c.cell_type == "code"),
             "the notebook is stored without outputs")

    # The kernel inherits this environment: PYTHONPATH made absolute, as the kernel starts elsewhere.
    # (debugpy, which jupyter_client and the kernel import, warns of Python 3.11's frozen modules.)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in
                                               os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    kernel_spec(vt.scratch_dir("dosemap_notebook_"))
    nb, report = execute(path, source)
    vt.check(not outputs(nb, "error"), "every cell ran without error (from the source tree's root)")
    vt.check(report is not None and os.path.realpath(report["python"]) == os.path.realpath(sys.executable),
             f"the kernel is this interpreter ({report and report['python']})")
    expected = [os.path.join(p, "dosemap") for p in os.environ["PYTHONPATH"].split(os.pathsep) if p]
    vt.check(report is not None and any(os.path.realpath(report["dosemap"]).startswith(os.path.realpath(e) + os.sep)
                                        for e in expected),
             f"the kernel's dosemap is the PYTHONPATH's ({report and report['dosemap']})")

    pngs = [o.data["image/png"] for o in outputs(nb) if o.output_type in ("display_data", "execute_result")
            and "image/png" in o.get("data", {})]
    vt.check(len(pngs) >= 3, f"{len(pngs)} figures drawn (the slice, the depth profile, the sweep: 3)")
    for i, png in enumerate(pngs):
        img = image.imread(io.BytesIO(base64.b64decode(png)), format="png")
        vt.check(img.shape[0] >= 200 and img.shape[1] >= 300 and vt.distinct_colours(img[..., :3]) > 20,
                 f"figure {i + 1} is a real plot ({img.shape[1]} x {img.shape[0]} pixels)")

    text = "".join(o.text for o in outputs(nb, "stream") if o.name == "stdout")
    sweep = np.array([[float(x) for x in m] for m in SWEEP.findall(text)])
    vt.check(len(sweep) >= 3, f"the flux sweep printed {len(sweep)} fluxes")
    flux, peak, electrodes = sweep.T
    vt.check(bool(np.all(np.diff(flux) > 0) and np.all(np.diff(peak) > 0) and np.all(np.diff(electrodes) > 0)),
             "the sweep's maximum doses rise with the flux")
    vt.check(bool(np.allclose(peak / flux, peak[0] / flux[0], rtol=1e-4)
                  and np.allclose(electrodes / flux, electrodes[0] / flux[0], rtol=1e-4)),
             f"in proportion to it ({peak[0] / flux[0]:.5g} Gy per ph/s at the most-dosed voxel)")
    vt.check(bool(np.all(electrodes <= peak)), "the electrodes' maximum is at most the overall maximum")

    nb, _ = execute(path, os.path.join(source, "examples"))
    vt.check(not outputs(nb, "error") and sum("image/png" in o.get("data", {}) for o in outputs(nb)) >= 3,
             "every cell ran and drew its figures from examples/ too")


if __name__ == "__main__":
    main()
