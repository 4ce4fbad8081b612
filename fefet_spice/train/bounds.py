"""Checks around a training run: inputs that would make its result meaningless are refused before any
work, and a result that still comes out meaningless fails with a sentence instead of a number.

* :func:`check_inputs` — the dataset (finite, informative images; a shift smaller than
  the image) and the LUT (:func:`fefet_spice.lut.validate.check_trainable`).
* :func:`check_result` — the trainer's record: every metric finite, counts non-negative, and not at
  chance level (the inputs left nothing to learn).

Schedule fields are bounded where a schedule is made (``fefet_spice.train.schedule_checks.RANGES``).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, ParamError

MAX_PASS_IMAGES = 5e8
"""Most image presentations of the pretraining (images x passes x pretraining epochs): beyond that a run
takes days."""


def check_dataset(ds) -> None:
    """Images finite and not all alike (else nothing can be learnt); labels of more than one class."""
    for name in ("x_train", "x_test"):
        x = np.asarray(getattr(ds, name))
        if x.size == 0:
            raise DataError(f"{ds.source}: {name}: no images")
        if x.dtype.kind in "fc" and not np.all(np.isfinite(x)):
            raise DataError(f"{ds.source}: {name}: contains NaN or infinite pixel values")
    x = np.asarray(ds.x_train)
    if np.all(x == x.reshape(len(x), -1)[0].reshape(x.shape[1:])):
        raise DataError(f"{ds.source}: x_train: every training image is the same after the 20x20 binarization "
                        "(blank, NaN or constant images?): nothing to learn")
    if len(np.unique(ds.y_train)) < 2:
        raise DataError(f"{ds.source}: y_train: the training images hold a single class")


def check_inputs(dataset, lut, sch, where: str = "schedule", lut_name: str = "") -> None:
    """Everything a training run depends on, before it starts."""
    from ..lut.validate import check_trainable

    check_dataset(dataset)
    side = min(np.asarray(dataset.x_train).shape[1:])
    if getattr(sch, "augment_shift", 0) >= side:
        raise ParamError(f"{where}: augment_shift {sch.augment_shift} must be smaller than the {side}-pixel images")
    n = len(dataset.x_train) * getattr(sch, "pretrain_passes", 1) * getattr(sch, "pretrain_epochs", 1)
    if n > MAX_PASS_IMAGES:
        raise ParamError(f"{where}: pretraining would present {n:.3g} images (images x pretrain_passes x "
                         f"pretrain_epochs), more than the {MAX_PASS_IMAGES:g} a run may take")
    check_trainable(lut, lut_name or "the LUT")


def check_result(record: dict, n_classes: int, lut_name: str = "", source: str = "") -> None:
    """Fail (DataError) when the run's metrics are non-finite, negative counts, or at chance level."""
    from ..io.atomic import non_finite_field

    bad = non_finite_field(record)
    if bad:
        raise DataError(f"training result: {bad} is not a finite number (the inputs made the run diverge: "
                        f"{lut_name or 'LUT'}, {source or 'dataset'}); nothing was written")
    for key in ("operations_total", "pulses_total"):
        if key in record and record[key] < 0:
            raise DataError(f"training result: {key} = {record[key]} is negative (an overflow from an out-of-range "
                            "schedule or LUT); nothing was written")
    chance = 1.0 / max(n_classes, 1)
    margin = 0.5 * chance * 0.1  # within 5 % of chance (relative): no class information survived
    dense = record.get("dense_software_accuracy")
    if isinstance(dense, float) and dense <= chance + margin:
        raise DataError(f"training result: dense software accuracy {100 * dense:.1f} % is chance level "
                        f"({100 * chance:.0f} % for {n_classes} classes): the dataset {source} gives nothing to "
                        "learn; nothing was written")
    final = record.get("final_accuracy")
    if isinstance(final, float) and final <= chance + margin:
        raise DataError(f"training result: final accuracy {100 * final:.1f} % is chance level ({100 * chance:.0f} % "
                        f"for {n_classes} classes) although the dense software network reaches "
                        f"{100 * (dense or 0):.1f} %: the LUT {lut_name} or the schedule cannot train the network; "
                        "nothing was written")


PULSE_MATCH_RTOL = 0.01
"""Largest relative difference between the cells' pulses and the LUT's first pulse pair [-]."""


def check_cells_fire_the_luts_pulses(params, lut, lut_name: str = "") -> None:
    """Array in the loop: the cells fire their own operating point's pulses while the LUT chooses the
    counts, so the LUT must have been measured with those pulses (else the counts mean nothing for these
    cells: a binary sparsity FeFET behind a weight LUT trains to chance level). ParamError before work."""
    op = params.op
    want = {+1: (op.v_pulse_up, op.t_pulse), -1: (op.v_pulse_dn, op.t_pulse)}
    for pol, (v, w) in want.items():
        try:
            kind = lut.kinds[lut.kind_index(pol)]
        except (ValueError, IndexError, KeyError):
            raise ParamError(f"{lut_name or 'the LUT'} has no {'up' if pol > 0 else 'down'} pulse kind for the "
                             "array's cells") from None
        if not (np.isclose(kind.amplitude, v, rtol=PULSE_MATCH_RTOL) and np.isclose(kind.width, w, rtol=PULSE_MATCH_RTOL)):
            raise ParamError(
                f"the array's cells fire {v:+.3g} V / {w:.3g} s pulses ({'up' if pol > 0 else 'down'}), but "
                f"{lut_name or 'the LUT'} was measured with {kind.amplitude:+.3g} V / {kind.width:.3g} s: its pulse "
                "counts mean nothing for these cells. Characterize this device (fefet-spice characterize --params "
                "FILE) and train with its LUT, or give --array-params the device the LUT was measured on")
