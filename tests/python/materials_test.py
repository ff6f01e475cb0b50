"""dosemap.materials gives the numbers `dosemap materials` prints (the same resolution of
formulas and NIST compounds, the same coefficients to the digits the CLI shows), accepts one
energy or several, and raises SceneError with the CLI's text for what the CLI refuses."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "viewers"))
import viewer_testing as vt

KEYS = ["mu_rho_cm2_g", "photo_cm2_g", "coherent_cm2_g", "incoherent_cm2_g", "mu_en_rho_cm2_g",
        "photo_model_cm2_g", "absorbed_model_cm2_g", "attenuation_length_um"]


def cli_rows(dosemap_exe, spec, energies, density):
    cmd = [dosemap_exe, "materials", spec, "--energy-keV"] + [str(e) for e in energies]
    if density is not None:
        cmd += ["--density", str(density)]
    out = vt.run(cmd).splitlines()
    start = next(i for i, l in enumerate(out) if l.strip().startswith("---")) + 1
    rows = []
    for line in out[start:start + len(energies)]:
        rows.append(line.split())
    return rows


def main():
    a = vt.parse_args()
    import dosemap

    cases = [("LiNi0.8Mn0.1Co0.1O2", [27.0, 40.0, 87.0], 4.8), ("Water, Liquid", [10.0, 27.0], None),
             ("Cu", [8.0, 8.98, 9.0, 30.0], None), ("C3H4O3", [27.0], 1.32), ("Kapton Polyimide Film", [15.0], None)]
    for spec, energies, density in cases:
        got = dosemap.materials(spec, energies, density_g_cm3=density)
        rows = cli_rows(a.dosemap, spec, energies, density)
        vt.check(len(got["lines"]) == len(energies) == len(rows), f"{spec}: one line per energy")
        for line, row in zip(got["lines"], rows):
            mine = [format(line["energy_keV"], ".6g")] + [
                "-" if line[k] is None else format(line[k], ".4g") for k in KEYS]
            vt.check(mine == row, f"{spec} at {row[0]} keV: {mine} as the CLI prints {row}")
        vt.check(abs(sum(got["elements"].values()) - 1.0) < 1e-12, f"{spec}: mass fractions add up to 1")
    one = dosemap.materials("Cu", 27)
    vt.check(len(one["lines"]) == 1 and one["lines"][0]["energy_keV"] == 27.0, "one energy as a number")
    vt.check(dosemap.materials("C3H4O3", 27.0)["density_g_cm3"] is None,
             "a formula of several elements has no density unless given")
    vt.check("Water, Liquid" in dosemap.nist_compounds(), "the NIST compounds are listed")

    # What the materials themselves make of a spec: the CLI's very text.
    for spec, energy in [("Xx2O", "27"), ("C3H4O3(", "27"), ("Nonsense Compound", "27")]:
        cli = subprocess.run([a.dosemap, "materials", spec, "--energy-keV", energy], capture_output=True, text=True)
        try:
            dosemap.materials(spec, float(energy))
            vt.check(False, f"{spec}: accepted, the CLI says {cli.stderr}")
        except dosemap.SceneError as e:
            vt.check(cli.returncode == 2 and str(e) == cli.stderr.rstrip("\n"),
                     f"{spec} at {energy} keV: SceneError has the CLI's text: {e}")
    # The ranges of the CLI's options, said in the function's own terms.
    for energy, density, says in [(0.0, None, "energy_keV: 0 is outside 1 to 500 keV"),
                                  (501.0, None, "energy_keV: 501 is outside 1 to 500 keV"),
                                  (27.0, 31.0, "density_g_cm3: 31 is outside 1e-06 to 30 g/cm3")]:
        cmd = [a.dosemap, "materials", "Cu", "--energy-keV", format(energy, "g")]
        cli = subprocess.run(cmd + (["--density", format(density, "g")] if density else []), capture_output=True,
                             text=True)
        try:
            dosemap.materials("Cu", energy, density_g_cm3=density)
            vt.check(False, f"Cu at {energy} keV, density {density}: accepted")
        except dosemap.SceneError as e:
            vt.check(cli.returncode == 2 and says in str(e) and says.split(": ")[1] in cli.stderr,
                     f"refused by both: {e} / {cli.stderr.strip()}")


if __name__ == "__main__":
    main()
