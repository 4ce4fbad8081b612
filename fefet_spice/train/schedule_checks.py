"""Validation of :class:`.schedule.Schedule` fields: types and numeric ranges (ParamError naming the field).

Kept apart from the schedule's definition so that module stays short; :mod:`.schedule` calls both checks
in ``__post_init__``.
"""
from __future__ import annotations

import math
from dataclasses import fields

from ..errors import ParamError

_INT_LISTS = ("prune_epochs",)

# (low, high, low open?) per numeric field: values outside make training meaningless or unbounded in time.
RANGES: dict[str, tuple[float, float, bool]] = {
    "pretrain_epochs": (1, 10_000, False), "pretrain_bits": (2, 16, False), "pretrain_lr": (0, 10, True),
    "pretrain_batch": (1, 100_000, False), "onchip_batch": (0, 100_000, False), "l1": (0, 10, False),
    "l2": (0, 10, False),
    "prune_aware_passes": (0, 10_000, False), "prune_aware_lr": (0, 10, True), "prune_ramp": (0, 1, True),
    "epochs": (2, 10_000, False), "steps_per_epoch": (1, 1_000, False), "lr": (0, 1_000, True),
    "beta1": (0, 0.9999, False), "beta2": (0, 0.999999, False), "levels": (2, 4096, False),
    "max_layer_sparsity": (0, 1, False), "overprune_epoch": (0, 10_000, False),
    "overprune_extra": (0, 0.999, False), "regrow_epoch": (0, 10_000, False), "regrow_fraction": (0, 1, False),
    "regrow_expansion": (1, 1_000, False), "max_pulses": (1, 10_000, False), "ridge": (0, 1e6, False),
    "vau_conflict": (0, 1e6, False), "rank1_bits": (1, 1024, False), "verify_tol": (0, 1e3, True),
    "verify_iters": (0, 1_000, False), "transfer_iters": (0, 10_000, False),
    "transfer_range": (0, 1_000, True), "reset_pulses": (1, 100_000, False),
    "pretrain_passes": (1, 1_000, False), "lr_final": (0, 1_000, False), "transfer_clip": (0, 1, True),
    "augment_shift": (0, 16, False), "feedback_clip": (0, 10_000, True), "step_unit": (0, 1, False),
    "tt_every": (1, 100_000, False), "tt_rows": (0, 1, True), "tt_lr": (0, 100, True), "tt_decay": (0, 1, False),
    "tt_gamma": (0, 100, False), "tt_range": (0, 100, True),
}


def check_ranges(sch) -> None:
    """Every numeric field inside :data:`RANGES` (ParamError naming the field)."""
    for name, (lo, hi, lo_open) in RANGES.items():
        v = getattr(sch, name)
        if v > hi or v < lo or (lo_open and v == lo):
            raise ParamError(f"schedule: {name} must be {'>' if lo_open else '>='} {lo:g} and <= {hi:g}, got {v!r}")
    if sch.epochs * sch.steps_per_epoch > 200_000:
        raise ParamError(f"schedule: epochs x steps_per_epoch = {sch.epochs * sch.steps_per_epoch} updates is more "
                         "than the 200000 a run may take")


def check_types(sch) -> None:
    """Field types: int fields int (not bool/float), float fields finite numbers, tuple fields lists."""
    for f in fields(sch):
        name, v, default = f.name, getattr(sch, f.name), f.default
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise ParamError(f"schedule: {name} must be true or false, got {v!r}")
        elif isinstance(default, str):
            if not isinstance(v, str):
                raise ParamError(f"schedule: {name} must be a string, got {v!r}")
        elif isinstance(default, int):
            if isinstance(v, bool) or not isinstance(v, int):
                raise ParamError(f"schedule: {name} must be a whole number, got {v!r}")
        elif isinstance(default, float):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ParamError(f"schedule: {name} must be a finite number, got {v!r}")
            object.__setattr__(sch, name, float(v))
        elif isinstance(default, tuple):
            if not isinstance(v, (list, tuple)):
                raise ParamError(f"schedule: {name} must be a list of numbers, got {v!r}")
            if name in _INT_LISTS:
                if any(isinstance(x, bool) or not isinstance(x, int) for x in v):
                    raise ParamError(f"schedule: {name} must be a list of whole numbers, got {list(v)!r}")
                v = tuple(v)
            else:
                if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in v):
                    raise ParamError(f"schedule: {name} must be a list of finite numbers, got {list(v)!r}")
                v = tuple(float(x) for x in v)
            object.__setattr__(sch, name, v)
