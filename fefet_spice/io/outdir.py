"""Output paths are owned: fefet-spice writes only into folders it created (or that carry its marker).

A command with an output folder (``-o``) writes ``.fefet-spice-output.json`` (:data:`MARKER`) at the top
of it. Later runs of the same command may write there again; any other non-empty folder — a user's
folder, the checkout root, a folder of another command — is refused with one sentence unless
``--force`` is given, and even then nothing fefet-spice did not create is deleted. Output files
(``--json``, ``--plot``, ``fit -o`` and its figures) may replace an existing file only when fefet-spice wrote
it and nobody changed it since (:mod:`.ledger`), it has the expected suffix and it lies outside the
package's own source folders. Every check runs before any work starts.
"""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import FefetError
from .ledger import LEDGER, refuse_foreign

MARKER = ".fefet-spice-output.json"
LOCK = ".fefet-spice.lock"
SCHEMA = "fefet-spice-output/1"
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
_SOURCE_DIRS = ("fefet_spice", "tests", "docs", "bench", ".git", ".venv")


class OutputError(FefetError):
    """An output path that fefet-spice must not write (not ours, not a folder, protected)."""


def repo_root() -> Path | None:
    """The checkout this package runs from (None when installed elsewhere)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "fefet_spice").is_dir() else None


def _protected(path: Path) -> str | None:
    """Why ``path`` is off limits regardless of markers (None: it is not)."""
    real = path.resolve()
    if real == Path(real.anchor) or real == Path.home().resolve():
        return "it is the file system root or your home folder"
    root = repo_root()
    if root is None:
        return None
    if real == root or real in root.parents:
        return "it is the checkout root (or above it)"
    for name in _SOURCE_DIRS:
        if real == root / name or (root / name) in real.parents:
            return f"it is inside the package's own {name}/ folder"
    return None


def marker_command(folder: Path) -> str | None:
    """The command named by ``folder``'s marker, or None (no marker or unreadable)."""
    import json

    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("command") if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def write_marker(folder: Path, command: str) -> None:
    """Mark ``folder`` as written by ``fefet-spice command`` (deterministic content)."""
    from .atomic import write_json

    write_json(folder / MARKER, {"schema": SCHEMA, "command": command,
                                 "note": f"written by `fefet-spice {command}`; other commands refuse to write here "
                                         "without --force", "files": {}})


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise OutputError(f"{folder}: cannot list the output folder ({exc.strerror or exc})") from None


def claim_dir(path: str | os.PathLike, command: str, force: bool = False, option: str = "-o") -> bool:
    """Check that ``command`` may write into folder ``path`` (nothing is created yet).

    Returns True when the folder should get the marker once the command has written it (it is new, empty
    or already ours), False when ``--force`` let the command into a folder that stays someone else's.
    """
    folder = Path(path)
    hint = " (--force writes beside its files; it never deletes or replaces a file fefet-spice did not write)"
    why = _protected(folder)
    forcible = bool(why) and why.startswith("it is the file system root or your home")  # not the checkout
    if why and not (force and forcible):                                 # or its source, even with --force
        raise OutputError(f"{option} {folder}: refusing to write there: {why}{hint if forcible else ''}")
    if not (folder.exists() or folder.is_symlink()):
        probe = folder.parent
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise OutputError(f"{option} {folder}: {probe} is a file, not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {folder}: cannot create it, {probe} is not writable")
        return True
    if folder.is_symlink():  # its files would be checked and guarded under another name: never written through
        raise OutputError(f"{option} {folder}: is a link; give the folder it points to ({os.path.realpath(folder)})")
    if not folder.is_dir():
        raise OutputError(f"{option} {folder}: exists and is not a folder")
    owner = marker_command(folder)
    entries = [e for e in _entries(folder) if e not in (MARKER, LOCK, LEDGER)]
    if owner is not None and owner != command and not force:
        raise OutputError(f"{option} {folder}: this folder belongs to `fefet-spice {owner}`, not "
                          f"`fefet-spice {command}`; choose another folder{hint}")
    if owner is None and entries and not force:
        raise OutputError(f"{option} {folder}: the folder is not empty and was not written by fefet-spice "
                          f"(it holds {entries[0]!r}); choose a new or empty folder{hint}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {folder}: the folder is not writable")
    return owner == command or not entries


