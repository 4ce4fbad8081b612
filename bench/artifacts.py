"""Regenerate the committed artefacts by their documented commands, or check them within tolerance.

    python bench/artifacts.py regenerate              # in place, in dependency order (`make artifacts`)
    python bench/artifacts.py check [NAME ...]        # into out/, compare with the committed files
                                                      # (`make check-artifacts`); exit 1 on a mismatch
    python bench/artifacts.py list                    # the artefacts, their commands and tolerances

`regenerate` runs every command with the committed folders as output, so each step consumes what the
previous one wrote (measurements -> fits -> LUTs; netlists from the presets). `check` runs each command on
the *committed* inputs into a temporary folder under out/, so a mismatch names the stale artefact itself.

What is compared: JSON field by field (strings, booleans, integers and keys exactly; floats within the
artefact's tolerance; run-time facts such as wall time, the Python version and checksums of the numbers
are not compared), `.npz` arrays (shape, dtype, NaN pattern exactly; values within tolerance), text files
token by token (words exactly, numbers within tolerance). Figures (`.png`) must exist and are not compared
(their bytes depend on the matplotlib version); hand-written `README.md` files are not regenerated.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: JSON keys whose values are facts of the run, not results: never compared
VOLATILE = frozenset({"wall_time_s", "python", "nfev"})
#: JSON keys holding checksums of numbers that are themselves compared within tolerance
NUMBER_CHECKSUMS = frozenset({"npz_sha256"})
MARKER = ".fefet-spice-output.json"
"""An output folder's marker: its `files` manifest (SHA-256 per file, machine-dependent for numeric files)
is left out of the comparison; the files themselves are compared within tolerance."""
#: files a command does not write (hand-written)
HAND_WRITTEN = frozenset({"README.md"})

_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Artifact:
    """One committed file or folder, the CLI arguments that produce it, and how close a rerun must be.

    A number ``x`` regenerated for the committed ``ref`` passes when
    ``|x - ref| <= rtol * |ref| + atol``: for ``.npz`` arrays and numbers in text files with ``rtol`` and
    ``atol = scale * max|ref|`` of that array (so entries near zero, such as mean updates of saturated
    states, are judged against the array's range; 0 for text); for JSON with ``json_rtol`` (ten times that
    for `stderr` fields) and ``json_atol`` only under `correlations` (which are rounded to 4 decimals).
    """

    path: str
    args: tuple[str, ...]  # "{out}" stands for the output path (the committed path when regenerating)
    rtol: float
    scale: float
    json_rtol: float
    json_atol: float
    why: str


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("measurements", ("gen-measurements", "-o", "{out}", "--seed", "2025"),
             rtol=1e-3, scale=0.0, json_rtol=1e-9, json_atol=0.0,
             why="the CSVs hold 4 significant digits: a value within rounding (~1e-16 relative) of a "
                 "decimal boundary may print one unit of the last digit apart on another CPU/libm "
                 "(at most 1e-3 relative); truth.json holds full-precision floats, which differ by ~3e-16 "
                 "relative without AVX-512 (NPY_DISABLE_CPU_FEATURES), hence 1e-9"),
    Artifact("fits/weight_ref.json", ("fit", "measurements/weight", "--base", "weight", "-o", "{out}"),
             rtol=0.0, scale=0.0, json_rtol=1e-4, json_atol=2e-4,
             why="lmfit iterates to a tolerance, so rounding differences (BLAS kernel, CPU features) move "
                 "the end point: without AVX-512 and with OpenBLAS's Haswell kernels the fitted values "
                 "moved by up to 2e-6 relative (tau0) and the stderr (finite-difference Jacobian) by up "
                 "to 3e-5; hence 1e-4 for values, 1e-3 for stderr, and atol 2e-4 (two units of the "
                 "4th decimal they are rounded to) for correlations. A model or fitter change moves "
                 "parameters by percent"),
    Artifact("fits/sparsity_ref.json", ("fit", "measurements/sparsity", "--base", "sparsity", "-o", "{out}"),
             rtol=0.0, scale=0.0, json_rtol=1e-4, json_atol=2e-4, why="as fits/weight_ref.json"),
    Artifact("luts/weight_ref", ("characterize", "--params", "fits/weight_ref.json", "--sparsity",
                                 "fits/sparsity_ref.json", "--variation", "weight", "--backend", "ngspice",
                                 "--n-devices", "16", "--seed", "0", "-o", "{out}"),
             rtol=1e-6, scale=1e-6, json_rtol=1e-6, json_atol=0.0,
             why="ngspice transients with adaptive time steps: a last-bit difference in the device "
                 "equations can shift a time step; the conductances stay within ~1e-9 of their range "
                 "with the same ngspice build. A different ngspice version (simulator_version) is reported "
                 "as a mismatch: regenerate then"),
    Artifact("luts/weight_ref_traffic", ("characterize", "--params", "fits/weight_ref.json", "--sparsity",
                                         "fits/sparsity_ref.json", "--variation", "weight", "--backend",
                                         "ngspice", "--n-devices", "16", "--seed", "0", "--traffic", "512",
                                         "-o", "{out}"),
             rtol=1e-6, scale=1e-6, json_rtol=1e-6, json_atol=0.0, why="as luts/weight_ref"),
    Artifact("luts/weight_preset", ("characterize", "--preset", "weight", "-o", "{out}", "--n-devices", "64",
                                    "--seed", "0"),
             rtol=1e-7, scale=1e-7, json_rtol=1e-7, json_atol=0.0,
             why="numpy compact model: regenerations on other machines (same numpy) differ by ~1e-10 of "
                 "the range (largest seen 4e-17 S on a 6 uS range); without AVX-512 and with OpenBLAS's "
                 "Haswell kernels dg_std (a difference of near-equal numbers) moved by 3e-9 of its range. "
                 "1e-7 leaves 30x margin and still catches any model change (>1e-4)"),
    Artifact("netlists", ("netlist", "--all", "-o", "{out}"),
             rtol=0.0, scale=0.0, json_rtol=0.0, json_atol=0.0,
             why="text formatted (%.9e) from the presets' constants and a seeded mask: identical on every "
                 "machine, so compared exactly (netlists.json holds their SHA-256)"),
)


def by_name(names) -> list[Artifact]:
    known = {a.path: a for a in ARTIFACTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown artefact(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names] if names else list(ARTIFACTS)


def command(art: Artifact, out: str) -> list[str]:
    return [sys.executable, "-m", "fefet_spice.cli", *(out if a == "{out}" else a for a in art.args)]


def run(art: Artifact, out: str) -> float:
    """Run the artefact's command with ``out`` as output (relative to the repository root); wall seconds."""
    cmd = command(art, out)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return time.monotonic() - t0


