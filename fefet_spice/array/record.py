"""A training run's array operations as numpy arrays (``fefet-array-record/1``), from the trainer's recorder.

:func:`fefet_spice.train.trainer.train` with ``recorder=[]`` fills a list with the run's operations
(vau rules): the conductances after programming, one entry per on-chip update and layer holding the two
fires of the VAU (column step, then row step), each with the G+ and G- operators in the *weight*
direction and the cells of each side that responded (:meth:`fefet_spice.train.device.DeviceLayer.sides`),
the masks after every pruning or regrowth event, and the final conductances. :func:`pack` turns that
list into flat arrays (one ``.npz``, :mod:`fefet_spice.io.array_record`), :class:`TrainRecord` reads
them back. Pure numpy, no IO.

Per layer ``l`` of shape (M, N), with U updates and E events:

* ``l{l}_g0p``, ``l{l}_g0n`` (M, N) [S]: G+ and G- after programming; ``l{l}_gfp``, ``l{l}_gfn`` final.
* ``l{l}_col_p``, ``l{l}_col_m`` (U, N) and ``l{l}_row_p``, ``l{l}_row_m`` (U, M): integer operators.
* ``l{l}_col_sides``, ``l{l}_row_sides`` (U, 2, M, N) bool: responding G+ and G- cells at each fire.
* ``l{l}_event_mask`` (E, M, N) bool: the layer's mask after each event.

Shared: ``update_epoch`` (U,), ``event_kind`` (E,) (0 prune, 1 regrow), ``event_at`` (E,) (updates done
before the event), ``event_epoch`` (E,), ``meta`` (JSON text: schema, LUT range, scales, reset pulses).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..errors import DataError

SCHEMA = "fefet-array-record/1"
EVENTS = ("prune", "regrow")


def _updates(entries: list, n_layers: int) -> dict:
    """Stack the update entries, checking each update is one entry per layer (layers in order) and each
    entry one column fire then one row fire. Updates are counted in order: an entry's ``step`` is
    Adam's step count, which restarts at every event with ``adam_reset="events"``, so it is no index."""
    ups = [e for e in entries if e["kind"] == "update"]
    if [e["layer"] for e in ups] != list(range(n_layers)) * (len(ups) // n_layers) or len(ups) % n_layers:
        raise ValueError(f"every update must hold one entry per layer, layers 0..{n_layers - 1} in order")
    out: dict[str, np.ndarray] = {}
    for layer in range(n_layers):
        mine = ups[layer::n_layers]
        if any([op[0] for op in e["ops"]] != ["col", "row"] for e in mine):
            raise ValueError(f"layer {layer}: every update must be one column fire then one row fire")
        for k, step in ((0, "col"), (1, "row")):
            out[f"l{layer}_{step}_p"] = np.array([e["ops"][k][1] for e in mine], dtype=np.int64)
            out[f"l{layer}_{step}_m"] = np.array([e["ops"][k][2] for e in mine], dtype=np.int64)
            out[f"l{layer}_{step}_sides"] = np.array([np.stack(e["ops"][k][3:5]) for e in mine], dtype=bool)
    epochs = [[e["epoch"] for e in ups[i:i + n_layers]] for i in range(0, len(ups), n_layers)]
    if any(len(set(ep)) != 1 for ep in epochs):
        raise ValueError("the layers' entries of one update must share its epoch")
    out["update_epoch"] = np.array([ep[0] for ep in epochs], dtype=np.int64)
    return out


def pack(entries: list) -> dict[str, np.ndarray]:
    """The trainer's recorder list -> flat arrays (see the module docstring)."""
    if not entries or entries[0]["kind"] != "transfer" or entries[-1]["kind"] != "final":
        raise ValueError("a record starts with the transfer entry and ends with the final one")
    first, last = entries[0], entries[-1]
    n_layers = len(first["gp"])
    out = _updates(entries, n_layers)
    done, kinds, at, epochs, masks = 0, [], [], [], []
    for e in entries:
        if e["kind"] == "update":
            done += e["layer"] == n_layers - 1
        elif e["kind"] in EVENTS:
            kinds.append(EVENTS.index(e["kind"]))
            at.append(done)
            epochs.append(e["epoch"])
            masks.append(e["mask"])
    out.update(event_kind=np.array(kinds, dtype=np.int64), event_at=np.array(at, dtype=np.int64),
               event_epoch=np.array(epochs, dtype=np.int64))
    for layer in range(n_layers):
        shape = first["gp"][layer].shape
        out[f"l{layer}_g0p"], out[f"l{layer}_g0n"] = first["gp"][layer], first["gn"][layer]
        out[f"l{layer}_gfp"], out[f"l{layer}_gfn"] = last["gp"][layer], last["gn"][layer]
        out[f"l{layer}_event_mask"] = np.array([m[layer] for m in masks], dtype=bool).reshape((-1, *shape))
    meta = {"schema": SCHEMA, "n_layers": n_layers, "g_min": first["g_min"], "g_max": first["g_max"],
            "scale": first["scale"], "reset_pulses": first["reset_pulses"]}
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    return out


@dataclass(frozen=True)
class TrainRecord:
    """Read access to packed record arrays (validated on construction)."""

    arrays: dict

    def __post_init__(self):
        if "meta" not in self.arrays:
            raise DataError("array record: no 'meta' entry (not a fefet-array-record file)")
        meta = json.loads(str(self.arrays["meta"]))
        if meta.get("schema") != SCHEMA:
            raise DataError(f"array record: schema {meta.get('schema')!r}, expected {SCHEMA!r}")
        need = ["update_epoch", "event_kind", "event_at", "event_epoch"]
        need += [f"l{i}_{k}" for i in range(meta["n_layers"]) for k in
                 ("g0p", "g0n", "gfp", "gfn", "col_p", "col_m", "row_p", "row_m", "col_sides", "row_sides",
                  "event_mask")]
        missing = [k for k in need if k not in self.arrays]
        if missing:
            raise DataError(f"array record: missing array(s) {', '.join(missing)}")
        object.__setattr__(self, "meta", meta)

    @property
    def n_layers(self) -> int:
        return int(self.meta["n_layers"])

    @property
    def n_updates(self) -> int:
        return len(self.arrays["update_epoch"])

    def shape(self, layer: int) -> tuple[int, int]:
        return tuple(self.arrays[f"l{layer}_g0p"].shape)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def events_before(self, update: int) -> list[tuple[str, int]]:
        """(kind, index) of the events that run right before update ``update`` (its count: after all)."""
        return [(EVENTS[int(k)], e) for e, (k, a) in enumerate(zip(self["event_kind"], self["event_at"]))
                if int(a) == update]
