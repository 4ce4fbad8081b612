"""bench/replay_gap.py on a small hand-made record: the diagnosis runs end to end and its checks hold."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from fefet_spice.array import record as rec
from fefet_spice.io import array_record
from fefet_spice.lut.native import load_lut

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("replay_gap", ROOT / "bench" / "replay_gap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_replay_gap_on_a_toy_record(tmp_path, capsys):
    lut = load_lut(ROOT / "luts" / "weight_ref")
    m, n = 3, 2
    mid = lut.g_min + 0.4 * (lut.g_max - lut.g_min)
    gp, gn = np.full((m, n), mid), np.full((m, n), lut.g_min)
    sides = (np.ones((m, n), bool), np.zeros((m, n), bool))
    ops = [[("col", np.array([1, -1]), np.zeros(n, int), *sides), ("row", np.array([1, 0, -2]), np.zeros(m, int), *sides)],
           [("col", np.array([-1, 1]), np.zeros(n, int), *sides), ("row", np.array([0, 1, 1]), np.zeros(m, int), *sides)]]
    entries = [{"kind": "transfer", "gp": [gp], "gn": [gn], "mask": [np.ones((m, n), bool)], "g_min": lut.g_min,
                "g_max": lut.g_max, "scale": [1.0], "reset_pulses": 64},
               *({"kind": "update", "epoch": 11 + k, "step": 1, "layer": 0, "ops": o} for k, o in enumerate(ops)),
               {"kind": "final", "gp": [gp], "gn": [gn], "mask": [np.ones((m, n), bool)]}]
    path = array_record.save(tmp_path / "toy.npz", rec.pack(entries))
    assert _module().main(["--record", str(path), "--updates", "0", "1", "--json", str(tmp_path / "gap.json")]) == 0
    out = json.loads((tmp_path / "gap.json").read_text())
    assert out["array_vs_lut_mean"]["0"]["max"] < 1e-6          # the transfer maps exactly
    assert out["half_select_disturb"]["max"] == 0.0             # a half-selected cell (1.95 V) does not move
    steps = out["one_step"]
    assert steps["cell_firings"] == 2 * (m * n + 2 * n)        # per update: every G+ cell (column fire), two rows of n
    assert steps["reversal_up"]["n"] + steps["reversal_down"]["n"] > 0
    assert capsys.readouterr().out.lstrip().startswith("{")
