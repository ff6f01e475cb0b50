"""dosemap.run and Result.write report their progress to a callback and stop cleanly: a
callback that raises, and Ctrl-C (SIGINT, as Jupyter's "interrupt the kernel" sends it),
stop the work at its next stop point and the exception reaches the caller; the module
runs again afterwards with the same results; an interrupted write leaves the output
directory as it found it (here: not there at all)."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt


class Enough(Exception):
    pass


def interrupt_when(event):
    """Sends this process SIGINT once `event` is set (from a thread: the main thread is in
    dosemap, waiting on its run with the GIL released)."""
    def send():
        if event.wait(120):
            os.kill(os.getpid(), signal.SIGINT)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    return t


def main():
    a = vt.parse_args()
    import numpy as np
    import dosemap

    # The progress of a whole run: stages in order, counts within their totals, the last
    # call the run's last stage, done.
    quick = os.path.join(a.source, "scenes", "quickstart.toml")
    calls = []
    reference = dosemap.run(quick, threads=2, progress=lambda *c: calls.append(c))
    vt.check(len(calls) >= 1 and all(isinstance(s, str) and 0 <= d <= t for s, d, t in calls),
             f"progress(stage, done, total): {len(calls)} calls, done within total ({calls[:4]} ...)")
    vt.check(calls[-1] == ("curves and points", 1, 1), f"the last call is the last stage, done: {calls[-1]}")

    # A long run (bench_pouch, seconds): the march is seen, and a callback raising in it
    # stops the run before its end.
    pouch = os.path.join(a.source, "scenes", "bench_pouch.toml")
    seen = []
    started = time.monotonic()
    whole = dosemap.run(pouch, threads=2, progress=lambda s, d, t: seen.append(s))
    whole_s = time.monotonic() - started
    vt.check("march" in seen and seen[-1] == "curves and points", f"a long run's stages: {sorted(set(seen))}")
    del whole

    def stop_in_march(stage, done, total):
        if stage == "march":
            raise Enough(f"{done} of {total}")
    started = time.monotonic()
    try:
        dosemap.run(pouch, threads=2, progress=stop_in_march)
        vt.check(False, "a callback that raises stops the run")
    except Enough as e:
        stopped_s = time.monotonic() - started
        vt.check(stopped_s < whole_s, f"the callback's exception stops the run in its march (at {e}, after "
                                      f"{stopped_s:.2f} s; the whole run took {whole_s:.2f} s)")

    # Ctrl-C in the march: KeyboardInterrupt, then the module runs as before.
    in_march = threading.Event()
    interrupt_when(in_march)
    try:
        dosemap.run(pouch, threads=2, progress=lambda s, d, t: in_march.set() if s == "march" else None)
        vt.check(False, "Ctrl-C stops the run")
    except KeyboardInterrupt:
        vt.check(True, "Ctrl-C in the march raises KeyboardInterrupt")
    again = dosemap.run(quick, threads=2)
    vt.check(np.array_equal(again.dose, reference.dose) and np.array_equal(again.rate_peak, reference.rate_peak),
             "after the interrupt, a run gives the same arrays as before")

    # Ctrl-C while dose.vdb is written: the directory the write would have created is not there.
    tmp = vt.scratch_dir("dosemap_python_stop_")
    out = os.path.join(tmp, "pouch")
    result = dosemap.run(pouch, threads=2)
    writing = threading.Event()
    interrupt_when(writing)
    try:
        result.write(out, formats=("vdb",), progress=lambda s, d, t: writing.set() if s == "writing dose.vdb" else None)
        vt.check(False, "Ctrl-C stops the writing")
    except KeyboardInterrupt:
        vt.check(not os.path.exists(out) and os.listdir(tmp) == [],
                 f"Ctrl-C while writing dose.vdb leaves nothing behind ({os.listdir(tmp)})")
    result.write(out, formats=("vdb",))
    vt.check(os.path.exists(os.path.join(out, "summary.json")) and os.path.exists(os.path.join(out, "dose.vdb")),
             "the same Result then writes its files")


if __name__ == "__main__":
    main()
