"""dosemap.plan equals `dosemap plan`: for a uniform scale with a rate limit, a dwell
optimisation and a pattern search, plan.json is the CLI's (but for the solvers' timings),
planned.toml the same text, the report the CLI's printout; Plan.write gives the CLI's files;
the planned Scene runs and stays within the limit; a request the CLI refuses raises
SceneError with the CLI's text."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt

TIMINGS = {"build_s", "solve_s", "seconds", "candidates_per_s"}  # wall-clock figures of the solvers


def without_timings(j):
    if isinstance(j, dict):
        return {k: without_timings(v) for k, v in j.items() if k not in TIMINGS}
    if isinstance(j, list):
        return [without_timings(v) for v in j]
    return j


def report_without_timings(text):
    """The solvers' wall-clock seconds in the report (dwell: built in, solved in; pattern: in, per second)."""
    text = re.sub(r"built in \S+ s, solved in \S+ s", "built in - s, solved in - s", text)
    return re.sub(r"evaluated with the engine, in \S+ s \(\S+ per second\)", "evaluated with the engine, in - s", text)


def read(path):
    with open(path) as f:
        return f.read()


def main():
    a = vt.parse_args()
    import dosemap

    tmp = vt.scratch_dir("dosemap_python_plan_")
    pouch = os.path.join(a.source, "scenes", "operando_pouch_27keV.toml")
    pouch_map = os.path.join(a.source, "scenes", "operando_pouch_map.toml")
    cases = [
        ("scale", pouch, {"cathode:NMC811": 1e6, "copper": 5e6}, {"cathode:NMC811": 2e3}, {}),
        ("dwell", pouch_map, {"cathode:NMC811": 1e6}, None, {"optimize": "dwell", "max_dwell_scale": 20.0}),
        ("pattern", pouch_map, {"cathode:NMC811": 1e6}, None, {"optimize": "pattern", "rate_window_s": 30.0}),
    ]
    for name, scene, limits, rate_limits, extra in cases:
        cli_dir, py_dir = os.path.join(tmp, name + "_cli"), os.path.join(tmp, name + "_py")
        args = [a.dosemap, "plan", scene, "-o", cli_dir, "--threads", "2"]
        for k, v in limits.items():
            args += ["--limit", f"{k}={v!r}"]
        for k, v in (rate_limits or {}).items():
            args += ["--rate-limit", f"{k}={v!r}"]
        if "optimize" in extra:
            args += ["--optimize", extra["optimize"]]
        if "max_dwell_scale" in extra:
            args += ["--max-dwell-scale", repr(extra["max_dwell_scale"])]
        if "rate_window_s" in extra:
            args += ["--rate-window-s", repr(extra["rate_window_s"])]
        cli = subprocess.run(args, capture_output=True, text=True)
        vt.check(cli.returncode == 0, f"{name}: dosemap plan ({cli.stderr[-500:]})")

        plan = dosemap.plan(scene, limits=limits, rate_limits=rate_limits, threads=2, **extra)
        vt.check(without_timings(plan.json) == without_timings(json.loads(read(os.path.join(cli_dir, "plan.json")))),
                 f"{name}: plan.json as the CLI's (but for timings)")
        vt.check(plan.planned_toml == read(os.path.join(cli_dir, "planned.toml")), f"{name}: planned.toml as the CLI's")
        vt.check(plan.not_planned is None, f"{name}: a planned scene ({plan!r})")
        report = cli.stdout.split("\n" + cli_dir + "/plan.json")[0]
        if report_without_timings(plan.report) != report_without_timings(report):
            vt.check(False, f"{name}: the report is the CLI's printout\n{plan.report}\nthe CLI's:\n{report}")
        vt.check(True, f"{name}: the report is the CLI's printout (but for timings)")

        plan.write(py_dir)
        vt.check(sorted(os.listdir(py_dir)) == ["plan.json", "planned.toml"], f"{name}: write gives {os.listdir(py_dir)}")
        vt.check(read(os.path.join(py_dir, "planned.toml")) == plan.planned_toml and
                 without_timings(json.loads(read(os.path.join(py_dir, "plan.json")))) == without_timings(plan.json),
                 f"{name}: the written files are the plan's")

    # The planned scene of the last uniform plan runs and reaches, not passes, the limit.
    plan = dosemap.plan(pouch, limits={"cathode:NMC811": 1e6}, threads=2)
    planned = plan.planned
    vt.check(isinstance(planned, dosemap.Scene), f"plan.planned is a Scene: {planned!r}")
    result = dosemap.run(planned, threads=2)
    limit_row = plan.json["limits"][0]
    scale = plan.json["uniform_scale"]
    vt.check(0 < scale < 1 and abs(limit_row["max_Gy"] * scale - 1e6) < 1e6 * 1e-6,
             f"the binding voxel's dose times the scale is the limit ({limit_row['max_Gy']} x {scale})")
    # The limit is on NMC811 in the cathode: its component dose where the material is the cathode.
    cathode = planned.materials.index("cathode")
    nmc_max = float(result["dose:NMC811"][result.material == cathode].max())
    vt.check(1e6 * (1 - 1e-5) <= nmc_max <= 1e6, f"the planned run reaches the 1 MGy limit and passes it nowhere: {nmc_max} Gy")

    # Refusals: the CLI's text.
    for limits, extra, cli_args in [
        ({"NMC812": 1e6}, {}, ["--limit", "NMC812=1e+06"]),
        ({"cathode:NMC811": 1e6}, {"optimize": "time"}, ["--limit", "cathode:NMC811=1e+06", "--optimize", "time"]),
        ({"cathode:NMC811": 1e6}, {"optimize": "dwell", "max_dwell_scale": 0.0},
         ["--limit", "cathode:NMC811=1e+06", "--optimize", "dwell", "--max-dwell-scale", "0"]),
        ({}, {}, []),
    ]:
        cli = subprocess.run([a.dosemap, "plan", pouch, "-o", os.path.join(tmp, "refused")] + cli_args,
                             capture_output=True, text=True)
        try:
            dosemap.plan(pouch, limits=limits, **extra)
            vt.check(False, f"{cli_args}: dosemap.plan accepted what the CLI refuses")
        except dosemap.SceneError as e:
            if not (cli.returncode == 2 and str(e) == cli.stderr.rstrip("\n")):
                vt.check(False, f"{cli_args}: SceneError says\n{e}\nthe CLI ({cli.returncode}) says\n{cli.stderr}")
            vt.check(True, f"{cli_args}: SceneError with the CLI's text")
        vt.check(not os.path.exists(os.path.join(tmp, "refused")), f"{cli_args}: the CLI wrote nothing")
    try:
        dosemap.plan(pouch, limits={"cathode:NMC811": "1 MGy"})
        vt.check(False, "a limit that is not a number is refused")
    except TypeError as e:
        vt.check("1 MGy" in str(e), f"a limit that is not a number: {e}")
    # The CLI's parser refuses --max-dwell-scale without --optimize before dosemap sees it;
    # the module says it as dosemap would.
    try:
        dosemap.plan(pouch, limits={"cathode:NMC811": 1e6}, max_dwell_scale=5.0)
        vt.check(False, "max_dwell_scale without optimize='dwell' is refused")
    except dosemap.SceneError as e:
        vt.check("applies to --optimize dwell only" in str(e), f"max_dwell_scale without optimize='dwell': {e}")


if __name__ == "__main__":
    main()