_CLAIMS: dict[str, bool] = {}  # claimed output folder -> the folder is (or becomes) the command's own


def mark(folder: str | os.PathLike, command: str) -> None:
    """Record the marker and its manifest (every file this run wrote, with its hash) on a claimed folder
    once the command has run (quietly skipped if it cannot be written). A marker from before manifests on
    the command's own folder (the committed folders) is left as it is."""
    from .manifest import manifest_of, read_marker, record, release

    folder = Path(folder)
    guard = release(folder)
    ours = _CLAIMS.pop(str(folder), True)
    if not folder.is_dir():
        return
    data = read_marker(folder)
    if data is not None and data.get("command") == command and manifest_of(folder) is None:
        return
    if data is None and not ours and not (guard and guard.written):
        return  # --force into a foreign folder that this run did not write into
    try:
        record(folder, command if ours else None, guard.written if guard else set())
    except (OSError, FefetError):
        pass


def release_all() -> None:
    """Forget every claim and write guard of this process (the command has ended)."""
    from . import ledger
    from .manifest import _GUARDS

    _GUARDS.clear()
    _CLAIMS.clear()
    ledger.release_all()


def planned_outputs(command: str, args) -> tuple[str, ...]:
    """Name patterns (relative to the output folder) of the files ``command`` writes there."""
    if command == "characterize":
        return ("lut.npz", "lut.json", "characterization.json", "g_vs_pulse.png", "dg_vs_g.png")
    if command == "gen-measurements":
        devices = _get(args, "device") or ("weight", "sparsity")
        return tuple(p for d in devices for p in (f"{d}/*.csv", f"{d}/truth.json")) + ("holdout/*.csv",)
    if command == "netlist":
        return (("*.cir", "*.lib") if _get(args, "all") else ()) + ("*.va", "netlists.json")
    if command == "export-lut":
        per = {"native": ("lut.json", "lut.npz"), "aihwkit": ("aihwkit_*.json",), "neurosim": ("neurosim*",),
               "crosssim": ("dG_*.txt",)}
        return per.get(_get(args, "format"), ("*",)) + ("export_*.json",)
    if command == "schemes":
        return ("schemes.json", "schemes.txt", "schemes.png", "energy/*.json", "cost/*.json")
    if command == "run":
        return ("summary.json", "report.html")
    if command == "device-sweep":
        return ("ideal/*", "noisy/*", "nonlinear/*") if _get(args, "make_luts") else ("sweep.json", "sweep.csv",
                                                                                      "sweep.png")
    return ("*",)


def guard_outputs(folder: Path, command: str, args, ours: bool) -> None:
    """Before any work: refuse a clash of the command's outputs with a foreign file of ``folder``, and
    protect every foreign file there from this run's writes (see :mod:`fefet_spice.io.manifest`)."""
    from .manifest import check_clashes, foreign_files, guard

    foreign = foreign_files(folder, command, shallow=command == "run") if folder.is_dir() else set()
    check_clashes(folder, foreign, planned_outputs(command, args))
    guard(folder, foreign)
    _CLAIMS[str(folder)] = ours