@contextmanager
def _committed_file_aside(art: Artifact):
    """Regenerating a single-file artefact (a fit): move the committed file and its figures aside (fefet-spice
    replaces a named output file only if its ledger says it wrote it, and a clone has no ledger), and put
    them back if the command fails or is interrupted."""
    from fefet_spice.io.outdir import FIT_FIGURES

    path = ROOT / art.path
    files = [f for f in (path, *(path.with_name(f"{path.stem}_{s}.png") for s in FIT_FIGURES)) if f.is_file()] \
        if path.suffix == ".json" else []
    with tempfile.TemporaryDirectory(prefix="fefet-artifact-") as tmp:
        moved = []
        try:
            for f in files:
                shutil.move(str(f), Path(tmp) / f.name)
                moved.append(f)
            yield
        except BaseException:
            for f in moved:  # the committed versions win over what a failed run left
                shutil.move(str(Path(tmp) / f.name), f)
            raise


# ---------------------------------------------------------------- comparison

def _close(x: float, ref: float, rtol: float, atol: float) -> bool:
    if math.isnan(ref) or math.isnan(x):
        return math.isnan(ref) and math.isnan(x)
    if math.isinf(ref) or math.isinf(x):
        return x == ref
    return abs(x - ref) <= rtol * abs(ref) + atol


