"""Shared helpers of the viewer tests (ParaView, Blender, figures): run dosemap on the demo
scene into a scratch directory, and measure PNGs. Debian's /usr/bin/python3."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77  # ctest SKIP_RETURN_CODE: the viewer program itself is not installed


def parse_args():
    """The arguments ctest passes every viewer test: the dosemap binary and the source tree."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--dosemap", required=True)
    ap.add_argument("--source", required=True)
    return ap.parse_args()


def require(program, package):
    if shutil.which(program) is None:
        print(f"SKIP: {program} is not installed (Debian package {package}; tools/setup --viz installs it)")
        sys.exit(SKIP)


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)
    print(f"ok: {message}")


def have(program):
    return shutil.which(program) is not None


def run(cmd, retry_on=None, attempts=3, **kw):
    """Runs a command; fails the test on a non-zero exit; returns its stdout."""
    return run_full(cmd, retry_on, attempts, **kw).stdout


def run_full(cmd, retry_on=None, attempts=3, **kw):
    """Runs a command; fails the test on a non-zero exit; returns the completed process.
    `retry_on`: a message after which the command is tried again, up to `attempts` times in
    all, a few seconds apart (a known flake of the program, not of dosemap)."""
    import time
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    for attempt in range(2, attempts + 1):
        if r.returncode == 0 or not retry_on or retry_on not in r.stdout + r.stderr:
            break
        print(f"note: '{retry_on}': attempt {attempt} of {attempts}", flush=True)
        time.sleep(2 * attempt)
        r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-4000:])
        print(r.stderr[-4000:])
        print(f"FAIL: exit code {r.returncode}")
        sys.exit(1)
    return r


class VirtualDisplay:
    """An Xvfb server for programs that need X (pvpython).

    Display numbers are chosen here, each reserved with flock for the server's lifetime,
    because concurrent automatic choices race: xvfb-run -a and Xvfb -displayfd both let a
    server that fails to claim a number delete that number's lock and socket although
    another server owns them, so clients end up on the wrong (or a dead) server. The
    server writes its number to -displayfd once it accepts connections."""

    FIRST, LAST = 200, 400

    def __enter__(self):
        import fcntl
        for n in range(self.FIRST, self.LAST):
            lock = open(f"/tmp/.dosemap-xvfb-{n}.lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            if os.path.exists(f"/tmp/.X{n}-lock") or os.path.exists(f"/tmp/.X11-unix/X{n}"):
                lock.close()  # used by a server that is not ours
                continue
            read_fd, write_fd = os.pipe()
            proc = subprocess.Popen(["Xvfb", f":{n}", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24",
                                     "-nolisten", "tcp"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            os.close(write_fd)
            with os.fdopen(read_fd) as f:
                ready = f.readline().strip()
            if ready == str(n):
                self.proc, self.lock, self.display = proc, lock, f":{n}"
                return self
            proc.kill()
            proc.wait()
            lock.close()
        print("FAIL: no Xvfb display could be started")
        sys.exit(1)

    def env(self):
        e = dict(os.environ)
        e["DISPLAY"] = self.display
        return e

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()
        self.lock.close()


def scratch_dir(prefix):
    """A fresh directory under the system's temporary one, removed when the test exits,
    passed or failed (every run of the suite left ~1 GB behind): kept, and named, when
    DOSEMAP_KEEP_TEST_FILES is set, to look into after a failure."""
    path = tempfile.mkdtemp(prefix=prefix)
    if os.environ.get("DOSEMAP_KEEP_TEST_FILES"):
        print(f"note: keeping {path} (DOSEMAP_KEEP_TEST_FILES)")
    else:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def demo_run(dosemap, source_dir, formats="vdb,vti"):
    """Runs the demo scene (with its frames) into a fresh directory; returns the directory."""
    out = os.path.join(scratch_dir("dosemap_viewer_"), "demo")
    run([dosemap, "run", os.path.join(source_dir, "scenes", "operando_pouch_27keV.toml"), "-o", out,
         "--format", formats])
    return out


def read_png(path):
    import matplotlib.image
    img = matplotlib.image.imread(path)
    return img[..., :3] if img.ndim == 3 else img


def distinct_colours(img):
    import numpy as np
    q = (np.asarray(img) * 255).astype(int)
    return len({tuple(p) for p in q.reshape(-1, q.shape[-1])[::7]})


def luminance(img):
    return 0.2126 * img[..., 0] + 0.7152 * img[..., 1] + 0.0722 * img[..., 2]