def claim_file(path: str | os.PathLike, option: str, suffixes: tuple[str, ...] | None = None,
               force: bool = False, command: str | None = None) -> Path:
    """Check an output file before any work: not a folder or device, expected suffix when it would
    replace an existing file, outside the package's source, and its folder creatable."""
    target = Path(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise OutputError(f"{option} {str(path)!r}: not a file name")
    why = _protected(target.parent) if target.parent != Path("") else _protected(Path("."))
    if why and why.startswith("it is inside"):  # the package's own source: never, even with --force
        raise OutputError(f"{option} {target}: refusing to write there: {why}")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{option} {target}: cannot be used as an output file ({exc.strerror or exc})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{option} {target}: is a folder, expected a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{option} {target}: is not a regular file (a device, FIFO or socket)")
        if suffixes and target.suffix.lower() not in suffixes:
            raise OutputError(f"{option} {target}: would replace an existing file that is not a "
                              f"{'/'.join(suffixes)} file (even --force never replaces it)")
    refuse_foreign(target, option, command)  # an existing file is replaced only if this command wrote it
    parent = target.parent if str(target.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"{option} {target}: {probe} is a file, not a folder")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {target}: the folder {probe} is not writable")
    return target


def _get(args, name):
    return getattr(args, name, None)


FIT_FIGURES = ("channel", "loops", "kinetics", "qv", "one_pulse", "mw")
"""Every figure ``fit -o NAME.json`` may write beside it, as ``NAME_<stage>.png`` (by the kind of fit)."""


def _named_files(command: str, args) -> list[tuple[str, str, tuple[str, ...]]]:
    """(option, path, suffixes) of every named output file of ``command``."""
    named = [(opt, _get(args, dest), (".json",)) for opt, dest in (("--json", "json"), ("--energy", "energy"))
             if _get(args, dest) and not (command == "cost" and dest == "energy")]  # cost --energy is an input
    if _get(args, "plot"):
        named.append(("--plot", args.plot, FIGURE_SUFFIXES))
    if command == "fit" and _get(args, "out"):
        out = Path(args.out)
        named.append(("-o", str(out), (".json",)))
        figures = () if _get(args, "no_plots") or out.name in ("", ".", "..") else (  # no name: refused below
            ("qv",) if _get(args, "qv") else ("one_pulse",) if _get(args, "one_pulse") else
            ("mw",) if _get(args, "mw_table") else ("channel", "loops", "kinetics"))
        named += [("-o", str(out.with_name(f"{out.stem}_{f}.png")), (".png",)) for f in figures]
    return named


def prepare_outputs(command: str, args) -> list[Path]:
    """Check every output path of ``command`` before it starts (the central ``-o`` rule); returns the
    output folders to :func:`mark` once the command has run."""
    force = bool(getattr(args, "force", False))
    for opt, dest in (("-o", "out"), ("--cache", "cache"), ("--make-luts", "make_luts")):
        if isinstance(_get(args, dest), str) and not _get(args, dest).strip():
            raise OutputError(f"{opt} {_get(args, dest)!r}: not a folder or file name")
    seen: dict[str, str] = {}
    for opt, path, suffixes in _named_files(command, args):
        key = os.path.realpath(path)  # two spellings of one file, also through a link
        if key in seen:
            raise OutputError(f"{seen[key]} and {opt} name the same file {path}; give each its own name")
        seen[key] = opt
        claim_file(path, opt, suffixes, force, command)
    cache = _get(args, "cache") if command == "characterize" else None
    if cache and not (Path(cache) / "run.json").is_file():  # a cache of ours holds run.json
        claim_dir(cache, command, force, "--cache")
        if Path(cache).is_dir():  # not a cache of ours: none of its files may be replaced, even with --force
            from .manifest import check_clashes, present_files

            check_clashes(Path(cache), present_files(Path(cache), shallow=True), ("job_*.npz", "run.json"),
                          "--cache")
    out = _get(args, "out")
    if command == "fit":
        out = None  # a file, claimed above
    elif command == "export-lut":
        if out is None and _get(args, "lut"):
            src = Path(args.lut)
            out = (src.parent if src.name == "lut.json" else src) / f"export_{args.format}"
    elif command == "netlist" and not (_get(args, "all") or _get(args, "verilog_a")):
        out = None
    elif command not in ("characterize", "gen-measurements", "run", "netlist", "schemes"):
        out = None
    if out:
        guard_outputs(Path(out), command, args, claim_dir(out, command, force))
        return [Path(out)]
    return []


@contextmanager
def exclusive(folder: Path, what: str = "run") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a second ``run -o`` into it is refused, not raced)."""
    import fcntl

    lock_path = Path(folder) / LOCK
    try:
        fh = open(lock_path, "a+")
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the lock file ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"{folder}: another fefet-spice {what} is writing into this folder; wait for it "
                              "or choose another -o") from None
        yield
    finally:
        fh.close()
