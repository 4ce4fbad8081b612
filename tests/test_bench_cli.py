"""The benchmark scripts parse their command line with argparse: ``--help`` prints the usage and exits 0, and a
misspelt option is an error (exit 2, naming it) before any work, never a silent long run with the defaults."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = ("bench_beta.py", "bench_fit.py", "bench_onchip_contribution.py", "bench_train.py",
           "bench_train_emnist.py", "run_all.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_unknown_option(script):
    # both at once (each mostly imports numpy/scipy); the whole file takes about a second on 2 cores
    procs = {arg: subprocess.Popen([sys.executable, str(BENCH / script), arg], cwd=BENCH.parent, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for arg in ("--help", "--no-such-option")}
    (out, err), (out_bad, err_bad) = (p.communicate(timeout=60) for p in procs.values())
    assert procs["--help"].returncode == 0, err
    assert out.startswith(f"usage: {script}"), out
    assert procs["--no-such-option"].returncode == 2, (out_bad, err_bad)
    assert "unrecognized arguments: --no-such-option" in err_bad, err_bad
    assert out_bad == ""  # nothing ran
