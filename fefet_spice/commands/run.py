"""``fefet-spice run``: the main job, every stage end to end, cached, into one report."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "run"
HELP = "run the pipeline end to end on the reference data; writes OUT/report.html and OUT/summary.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="out", help="output folder (default out/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="reduced configuration (small Monte Carlo, few epochs)")
    p.add_argument("--measurements", default="measurements",
                   help="folder with weight/ and sparsity/ measurement folders (default measurements/)")
    p.add_argument("--dataset", default="auto",
                   help="training data: auto (the shared EMNIST letters ../shared/data/emnist_letters_aeprs.npz "
                        "when present, else digits) | digits | npz:PATH | emnist:FOLDER | emnist-npz:PATH")
    p.add_argument("--qv", nargs="+", metavar="FILE",
                   help="add a capacitor stage: fit the ferroelectric to the first Q-V trace (t, V, Q columns) and "
                        "predict the others from their V(t)")
    p.add_argument("--q-unit", help="--qv: charge unit when the header has none (C/cm2, uC/cm2, C/m2)")
    p.add_argument("--backend", choices=("ngspice", "numpy"), default="ngspice",
                   help="simulator of the characterization stage (default ngspice)")


def _dataset_inputs(spec: str, seed: int = 0) -> list[Path]:
    """Check ``--dataset`` before any stage runs (read and validated as the training stage will: headers,
    shapes, labels, images per class, informative images); the files it names become inputs of the
    training stage."""
    from ..errors import DataError, ParamError

    kind, _, path = spec.partition(":")
    if kind == "digits" and not path:
        return []
    if kind not in ("npz", "emnist", "emnist-npz") or not path:
        raise ParamError(f"--dataset: expected auto, digits, npz:PATH, emnist:FOLDER or emnist-npz:PATH, got {spec!r}")
    from ..io.inputs import kind_of, not_usable

    if kind_of(path) not in ("file", "folder"):
        raise DataError(f"--dataset: {path}: {not_usable(path)}")
    from ..train.bounds import check_dataset
    from ..train.data import load

    check_dataset(load(spec, seed=seed))  # bounded by the data readers' header checks; seconds at most
    return [Path(path)]


def build_stages(args):
    from ..errors import DataError
    from ..pipeline import stages as st
    from ..pipeline.cache import Stage
    from ..pipeline.stage_schemes import schemes_stage

    q = args.quick
    meas = Path(args.measurements)
    devices = ["weight"] if q else ["weight", "sparsity"]
    inputs = [meas / d for d in devices]
    for path in inputs:
        if not path.is_dir():
            raise DataError(f"{path}: no such measurement folder (give --measurements DIR with weight/ "
                            "and sparsity/ inside; see measurements/README.md)")
    from ..train.data import default_dataset

    dataset = default_dataset() if args.dataset == "auto" else args.dataset
    data_inputs = _dataset_inputs(dataset, args.seed)
    extra = []
    if getattr(args, "qv", None):
        from ..io.inputs import kind_of, not_usable
        from ..pipeline.stage_capacitor import capacitor_stage

        for f in args.qv:
            if kind_of(f) != "file":
                raise DataError(f"--qv: {f}: {not_usable(f)}")
        from ..api.capacitor import check_capacitor_job

        check_capacitor_job(args.qv, q_unit=args.q_unit)  # every file read and checked as the stage will
        extra.append(capacitor_stage(args.qv, q, args.q_unit))
    return [
        Stage("model", "Compact model on the presets", st.stage_model,
              config={"seed": args.seed, "n_devices": 2 if q else 4, "n_pulses": 32 if q else 64}, estimate_s=3),
        Stage("fit", "Fit to measurements", st.stage_fit, inputs=inputs,
              config={"measurements": str(meas), "devices": devices, "max_nfev": 60 if q else 200},
              estimate_s=8 if q else 30),
        Stage("netlists", "ngspice netlists and measured energies", st.stage_netlists, after=["fit"],
              estimate_s=2),
        Stage("characterize", "Conductance-update characterization", st.stage_characterize, after=["fit"],
              config={"backend": args.backend, "n_devices": 2 if q else 16, "n_pulses": 32 if q else 64,
                      "seed": args.seed}, estimate_s=4 if q else 30),
        Stage("export", "LUT export (native, aihwkit, NeuroSim, CrossSim)", st.stage_export,
              after=["characterize"], estimate_s=3),
        Stage("train", "On-chip training of MSNet (vau vs cell vs float)", st.stage_train,
              after=["characterize"], inputs=data_inputs,
              config={"rules": ["vau", "cell", "float"], "dataset": dataset, "seed": args.seed,
                      "epochs": 14 if q else None}, estimate_s=3 if q else 15),
        Stage("cost", "Weight-update cost model", st.stage_cost, after=["netlists"], estimate_s=5),
        schemes_stage(q),
        *extra,
    ]


def _code_hash() -> str:
    """SHA-256 over the package's own source: a changed stage implementation invalidates the cache."""
    import hashlib

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def run(args) -> int:
    from ..io.outdir import LOCK, exclusive, marker_command, write_marker

    from ..spice.runner import check_available

    out = Path(args.out)
    check_available()  # before any stage: the netlist, characterize and schemes stages run ngspice
    stages = build_stages(args)
    # (a summary.json or report.html that fefet-spice did not write was refused before: io.outdir.guard_outputs)
    out.mkdir(parents=True, exist_ok=True)
    with exclusive(out, "run"):
        if marker_command(out) is None and not [p for p in out.iterdir() if p.name != LOCK]:
            write_marker(out, NAME)  # ours from the start: a concurrent run sees whose folder it is
        return _run_locked(args, stages, out)


def _run_locked(args, stages, out: Path) -> int:
    from .. import __version__
    from ..io.atomic import write_json
    from ..pipeline.cache import run_stages
    from ..pipeline.report import summary_document, write_report

    records = run_stages(stages, out, f"{__version__}+{_code_hash()}", force=bool(getattr(args, "force", False)))
    meta = {"fefet_spice": __version__, "seed": args.seed, "configuration": "quick" if args.quick else "full"}
    write_json(out / "summary.json", summary_document(records, meta))
    report = write_report(out / "report.html", records, "fefet_spice report", meta)
    print(f"report: {report.resolve()}")
    print(f"summary: {(out / 'summary.json').resolve()}")
    return 0
