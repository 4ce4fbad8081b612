"""Programming schemes: line voltages as data, ngspice cell measurements, cost glue and the CLI."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fefet_spice.array import row_column_vau
from fefet_spice.array.schemes import SCHEMES, get_scheme
from fefet_spice.cli import main
from fefet_spice.cost.energy_file import device_from_dict, device_to_dict
from fefet_spice.cost.networks import get_network, preset_sparsity
from fefet_spice.cost.model import network_cost
from fefet_spice.cost.params import ArchParams, DeviceEnergy
from fefet_spice.errors import ParamError


def test_scheme_drives_are_what_their_names_say():
    for sc in SCHEMES.values():
        if sc.dil_floats:  # a floating DIL's drive is measured, not stated
            assert np.isnan(sc.drives()["full"])
            continue
        d = sc.drives()
        assert d["full"] == pytest.approx(1.0) and d["row_full"] == pytest.approx(1.0)
    assert SCHEMES["paper"].drives()["half"] == pytest.approx(0.5)
    assert SCHEMES["v3"].drives()["half"] == pytest.approx(1 / 3)
    assert max(abs(v) for k, v in SCHEMES["v3"].drives().items() if k != "full" and k != "row_full") == pytest.approx(1 / 3)
    assert SCHEMES["dil_follow"].drives()["half"] == pytest.approx(0.5)
    assert SCHEMES["equipotential"].drives()["half"] == 0.0
    # DIL following: the half-selected cell's channel ends sit at the same potential
    bl, dil, dol = SCHEMES["dil_follow"].roles(4.0)["half"]
    assert dil == dol
    with pytest.raises(ParamError, match="unknown programming scheme"):
        get_scheme("nope")


def test_vau_schedule_follows_the_scheme():
    sc = SCHEMES["dil_follow"]
    s = row_column_vau([1, 0], [2, -1, 0], 4.0, -4.0, 1e-6, 1e-6, scheme=sc)
    k = 1  # first pulse: column 0 selected, up
    assert np.allclose(s.bl[:, k], 6.0) and np.allclose(s.dil[:, k], 4.0)
    assert s.dol[0, k] == 0.0 and np.allclose(s.dol[1:, k], 4.0)
    k = 5  # third pulse: column 1, down
    assert s.dol[1, k] == 0.0 and np.allclose(s.dol[[0, 2], k], -4.0) and np.allclose(s.bl[:, k], -6.0)
    assert np.all(s.bl[:, 2::2] == 0)  # gaps at 0 V
    assert row_column_vau([1], [1], 4.0, -4.0, 1e-6, 1e-6, scheme=SCHEMES["dil_float"]).dil_float


def test_ngspice_half_select_channel_energy_per_scheme(weight, sparsity):
    """Paper: the half-selected channel conducts (channel >> gate); DIL following: no conduction, and
    the half-select channel energy is < 1 % of the full-select write energy."""
    from fefet_spice.spice.schemes import role_pulses

    a = weight.op.v_pulse_up
    half, j = role_pulses(weight, sparsity, SCHEMES["paper"], "half", [a, -a], 1e-6, 1e-6, s_init=0.0)
    assert half.energy_channel[j].mean() > 20 * (half.energy_total - half.energy_channel[j]).mean()
    assert half.drive[j] == pytest.approx([a / 2, -a / 2], rel=0.02)
    fol, _ = role_pulses(weight, sparsity, SCHEMES["dil_follow"], "half", [a, -a], 1e-6, 1e-6, s_init=0.0)
    full, _ = role_pulses(weight, sparsity, SCHEMES["dil_follow"], "full", [a, -a], 1e-6, 1e-6, s_init=-1.0)
    assert fol.energy_channel[0].mean() < 0.01 * full.energy_total.mean()
    assert fol.drive[0] == pytest.approx([a / 2, -a / 2], rel=0.02)
    assert full.p_norm[0, 0] > -0.99  # the selected cell is written


def test_equal_update_amplitude_rises_for_short_pulses(weight):
    from fefet_spice.spice.scheme_points import _p_after, equal_update_amplitude

    a1 = equal_update_amplitude(weight, weight.op.t_pulse)
    a10n = equal_update_amplitude(weight, 10e-9)
    assert a1 == pytest.approx(weight.op.v_pulse_up, rel=1e-3)
    assert a10n > 1.1 * a1
    ref = _p_after(weight, weight.op.v_pulse_up, weight.op.t_pulse, 8, -1.0, 12)
    assert _p_after(weight, a10n, 10e-9, 8, -1.0, 12) == pytest.approx(ref, abs=1e-6)


def test_masked_energies_are_optional_and_charged_to_pruned_cells(tmp_path):
    rec = device_to_dict(DeviceEnergy())
    for key in ("write_energy_masked_select_j", "write_energy_masked_half_j"):
        rec.pop(key)
    dev = device_from_dict(rec)
    assert dev.write_energy_masked_select_j == 0.0
    layers, sp, arch = get_network("msnet"), preset_sparsity("msnet"), ArchParams()
    e0 = network_cost(layers, sp, "index_free", dev, arch)["array_detail_j"]["half_select"]
    e1 = network_cost(layers, sp, "index_free", replace(dev, write_energy_masked_select_j=1e-12), arch)
    assert e1["array_detail_j"]["half_select"] > e0
    # dense designs have no masked cells
    assert (network_cost(layers, sp, "dense", replace(dev, write_energy_masked_select_j=1e-12), arch)["energy_j"]
            == network_cost(layers, sp, "dense", dev, arch)["energy_j"])


def test_schemes_command_writes_the_document(tmp_path):
    out = tmp_path / "s"
    rc = main(["schemes", "--params", "weight", "--schemes", "paper,dil_follow", "--widths", "1u",
               "--amplitudes", "3.9", "--n-train", "4", "-o", str(out)])
    assert rc == 0
    doc = json.loads((out / "schemes.json").read_text())
    assert doc["schema"] == "fefet-schemes/1" and len(doc["points"]) == 2
    keys = {"scheme", "width_s", "amplitude_v", "write_energy_per_pulse_j", "half_select_gate_energy_j",
            "half_select_channel_energy_j", "disturb_levels", "levels", "gain_energy_vs_dense_vgg8",
            "gain_energy_vs_element_vgg8", "meets_budget"}
    for p in doc["points"]:
        assert keys <= set(p)
        assert device_from_dict(json.loads(Path(p["energy_file"]).read_text())).write_pulse_width_s == 1e-6
    paper, follow = doc["points"]
    assert paper["half_select_channel_energy_j"] > 100 * follow["half_select_channel_energy_j"]
    assert follow["gain_energy_vs_dense_vgg8"] > paper["gain_energy_vs_dense_vgg8"]
    assert (out / "schemes.png").stat().st_size > 0 and doc["answer"]


def test_schemes_command_bad_input(tmp_path, capsys):
    assert main(["schemes", "--widths", "10q", "-o", str(tmp_path)]) == 2
    assert "--widths" in capsys.readouterr().err
    assert main(["schemes", "--schemes", "nope", "-o", str(tmp_path)]) == 2
    assert main(["schemes", "--widths", "1u,10n", "--amplitudes", "3.9", "-o", str(tmp_path)]) == 2
    assert not (tmp_path / "schemes.json").exists()


def test_array_energy_adds_up_from_the_cell_roles(weight, sparsity):
    """A 2 x 3 array under dil_follow: the ngspice array energy equals the sum of the cell-level role
    energies (what the cost model is given) within 10 %; pruned and unselected cells do not move."""
    from fefet_spice.spice.scheme_array import predicted_column_energy, role_energies, vau_update
    from fefet_spice.spice.scheme_points import level_step

    sc = SCHEMES["dil_follow"]
    mask = np.array([[1, 1, 0], [0, 1, 1]], bool)
    c = np.array([1, 0, -1])
    s0 = np.where(mask, 0.0, -1.0)
    res = vau_update(weight, sparsity, sc, mask, s0, np.zeros(2, int), c, 3.9, 1e-6)
    pred = predicted_column_energy(role_energies(weight, sparsity, sc, 3.9, 1e-6), mask, c)
    assert res["energy_j"] == pytest.approx(pred, rel=0.1)
    dg = (res["g1"] - res["g0"]) / level_step(weight)
    assert dg[0, 0] > 0.1 and dg[1, 2] < -0.1          # selected kept cells written, both polarities
    assert np.abs(dg[:, 1]).max() < 1e-3                # unselected column: no disturb
    assert np.abs(dg[~mask]).max() < 1e-3               # pruned cells masked



def test_floating_dil_scheme_is_written_as_json():
    """A floating DIL's drives are measured, not stated: the document holds null, not NaN."""
    from fefet_spice.commands.schemes import scheme_record

    rec = json.loads(json.dumps(scheme_record(SCHEMES["dil_float"]), allow_nan=False))
    assert rec["drives"]["half"] is None and rec["col_dil"] is None


