"""The pure layers stay pure: importing them loads neither the simulator glue nor fitting, plotting or Dask."""
import subprocess
import sys

import pytest

HEAVY = ("PySpice", "lmfit", "matplotlib", "dask", "distributed")
LIGHT = {
    "model": ("fefet_spice.model", "fefet_spice.waveforms", "fefet_spice.presets"),
    "lut_and_characterize": ("fefet_spice.lut", "fefet_spice.lut.native", "fefet_spice.lut.export_aihwkit",
                             "fefet_spice.lut.export_neurosim", "fefet_spice.lut.export_crosssim",
                             "fefet_spice.characterize"),
    "cost": ("fefet_spice.cost", "fefet_spice.cost.report"),
}


@pytest.mark.parametrize("layer", sorted(LIGHT))
def test_import_loads_no_heavy_library(layer):
    code = (f"import sys, {', '.join(LIGHT[layer])}; "
            f"bad = [m for m in {HEAVY!r} if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
