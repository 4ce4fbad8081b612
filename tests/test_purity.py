import subprocess
import sys


def test_model_import_loads_neither_pyspice_nor_lmfit_nor_matplotlib():
    code = ("import sys, fefet_spice.model, fefet_spice.waveforms, fefet_spice.presets; "
            "bad = [m for m in ('PySpice', 'lmfit', 'matplotlib', 'dask') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