def test_cell_writes_and_pruning_follow_the_scheme():
    from fefet_spice.array.schedule import prune_regrow, write_cells_scheme

    sc = SCHEMES["v3"]
    s = write_cells_scheme(3, 3, [(1, 2, 1)], 3.0, 1e-6, 1e-6, sc)
    k = 1
    assert s.bl[1, k] == 3.0 and np.allclose(s.bl[[0, 2], k], 1.0)      # other BLs at V/3
    assert s.dol[2, k] == 0.0 and np.allclose(s.dol[:2, k], 4.0)         # other DOLs at 4V/3
    drive = s.bl[:, k][:, None] - 0.5 * (s.dil[:, k][:, None] + s.dol[:, k][None, :])
    assert drive[1, 2] == pytest.approx(3.0) and np.abs(np.delete(drive.ravel(), 5)).max() == pytest.approx(1.0)
    ops = prune_regrow(3, 3, [(0, 1)], [2], 3.0, 1e-6, 10.0, 10e-6, 1e-6, sc, g_min_pulses=4)
    assert len(ops) == 3
    assert np.all(ops[0].bl[0, 1::2] < 0)                                  # weight to G_min first
    assert ops[1].spl[0, 1] == -10.0 and ops[2].spl[2, 1] == 10.0         # then prune row 0, regrow row 2
