"""The report renders in headless Chromium (Debian's chromium) at a desktop width (1280 px) and a phone width
(390 px): every image loaded and with alt text, the comparison with the paper first and laid out, nothing
wider than the screen, SHA-256 values not cut, figures kept at a readable size on the phone."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return exe


@pytest.mark.slow
def test_report_renders_comparison_and_all_images(tmp_path):
    from fefet_spice.cli import main

    exe = _chromium()
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[1]
    assert main(["run", "-o", str(out), "--quick", "--backend", "numpy",
                 "--measurements", str(root / "measurements")]) == 0
    url = (out / "report.html").resolve().as_uri()
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    n_figures = sum(1 for _ in out.rglob("*.png"))
    n_rows = (out / "report.html").read_text().count("data-label='status'")
    assert n_rows >= 10
    for size in ("1280,2000", "390,844"):  # desktop and phone
        dom = subprocess.run([*common, f"--window-size={size}", "--dump-dom", url], capture_output=True, text=True,
                             timeout=120).stdout
        assert 'data-images-loaded="all"' in dom, size
        assert f'data-image-count="{n_figures}"' in dom, size
        assert 'data-images-without-alt="0"' in dom, size
        assert 'data-first-table="comparison"' in dom, size
        assert f'data-comparison-rows="{n_rows}"' in dom, size
        assert 'data-overflow-x="no"' in dom, size  # nothing wider than the screen
        assert 'data-provenance-cut="0"' in dom, size  # SHA-256 values wrap, none hidden
        width = int(re.search(r'data-min-figure-width="(\d+)"', dom).group(1))
        if size.startswith("390"):  # figure text stays readable: the figure keeps its size and scrolls
            assert width >= 600, (size, width)
        shot = tmp_path / f"report_{size.split(',')[0]}.png"
        subprocess.run([*common, f"--window-size={size}", f"--screenshot={shot}", url],
                       capture_output=True, timeout=120, check=True)
        assert shot.stat().st_size > 20_000  # a rendered page with plots, not a blank canvas
    text = (out / "report.html").read_text()
    assert "what the array did" in text.lower() and "on-chip contribution" in text
