"""Programming schemes as data: the line voltages of every array step (SPEC 2), per named scheme.

A scheme states, for a write of target drive ``D`` (the pulse amplitude a selected weight FeFET sees,
``Vg - (Vs + Vd)/2``), the voltage of every line in every step as a multiple of ``D``; a depression
pulse negates all of them. Steps:

* **col** — VAU column step: every BL pulsed, selected DOL, unselected DOLs, every DIL;
* **row** — VAU row step: pulsed BLs and their DILs (idle rows and every DOL at 0 V);
* **cell** — cell-by-cell write of cell (i, j): BL_i, other BLs, DIL_i, other DILs, DOL_j, other DOLs;
* **prune / regrow** — the weight is first written to G_min by cell writes, then the row's SPL is
  pulsed with the sparsity FeFET's own pulse (every other line at 0 V).

``None`` for a DIL means the line floats (a node with its line capacitance and a leak to ground).
A *role* is what one cell sees in one step: ``roles(D)`` lists (BL, DIL, DOL) per role, which the
cell-level measurements (:mod:`fefet_spice.spice.schemes`) simulate.

The schemes (``SCHEMES``):

* ``paper`` — SPEC 2: unselected DOLs at V_comp = D, DILs grounded. Half-selected drive D/2, but
  the half-selected weight channel has V_ds = D and the gate at D: it conducts for the whole pulse.
* ``v3`` — V/3 inhibit, DILs grounded: unselected DOLs at 4D/3 (half-selected drive D/3), in cell
  writes unselected BLs at D/3 (no cell sees more than D/3). Channel of half-selected cells: V_ds = 4D/3.
* ``dil_follow`` — V/2 inhibit with every DIL following the unselected DOL bias (DIL = DOL_u = D,
  BL = 1.5 D): half-selected cells have both channel ends at D (V_ds = 0, no conduction) and drive
  D/2; the selected column conducts instead (V_ds = D, M cells per column step instead of M (N - 1)).
* ``dil_follow_v3`` — the same with V/3 inhibit: DIL = DOL_u = 4D/3, BL = 5D/3, half drive D/3.
* ``equipotential`` — full inhibit: BL = every DIL = the unselected DOLs = 2D, selected DOL at 0.
  Half-selected cells see no drive and no voltage at all between gate and channel (no gate charging,
  no conduction); the selected cell has drive D and conducts with V_ds = 2D. Cell writes: other rows
  at BL = 1.5D, DIL = 2D (drive +/-D/2).
* ``dil_float`` — DILs floating, unselected DOLs at D, BL = D: the DIL of a row settles between its
  DOLs; measured on a 1 x N row because the result depends on N.
* ``topology_a`` — topology A (weight gate on BL, sparsity channel in series with the weight
  channel), DILs grounded, unselected DOLs at D, SPL pre-charged to 0 V: the series sparsity FeFET
  limits the channel current, but a pruned cell's weight FeFET still sees its BL pulse (the mask only
  cuts the channel), so A does not mask writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParamError

ROLES = ("full", "half", "masked_sel", "masked_half", "row_full", "cell_row", "cell_col", "cell_other")
"""Cell roles: column step selected / half-selected (unselected column) / pruned in the selected and
in an unselected column; row step pulsed; cell write: same row, same column, neither."""


@dataclass(frozen=True)
class Scheme:
    """Line voltages of every step, as multiples of the target drive D (None: floating DIL)."""

    name: str
    topology: str
    description: str
    col_bl: float
    col_dil: float | None
    col_dol_sel: float
    col_dol_unsel: float
    row_bl: float = 1.0
    row_dil: float | None = 0.0
    cell_bl_sel: float = 1.0
    cell_bl_unsel: float = 0.0
    cell_dil_sel: float | None = 0.0
    cell_dil_unsel: float | None = 0.0
    cell_dol_sel: float = 0.0
    cell_dol_unsel: float = 1.0
    spl_pre_v: float = 3.0
    """SPL pre-charge [V] before the SPL floats (B: boosts the pass level; A: 0 V)."""

    def __post_init__(self) -> None:
        if self.topology not in ("A", "B"):
            raise ParamError(f"scheme {self.name}: topology must be 'A' or 'B', got {self.topology!r}")

    @property
    def dil_floats(self) -> bool:
        return self.col_dil is None

    def drive(self, bl: float, dil: float | None, dol: float) -> float:
        """Weight FE drive ``Vg - (Vs + Vd)/2`` of a kept cell (NaN with a floating DIL: measured)."""
        return float("nan") if dil is None else bl - 0.5 * (dil + dol)

    def roles(self, amplitude: float) -> dict[str, tuple[float, float | None, float]]:
        """(BL, DIL, DOL) [V] of each role for target drive ``amplitude`` [V] (sign = polarity)."""
        a = float(amplitude)

        def s(x):
            return None if x is None else x * a
        col = (s(self.col_bl), s(self.col_dil))
        return {
            "full": (*col, s(self.col_dol_sel)),
            "half": (*col, s(self.col_dol_unsel)),
            "masked_sel": (*col, s(self.col_dol_sel)),
            "masked_half": (*col, s(self.col_dol_unsel)),
            "row_full": (s(self.row_bl), s(self.row_dil), 0.0),
            "cell_row": (s(self.cell_bl_sel), s(self.cell_dil_sel), s(self.cell_dol_unsel)),
            "cell_col": (s(self.cell_bl_unsel), s(self.cell_dil_unsel), s(self.cell_dol_sel)),
            "cell_other": (s(self.cell_bl_unsel), s(self.cell_dil_unsel), s(self.cell_dol_unsel)),
        }

    def drives(self) -> dict[str, float]:
        """Drive of each kept-cell role as a multiple of D (documentation and tests)."""
        return {k: self.drive(*v) for k, v in self.roles(1.0).items() if not k.startswith("masked")}

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


SCHEMES: dict[str, Scheme] = {s.name: s for s in (
    Scheme("paper", "B", "the paper's scheme: unselected DOL at V_comp = V, DILs grounded (half-select drive V/2)",
           col_bl=1.0, col_dil=0.0, col_dol_sel=0.0, col_dol_unsel=1.0),
    Scheme("v3", "B", "V/3 inhibit, DILs grounded: unselected DOL at 4V/3, unselected BL at V/3",
           col_bl=1.0, col_dil=0.0, col_dol_sel=0.0, col_dol_unsel=4 / 3, cell_bl_unsel=1 / 3,
           cell_dol_unsel=4 / 3),
    Scheme("dil_follow", "B", "V/2 inhibit, every DIL at the unselected DOL bias (DIL = DOL_u = V, BL = 1.5 V)",
           col_bl=1.5, col_dil=1.0, col_dol_sel=0.0, col_dol_unsel=1.0, cell_bl_sel=1.5, cell_bl_unsel=0.75,
           cell_dil_sel=1.0, cell_dil_unsel=1.0, cell_dol_sel=0.0, cell_dol_unsel=1.0),
    Scheme("dil_follow_v3", "B", "V/3 inhibit, every DIL at the unselected DOL bias (DIL = DOL_u = 4V/3, BL = 5V/3)",
           col_bl=5 / 3, col_dil=4 / 3, col_dol_sel=0.0, col_dol_unsel=4 / 3, cell_bl_sel=5 / 3,
           cell_bl_unsel=1.0, cell_dil_sel=4 / 3, cell_dil_unsel=4 / 3, cell_dol_sel=0.0, cell_dol_unsel=4 / 3),
    Scheme("equipotential", "B", "full inhibit: BL = DIL = unselected DOL = 2V, selected DOL 0 (half-select drive 0)",
           col_bl=2.0, col_dil=2.0, col_dol_sel=0.0, col_dol_unsel=2.0, row_bl=1.0, cell_bl_sel=2.0,
           cell_bl_unsel=1.5, cell_dil_sel=2.0, cell_dil_unsel=2.0, cell_dol_sel=0.0, cell_dol_unsel=2.0),
    Scheme("dil_float", "B", "DILs floating, unselected DOL at V (the DIL settles between its DOLs)",
           col_bl=1.0, col_dil=None, col_dol_sel=0.0, col_dol_unsel=1.0, cell_dil_sel=None, cell_dil_unsel=None),
    Scheme("topology_a", "A", "topology A (gate on BL, series sparsity channel), DILs grounded, unselected DOL at V",
           col_bl=1.0, col_dil=0.0, col_dol_sel=0.0, col_dol_unsel=1.0, spl_pre_v=0.0),
)}


def get_scheme(name: str) -> Scheme:
    """A scheme by name (one clear sentence naming the choices otherwise)."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ParamError(f"unknown programming scheme {name!r}; choose one of {', '.join(SCHEMES)}") from None