def compare_json(new, ref, art: Artifact, where: str, strip: str = "", _rtol: float | None = None) -> list[str]:
    """Mismatches between two parsed JSON documents (``strip``: output prefix removed from strings)."""
    if isinstance(ref, dict) and isinstance(new, dict):
        out = []
        if set(new) != set(ref):
            out.append(f"{where}: keys differ (only committed: {sorted(set(ref) - set(new))}, "
                       f"only regenerated: {sorted(set(new) - set(ref))})")
        for k in ref:
            if k in VOLATILE or k in NUMBER_CHECKSUMS or k not in new:
                continue
            out += compare_json(new[k], ref[k], art, f"{where}.{k}", strip,
                                art.json_rtol * 10 if k == "stderr" else _rtol)
        return out
    if isinstance(ref, list) and isinstance(new, list):
        if len(new) != len(ref):
            return [f"{where}: {len(new)} items, committed {len(ref)}"]
        return [m for i, (a, b) in enumerate(zip(new, ref))
                for m in compare_json(a, b, art, f"{where}[{i}]", strip, _rtol)]
    if isinstance(ref, float) or isinstance(new, float):
        rtol = art.json_rtol if _rtol is None else _rtol
        atol = art.json_atol if ".correlations." in where else 0.0
        if isinstance(ref, (int, float)) and isinstance(new, (int, float)) and not isinstance(ref, bool) \
                and not isinstance(new, bool) and _close(float(new), float(ref), rtol, atol):
            return []
        return [f"{where}: {new!r}, committed {ref!r} (rtol {rtol:g}, atol {atol:g})"]
    if isinstance(new, str) and strip:
        new = new.replace(strip, "")
    return [] if (type(new) is type(ref) and new == ref) else [f"{where}: {new!r}, committed {ref!r}"]


def compare_npz(new: Path, ref: Path, art: Artifact, where: str) -> list[str]:
    with np.load(new) as a, np.load(ref) as b:
        if sorted(a.files) != sorted(b.files):
            return [f"{where}: arrays {sorted(a.files)}, committed {sorted(b.files)}"]
        out = []
        for k in b.files:
            x, y = a[k], b[k]
            if x.shape != y.shape or x.dtype != y.dtype:
                out.append(f"{where}[{k}]: {x.dtype}{x.shape}, committed {y.dtype}{y.shape}")
                continue
            if not np.issubdtype(y.dtype, np.floating):
                if not np.array_equal(x, y):
                    out.append(f"{where}[{k}]: values differ")
                continue
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                out.append(f"{where}[{k}]: NaN positions differ")
                continue
            fin = np.isfinite(y)
            if not np.array_equal(x[~fin & ~np.isnan(y)], y[~fin & ~np.isnan(y)]):
                out.append(f"{where}[{k}]: infinite entries differ")
                continue
            scale = float(np.max(np.abs(y[fin]))) if fin.any() else 0.0
            atol = art.scale * scale
            dev = np.abs(x[fin] - y[fin]) - art.rtol * np.abs(y[fin])
            if dev.size and float(dev.max()) > atol:
                i = int(np.argmax(dev))
                out.append(f"{where}[{k}]: largest excess at flat index {i}: {x[fin][i]!r} vs committed "
                           f"{y[fin][i]!r} (rtol {art.rtol:g}, atol {atol:.3g} = {art.scale:g} x max|ref|)")
        return out


def compare_text(new: str, ref: str, art: Artifact, where: str, strip: str = "") -> list[str]:
    if strip:
        new = new.replace(strip, "")
    if art.rtol == 0.0:
        if new == ref:
            return []
        for n, (a, b) in enumerate(zip(new.splitlines() + [""] * 99, ref.splitlines()), start=1):
            if a != b:
                return [f"{where}: line {n} differs: {a[:80]!r}, committed {b[:80]!r}"]
        return [f"{where}: {len(new.splitlines())} lines, committed {len(ref.splitlines())}"]
    a_lines, b_lines = new.splitlines(), ref.splitlines()
    if len(a_lines) != len(b_lines):
        return [f"{where}: {len(a_lines)} lines, committed {len(b_lines)}"]
    for n, (a, b) in enumerate(zip(a_lines, b_lines), start=1):
        if _NUM.split(a) != _NUM.split(b):
            return [f"{where}: line {n} differs in its words: {a[:80]!r}, committed {b[:80]!r}"]
        xs, ys = _NUM.findall(a), _NUM.findall(b)
        if len(xs) != len(ys) or not all(_close(float(x), float(y), art.rtol, 0.0) for x, y in zip(xs, ys)):
            return [f"{where}: line {n} numbers beyond rtol {art.rtol:g}: {a[:80]!r}, committed {b[:80]!r}"]
    return []


