"""Shared helpers of the fuzz suites (test_fuzz_outputs.py, test_fuzz_inputs.py): the exit contract."""
from __future__ import annotations

import contextlib
import hashlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fefet_spice.cli import main

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
COMMITTED = ("netlists", "luts", "fits", "measurements")


def _tree_hash(*roots: Path) -> str:
    h = hashlib.sha256()
    for root in roots:
        for p in sorted(root.rglob("*")) if root.is_dir() else []:
            if p.is_file():
                h.update(str(p.relative_to(root.parent)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def committed_files_unchanged():
    """No case may change the checkout's own data folders."""
    before = _tree_hash(*(ROOT / d for d in COMMITTED))
    yield
    assert _tree_hash(*(ROOT / d for d in COMMITTED)) == before


def cli(*args, limit_s: float = 60.0) -> tuple[int, str, str]:
    """Run the CLI in process; assert the exit contract; return (code, stdout, the error sentence)."""
    out, err = io.StringIO(), io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own one-line usage errors
            rc = exc.code
    assert time.monotonic() - t0 < limit_s, args
    text = err.getvalue()
    assert "Traceback" not in text, text
    assert rc in (0, 2), (args, rc, text)
    lines = [ln for ln in text.splitlines() if "error:" in ln]
    if rc == 2:
        assert len(lines) == 1 and lines[0].startswith("fefet-spice "), text
        return rc, out.getvalue(), lines[0]
    assert not lines, text
    return rc, out.getvalue(), ""


def cli_subprocess(*args, timeout: float = 60.0, cwd=None) -> tuple[int, str]:
    """The CLI in its own process (for inputs that could block or exhaust memory)."""
    proc = subprocess.run([sys.executable, "-m", "fefet_spice.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), proc.stderr
    return proc.returncode, proc.stderr.strip()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


