"""Vectorized approximate update (VAU): fit ``ΔW' = r 1ᵀ + 1 cᵀ`` to a desired update ``ΔW`` (M x N).

Row operators ``r`` (M) and column operators ``c`` (N) are applied by the array in N + 1 operations
(one per column, then all rows at once) instead of M * N cell-by-cell writes (``../shared/SPEC.md``
section 3; Ning et al. 2025, DOI 10.1038/s41928-024-01328-4). The system is singular (``r + k``,
``c - k`` give the same ``ΔW'``); a small ridge ``λ (|r|² + |c|²)`` picks the minimum-norm split.

* :func:`fit_masked` (default) fits only the active cells (sparsity bit S = 1);
* :func:`fit_constant` fits all M * N entries; its closed form is
  ``r_i + c_j = rowmean_i + colmean_j - grandmean``.

Pure numpy; all quantities in whatever unit ``ΔW`` is given in (the trainer uses pulses).
"""
from __future__ import annotations

import numpy as np


def fit_masked(delta: np.ndarray, mask: np.ndarray, lam: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Ridge least squares over the active cells: ``min Σ_S (ΔW_ij - r_i - c_j)² + λ(|r|² + |c|²)``.

    Parameters
    ----------
    delta : (M, N) desired update.
    mask : (M, N) bool, True where the cell is active (S = 1).
    lam : ridge weight λ (> 0), in the squared unit of ``delta``.

    Returns
    -------
    r, c : row (M,) and column (N,) operators.
    """
    s = np.asarray(mask, dtype=float)
    d = np.where(s > 0, delta, 0.0)
    # normal equations [diag(rows)+λ, S; Sᵀ, diag(cols)+λ] [r; c] = [rowsums; colsums]; the row block is
    # diagonal, so eliminate r and solve the N x N Schur complement for c.
    dr = s.sum(axis=1) + lam
    br, bc = d.sum(axis=1), d.sum(axis=0)
    schur = np.diag(s.sum(axis=0) + lam) - (s / dr[:, None]).T @ s
    c = np.linalg.solve(schur, bc - s.T @ (br / dr))
    return (br - s @ c) / dr, c


def fit_constant(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed form over all cells: ``r_i = rowmean_i - g/2``, ``c_j = colmean_j - g/2`` (g: grand mean),
    so that ``r_i + c_j = rowmean_i + colmean_j - g`` (the λ -> 0 limit of the ridge fit)."""
    g = float(delta.mean())
    return delta.mean(axis=1) - g / 2, delta.mean(axis=0) - g / 2


def compose(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``r 1ᵀ + 1 cᵀ`` (M, N)."""
    return np.asarray(r)[:, None] + np.asarray(c)[None, :]


def fit_errors(delta: np.ndarray, mask: np.ndarray, approx: np.ndarray) -> tuple[float, float]:
    """Relative fit errors ``|ΔW - ΔW'| / |ΔW|`` (Frobenius) over the active cells and over all cells.

    ``delta`` is the desired update on every cell (what a dense network would want); NaN if it is zero.
    """
    mask = np.asarray(mask, dtype=bool)

    def rel(sel):
        den = np.linalg.norm(delta[sel])
        return float(np.linalg.norm((delta - approx)[sel]) / den) if den > 0 else float("nan")

    return rel(mask), rel(np.ones_like(mask))


def fit_error_dense(delta: np.ndarray, mask: np.ndarray, approx: np.ndarray) -> float:
    """Residual on the active cells relative to the whole desired update ``|(ΔW - ΔW')_S| / |ΔW|``: the
    share of a dense network's update that the masked fit misses on the cells it can write. Falls as
    sparsity rises (fewer active cells, each row and column fit more closely); NaN if ``ΔW`` is zero."""
    den = np.linalg.norm(delta)
    mask = np.asarray(mask, dtype=bool)
    return float(np.linalg.norm((delta - approx)[mask]) / den) if den > 0 else float("nan")
