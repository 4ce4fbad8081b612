"""Export a LUT as CrossSim v2 ``DG_LOOKUP`` tables: ``dG_increasing.txt`` and ``dG_decreasing.txt``.

CrossSim (Sandia, https://cross-sim.sandia.gov) reads each file with ``numpy.genfromtxt(delimiter=',')``:
line 1 a header (skipped), line 2 the conductance bins [S], line 3 the CDF points, then an
N_CDF x N_G matrix of single-pulse dG quantiles [S] (row i: quantile CDF_i at every G bin). Both files
must share the G bins and the CDF points, and both grids should be uniform (CrossSim then uses its fast
indexed interpolator). The G bins are the LUT grid. The CDF points are the LUT's quantile levels when
those are uniform from 0 to 1 (what ``fefet-spice characterize`` stores); otherwise the quantiles are
linearly resampled onto ``n_cdf`` uniform points, the ends clamped to the outermost stored quantile.

Load it: ``params.numeric_params.update_model = "DG_LOOKUP"`` and point
``params.numeric_params.dG_lookup.file_increasing/file_decreasing`` at the two files.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .core import SynapseLUT

FILES = {+1: "dG_increasing.txt", -1: "dG_decreasing.txt"}


def _uniform01(levels: np.ndarray) -> bool:
    return levels.size >= 2 and np.allclose(levels, np.linspace(0.0, 1.0, levels.size), rtol=0, atol=1e-12)


def tables(lut: SynapseLUT, n_cdf: int = 21, up: int | None = None,
           down: int | None = None) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """G bins [S], CDF points and the (N_CDF, N_G) quantile matrix per polarity [S]."""
    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    levels = np.asarray(lut.quantile_levels, float)
    if _uniform01(levels):
        cdf = levels.copy()
        mats = {+1: lut.dg_quantiles[up], -1: lut.dg_quantiles[down]}
    else:
        cdf = np.linspace(0.0, 1.0, n_cdf)
        mats = {pol: np.array([np.interp(cdf, levels, lut.dg_quantiles[k][:, j]) for j in range(lut.g_grid.size)]).T
                for pol, k in ((+1, up), (-1, down))}
    return np.asarray(lut.g_grid, float), cdf, mats


def _text(kind: str, g: np.ndarray, cdf: np.ndarray, mat: np.ndarray) -> str:
    row = lambda v: ",".join(repr(float(x)) for x in v)  # noqa: E731  repr: shortest exact float text
    header = (f"fefet_spice {kind} dG lookup (CrossSim v2 DG_LOOKUP): line 2 G bins [S]; line 3 CDF points; "
              f"then {mat.shape[0]} x {mat.shape[1]} dG quantiles [S]")
    return "\n".join([header, row(g), row(cdf)] + [row(r) for r in mat]) + "\n"


def write_crosssim(lut: SynapseLUT, folder: str | os.PathLike, n_cdf: int = 21) -> list[Path]:
    """Write ``dG_increasing.txt`` and ``dG_decreasing.txt`` into ``folder``."""
    from ..io.atomic import write_text

    g, cdf, mats = tables(lut, n_cdf)
    folder = Path(folder)
    return [write_text(folder / FILES[pol], _text("increasing" if pol > 0 else "decreasing", g, cdf, mats[pol]))
            for pol in (+1, -1)]


def read_crosssim(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse one table the way CrossSim does: (G bins [S], CDF points, quantile matrix [S])."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    if len(lines) < 4:
        raise DataError(f"{path}: expected a header, G bins, CDF points and a matrix; got {len(lines)} lines")
    try:
        g = np.array(lines[1].split(","), float)
        cdf = np.array(lines[2].split(","), float)
        mat = np.array([r.split(",") for r in lines[3:] if r.strip()], float)
    except ValueError as exc:
        raise DataError(f"{path}: not comma-separated numbers ({exc})") from None
    if mat.shape != (cdf.size, g.size):
        raise DataError(f"{path}: matrix is {mat.shape}, expected {(cdf.size, g.size)} (CDF x G)")
    return g, cdf, mat
