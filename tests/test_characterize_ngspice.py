"""Characterization through the real ngspice (issue 5): the weight preset's cell, topology B."""
import pytest

from fefet_spice import presets
from fefet_spice.characterize.jobs import CharConfig
from fefet_spice.characterize.pipeline import characterize


@pytest.fixture(scope="module")
def ngspice_char():
    cfg = CharConfig(weight=presets.get("weight"), sparsity=presets.get("sparsity"), backend="ngspice",
                     n_devices=2, seed=0)
    return characterize(cfg, executor="serial")


def test_ngspice_lut_has_16_levels_per_polarity(ngspice_char):
    meta = ngspice_char.lut.meta
    assert meta["levels"]["up"] >= 16 and meta["levels"]["down"] >= 16
    assert meta["provenance"]["simulator"] == "ngspice"
    assert 4e-6 < ngspice_char.lut.g_max - ngspice_char.lut.g_min < 8e-6


def test_ngspice_masked_and_half_selected_cells_do_not_move(ngspice_char):
    meta = ngspice_char.lut.meta
    assert meta["masked_ratio"] < 0.01
    assert meta["disturb_ratio"] < 0.01
