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


def build_stages(args):
    from ..pipeline.cache import Stage
    from ..pipeline.stages import stage_model

    quick = args.quick
    return [
        Stage("model", "Compact model on the presets", stage_model,
              config={"seed": args.seed, "n_devices": 2 if quick else 4, "n_pulses": 32 if quick else 64},
              estimate_s=3),
    ]


def run(args) -> int:
    from .. import __version__
    from ..io.atomic import write_json
    from ..pipeline.cache import run_stages
    from ..pipeline.report import key_figure_text, write_report

    out = Path(args.out)
    records = run_stages(build_stages(args), out, __version__)
    meta = {"fefet_spice": __version__, "seed": args.seed, "configuration": "quick" if args.quick else "full"}
    summary = {"meta": meta, "stages": {r.name: {"title": r.title, "cached": r.cached, "seconds": r.seconds,
                                                 "key_figure": key_figure_text(r), "summary": r.summary}
                                        for r in records}}
    write_json(out / "summary.json", summary)
    report = write_report(out / "report.html", records, "fefet_spice report", meta)
    print(f"report: {report.resolve()}")
    print(f"summary: {(out / 'summary.json').resolve()}")
    return 0
