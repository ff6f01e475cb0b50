#!/usr/bin/env python3
"""A small synthetic segmented tomogram of an NMC811 cathode on its aluminium current
collector, as a beamline user gets it from a segmentation tool: a multi-page TIFF stack of
8-bit labels, pages along the beam (z), rows y, columns x, 0.5 um voxels.

  0  electrolyte   the pores, flooded
  1  NMC811        secondary particles, radii 2-5 um, about 58 % of the electrode
  2  CBD           carbon-binder domain: a patchy coat on the particles
  3  aluminium     the current collector, the last 8 um

Deterministic (a fixed seed): the same file on every machine. The build makes it beside
scenes/electrode_microstructure.toml (about 740 k voxels; not committed).

  tools/volumes/make_electrode_volume.py OUT.tif [--npy OUT.npy] [--repeat N]

--repeat N tiles the volume N x N times laterally (benchmarks/run_benchmarks.sh reads a large
one).
"""
import argparse

import numpy as np

VOXEL_UM = 0.5
NX = NY = 96          # 48 x 48 um
ELECTRODE_UM = 32.0   # along the beam, then the foil
FOIL_UM = 8.0
NMC_TARGET = 0.58     # volume fraction of the electrode
CBD_COAT_UM = 0.75    # how far the binder reaches from a particle's surface
CBD_KEEP = 0.55       # the coat is patchy: this fraction of it is binder


def make_labels(seed=20261128):
    rng = np.random.default_rng(seed)
    nz_electrode = int(round(ELECTRODE_UM / VOXEL_UM))
    nz = nz_electrode + int(round(FOIL_UM / VOXEL_UM))
    # Voxel centres, um (x, y centred on 0 as dosemap centres the volume; z from the upstream face).
    x = (np.arange(NX) + 0.5) * VOXEL_UM - NX * VOXEL_UM / 2
    y = (np.arange(NY) + 0.5) * VOXEL_UM - NY * VOXEL_UM / 2
    z = (np.arange(nz_electrode) + 0.5) * VOXEL_UM
    nmc = np.zeros((nz_electrode, NY, NX), dtype=bool)
    coat = np.zeros_like(nmc)
    extent = np.array([NX * VOXEL_UM, NY * VOXEL_UM, ELECTRODE_UM])
    # Random sequential addition: particles may touch and overlap a little, as calendered
    # secondary particles do; placed until the electrode holds the target fraction.
    while nmc.mean() < NMC_TARGET:
        r = float(np.clip(rng.lognormal(np.log(3.2), 0.25), 2.0, 5.0))
        c = rng.uniform([-extent[0] / 2, -extent[1] / 2, r * 0.6], [extent[0] / 2, extent[1] / 2, extent[2] - r * 0.6])
        reach = r + CBD_COAT_UM
        sl = []
        for centre, axis in ((c[2], z), (c[1], y), (c[0], x)):
            lo = np.searchsorted(axis, centre - reach)
            hi = np.searchsorted(axis, centre + reach)
            sl.append(slice(lo, hi))
        zz, yy, xx = np.meshgrid(z[sl[0]], y[sl[1]], x[sl[2]], indexing="ij")
        d = np.sqrt((xx - c[0]) ** 2 + (yy - c[1]) ** 2 + (zz - c[2]) ** 2)
        inside = d <= r
        # No particle may swallow most of another: reject one that is mostly overlap.
        if inside.any() and nmc[tuple(sl)][inside].mean() > 0.35:
            continue
        nmc[tuple(sl)] |= inside
        coat[tuple(sl)] |= d <= reach
    patchy = rng.random(coat.shape) < CBD_KEEP
    labels = np.zeros((nz, NY, NX), dtype=np.uint8)        # electrolyte
    labels[:nz_electrode][coat & patchy] = 2                # CBD
    labels[:nz_electrode][nmc] = 1                          # NMC811
    labels[nz_electrode:] = 3                               # aluminium foil
    return labels


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="the TIFF stack to write (.tif)")
    p.add_argument("--npy", help="also write the labels as a NumPy .npy (same axes)")
    p.add_argument("--repeat", type=int, default=1, help="tile the volume N x N times laterally")
    a = p.parse_args()
    labels = make_labels()
    if a.repeat > 1:
        labels = np.tile(labels, (1, a.repeat, a.repeat))
    import tifffile  # python3-tifffile (tools/setup)

    # Big stacks as BigTIFF (past 4 GB), as segmentation tools write them.
    tifffile.imwrite(a.out, labels, photometric="minisblack", compression="zlib", bigtiff=labels.nbytes > 2**31)
    if a.npy:
        np.save(a.npy, labels)
    counts = np.bincount(labels.ravel(), minlength=4) / labels.size
    print(f"{a.out}: {labels.shape[0]} pages of {labels.shape[1]} x {labels.shape[2]}; electrolyte "
          f"{counts[0]:.1%}, NMC811 {counts[1]:.1%}, CBD {counts[2]:.1%}, aluminium {counts[3]:.1%}")


if __name__ == "__main__":
    main()