def _files(root: Path) -> set[str]:
    if root.is_file():
        return {""}
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name not in HAND_WRITTEN}


def compare(new: Path, ref: Path, art: Artifact, strip: str = "") -> list[str]:
    """Every mismatch between a regenerated artefact ``new`` and the committed ``ref`` (empty: they match)."""
    if ref.is_file():  # a single file: its siblings written by the same command (figures) go beside it
        pairs = [(new, ref)] + [(new.parent / p.name.replace(ref.stem, new.stem, 1), p)
                                for p in sorted(ref.parent.glob(ref.stem + "_*.png"))]
    else:
        a, b = _files(new), _files(ref)
        if a != b:
            return [f"{art.path}: files differ (only committed: {sorted(b - a)}, only regenerated: {sorted(a - b)})"]
        pairs = [(new / f, ref / f) for f in sorted(b)]
    out: list[str] = []
    for x, y in pairs:
        where = str(y.relative_to(ROOT)) if y.is_relative_to(ROOT) else str(y)
        if not x.is_file():
            out.append(f"{where}: not written by the command")
        elif y.suffix == ".png":
            continue
        elif y.suffix == ".npz":
            out += compare_npz(x, y, art, where)
        elif y.name == MARKER:  # its `files` manifest holds SHA-256s of numeric files compared above
            a, b = (json.loads(f.read_text()) for f in (x, y))
            out += compare_json({k: v for k, v in a.items() if k != "files"},
                                {k: v for k, v in b.items() if k != "files"}, art, where, strip)
        elif y.suffix == ".json":
            out += compare_json(json.loads(x.read_text()), json.loads(y.read_text()), art, where, strip)
        else:
            out += compare_text(x.read_text(), y.read_text(), art, where, strip)
    return out


def check(arts: list[Artifact], keep: bool = False, log=print) -> dict[str, list[str]]:
    """Regenerate each artefact from the committed inputs under out/ and compare; {path: mismatches}."""
    (ROOT / "out").mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="check-artifacts-", dir=ROOT / "out"))
    prefix = str(tmp.relative_to(ROOT)) + "/"
    result = {}
    try:
        for art in arts:
            dt = run(art, prefix + art.path)
            result[art.path] = compare(tmp / art.path, ROOT / art.path, art, strip=prefix)
            log(f"{'ok      ' if not result[art.path] else 'MISMATCH'} {art.path} ({dt:.0f} s)")
            for m in result[art.path][:20]:
                log(f"    {m}")
    finally:
        if keep:
            log(f"regenerated files kept under {prefix}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("regenerate", "check", "list"))
    ap.add_argument("names", nargs="*", help=f"only these ({', '.join(a.path for a in ARTIFACTS)})")
    ap.add_argument("--keep", action="store_true", help="check: keep the regenerated files under out/")
    args = ap.parse_args(argv)
    arts = by_name(args.names)
    if args.action == "list":
        for a in arts:
            print(f"{a.path}\n    $ fefet-spice {' '.join(a.path if x == '{out}' else x for x in a.args)}\n"
                  f"    arrays/text rtol {a.rtol:g}, array atol {a.scale:g} x max|ref|; JSON rtol {a.json_rtol:g} "
                  f"(stderr x10), correlations atol {a.json_atol:g}: {a.why}")
        return 0
    if args.action == "regenerate":
        for a in arts:
            print(f"$ fefet-spice {' '.join(a.path if x == '{out}' else x for x in a.args)}", flush=True)
            with _committed_file_aside(a):
                print(f"    {run(a, a.path):.0f} s", flush=True)
        return 0
    bad = [k for k, v in check(arts, keep=args.keep).items() if v]
    if bad:
        print(f"{len(bad)} committed artefact(s) no longer match their command: {', '.join(bad)}; "
              f"regenerate with `make artifacts` (or `python bench/artifacts.py regenerate {' '.join(bad)}`)")
        return 1
    print(f"all {len(arts)} committed artefact(s) match their commands within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
