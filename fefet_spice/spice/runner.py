"""Run an ngspice deck and return its vectors as numpy arrays.

Two back ends, same result: PySpice's shared ngspice (``NgSpiceShared``, in process) and a plain
``ngspice -b -r`` subprocess whose binary raw file is parsed here. ``backend="auto"`` uses the shared
library when it loads and falls back to the subprocess. Any failure — ngspice missing, a deck error,
a transient that does not converge, a NaN in the results — raises :class:`SimulatorError`.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from ..errors import SimulatorError

LIBNGSPICE_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libngspice.so.0", "/usr/lib/libngspice.so.0",
                         "/usr/local/lib/libngspice.so.0", "/usr/lib/aarch64-linux-gnu/libngspice.so.0")
_FAIL = re.compile(r"timestep too small|run simulation\(s\) aborted|singular matrix|"
                   r"could not find a valid|no such|unknown (?:subckt|model|device)|error on line|"
                   r"too few parameters|simulation interrupted|cannot recover", re.IGNORECASE)
_shared = None
_shared_lock = threading.Lock()
_loaded = False


def _vector_key(key: str) -> str:
    """Shared-library names (``vg#branch``, ``x1.q0``) in the raw-file form (``i(vg)``, ``v(x1.q0)``)."""
    key = key.lower()
    if key.endswith("#branch"):
        return f"i({key[:-7]})"
    if key == "time" or "(" in key:
        return key
    return f"v({key})"


def _check_output(text: str, what: str) -> None:
    hit = _FAIL.search(text)
    if hit:
        tail = "\n".join(line for line in text.splitlines() if line.strip())[-1500:]
        raise SimulatorError(f"ngspice {what} failed ({hit.group(0)!r}):\n{tail}")


def _check_vectors(vectors: dict[str, np.ndarray], what: str) -> dict[str, np.ndarray]:
    if not vectors:
        raise SimulatorError(f"ngspice {what}: no vectors were produced (did the analysis run?)")
    for key, arr in vectors.items():
        if not np.all(np.isfinite(arr)):
            raise SimulatorError(f"ngspice {what}: vector {key!r} contains NaN or inf (no convergence)")
    return vectors


def parse_raw(data: bytes) -> dict[str, np.ndarray]:
    """Parse an ngspice raw file (binary or ASCII, real data); the last plot wins. Keys are lower case."""
    out: dict[str, np.ndarray] = {}
    pos = 0
    while pos < len(data):
        head_end_b = data.find(b"Binary:\n", pos)
        head_end_a = data.find(b"Values:\n", pos)
        ends = [e for e in (head_end_b, head_end_a) if e >= 0]
        if not ends:
            break
        end = min(ends)
        header = data[pos:end].decode("ascii", "replace")
        nvar = int(re.search(r"No\. Variables:\s*(\d+)", header).group(1))
        npts = int(re.search(r"No\. Points:\s*(\d+)", header).group(1))
        if "complex" in re.search(r"Flags:\s*(.*)", header).group(1):
            raise SimulatorError("raw file: complex data is not supported")
        names = re.findall(r"^\s+\d+\s+(\S+)\s+\S+", header.split("\nVariables:", 1)[1], re.MULTILINE)[:nvar]
        body = end + len("Binary:\n")
        if end == head_end_b:
            count = nvar * npts
            arr = np.frombuffer(data, dtype="<f8", count=count, offset=body).reshape(npts, nvar)
            pos = body + 8 * count
        else:
            tokens = data[body:].split()
            vals, i = [], 0
            for _ in range(npts):
                i += 1  # point index
                vals.append([float(t) for t in tokens[i:i + nvar]])
                i += nvar
            arr = np.array(vals).reshape(npts, nvar)
            pos = len(data)
        out = {n.lower(): arr[:, j].copy() for j, n in enumerate(names)}
    return out


def run_subprocess(deck: str, timeout: float = 3600.0) -> dict[str, np.ndarray]:
    """Run ``deck`` with ``ngspice -b -r`` and return its vectors (``time``, ``v(node)``, ``i(src)``...)."""
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulatorError("ngspice is not installed (no 'ngspice' on PATH); `make setup` installs it")
    with tempfile.TemporaryDirectory(prefix="fefet_ng_") as tmp:
        cir, raw = Path(tmp) / "deck.cir", Path(tmp) / "out.raw"
        cir.write_text(deck, encoding="utf-8")
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw), str(cir)], capture_output=True, text=True,
                                  timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise SimulatorError(f"ngspice run exceeded {timeout:g} s") from None
        text = proc.stdout + "\n" + proc.stderr
        _check_output(text, "run")
        if proc.returncode != 0 or not raw.exists():
            raise SimulatorError(f"ngspice exited with code {proc.returncode}:\n{text[-1500:]}")
        return _check_vectors(parse_raw(raw.read_bytes()), "run")


def _load_shared():
    global _shared
    if _shared is not None:
        return _shared
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unsupported Ngspice version")
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared

        # PySpice logs "Unsupported Ngspice version" for every ngspice newer than 34; results agree with
        # the subprocess runner (tested), so keep that notice off the user's terminal.
        logging.getLogger("PySpice").setLevel(logging.ERROR)

        if "NGSPICE_LIBRARY_PATH" not in os.environ:
            for cand in LIBNGSPICE_CANDIDATES:
                if os.path.exists(cand):
                    NgSpiceShared.LIBRARY_PATH = cand
                    break
        try:
            _shared = NgSpiceShared.new_instance()
        except Exception as exc:  # OSError, NameError from cffi
            raise SimulatorError(f"could not load the ngspice shared library: {exc}") from exc
    return _shared


def run_shared(deck: str) -> dict[str, np.ndarray]:
    """Run ``deck`` in PySpice's shared ngspice (one in-process instance, serialized by a lock)."""
    with _shared_lock:
        ng = _load_shared()
        lines = [ln for ln in deck.splitlines() if ln.strip().lower() != ".end"]
        global _loaded
        if _loaded:
            ng.destroy()
            ng.remove_circuit()
        _loaded = True
        try:
            ng.load_circuit("\n".join(lines) + "\n.end\n")
            ng.run()
        except Exception as exc:
            raise SimulatorError(f"ngspice (shared) failed: {exc}\n{ng.stdout[-1500:]}") from exc
        _check_output(ng.stdout + "\n" + ng.stderr, "run (shared)")
        name = ng.last_plot
        if name == "const":
            raise SimulatorError(f"ngspice (shared): no analysis ran\n{ng.stdout[-1500:]}")
        plot = ng.plot(None, name)
        vectors = {_vector_key(k): np.array(v._data, dtype=float) for k, v in plot.items()}
        return _check_vectors(vectors, "run (shared)")


def run(deck: str, backend: str = "auto", timeout: float = 3600.0) -> dict[str, np.ndarray]:
    """Run ``deck`` with ``backend`` in ``{"auto", "shared", "subprocess"}``; vectors keyed lower case."""
    if backend == "subprocess":
        return run_subprocess(deck, timeout)
    if backend == "shared":
        return run_shared(deck)
    if backend != "auto":
        raise SimulatorError(f"unknown ngspice backend {backend!r}")
    try:
        _load_shared()
    except SimulatorError:
        return run_subprocess(deck, timeout)
    return run_shared(deck)
