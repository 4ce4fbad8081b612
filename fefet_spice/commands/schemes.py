"""``fefet-spice schemes``: programming schemes x pulse widths measured in ngspice, each point through the
cost model (VGG-8 and MSNet); writes schemes.json (``fefet-schemes/1``), a table and a figure."""
from __future__ import annotations

import argparse
import re

NAME = "schemes"
HELP = "programming schemes and pulse widths in ngspice -> energy, disturb, levels and index-free gains"
_SI = {"": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12}
MAX_WIDTHS = 16
"""Most pulse widths of one ``schemes`` run (each width is a set of ngspice runs per scheme; default 3)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", default="fits/weight_ref.json", help="weight FeFET: parameter/fit file or preset")
    p.add_argument("--sparsity", default="sparsity", help="sparsity FeFET: parameter file or preset")
    p.add_argument("--schemes", default="paper,v3,dil_follow",
                   help="comma-separated scheme names or 'all' (see docs/cost_model.md)")
    p.add_argument("--widths", default="10n,100n,1u", help="pulse widths, e.g. 10n,100n,1u [s]")
    p.add_argument("--amplitudes", default="auto",
                   help="'auto': per scheme and width the target drive that gives the reference update per "
                        "pulse in the ngspice cell; 'law': the same from the domain law alone (no circuit); "
                        "or one number [V] per width, comma-separated")
    p.add_argument("--budget-levels", type=float, default=1.0,
                   help="disturb budget after a whole VGG-8 training run's half-selects [levels] (default 1)")
    p.add_argument("--target", type=float, default=5.0, help="index-free vs element-sparse energy gain sought")
    p.add_argument("--n-train", type=int, default=24, help="pulses per polarity for the level count")
    p.add_argument("--area-scale", type=float, default=1.0,
                   help="multiply the weight FeFET's ferroelectric capacitor area (gate capacitance and switched "
                        "charge; kinetics and memory window unchanged) — the what-if of the answer")
    p.add_argument("--channel-scale", type=float, default=1.0,
                   help="multiply the weight FeFET's channel width (conduction and read conductance with it)")
    p.add_argument("--backend", default="auto", choices=("auto", "shared", "subprocess"))
    p.add_argument("-o", "--out", default="out/schemes", help="output folder")


def parse_widths(text: str) -> list[float]:
    from ..errors import ParamError

    items = text.split(",")
    if len(items) > MAX_WIDTHS:
        raise ParamError(f"--widths: {len(items)} widths given; at most {MAX_WIDTHS} per run")
    out = []
    for item in items:
        m = re.fullmatch(r"\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)\s*([munp]?)s?\s*", item)
        if not m:
            raise ParamError(f"--widths: cannot read {item!r} (use e.g. 10n,100n,1u)")
        w = float(m.group(1)) * _SI[m.group(2)]
        if not 1e-10 <= w <= 1e-3:
            raise ParamError(f"--widths: {item!r} is outside 0.1 ns .. 1 ms")
        same = [i for i, v in enumerate(out) if abs(v - w) <= 1e-9 * w]
        if same:
            raise ParamError(f"--widths: {item.strip()!r} is the same width as {items[same[0]].strip()!r} "
                             f"({w:g} s); give each width once")
        out.append(w)
    return out


def _amplitudes(spec: str, n: int) -> list[float] | str:
    from ..errors import ParamError

    if spec in ("auto", "law"):
        return spec
    try:
        vals = [float(x) for x in spec.split(",")]
    except ValueError:
        raise ParamError(f"--amplitudes: expected 'auto', 'law' or numbers, got {spec!r}") from None
    if len(vals) != n or any(not 0 < v < 20 for v in vals):
        raise ParamError(f"--amplitudes: give {n} values in (0, 20) V, one per width")
    return vals


def run(args) -> int:
    from .. import api
    from ..array.schemes import SCHEMES
    from ..io.params_file import resolve_params

    names = list(SCHEMES) if args.schemes == "all" else [s.strip() for s in args.schemes.split(",")]
    widths = parse_widths(args.widths)
    res = api.schemes(resolve_params(args.params), resolve_params(args.sparsity), names, widths,
                      amplitudes=_amplitudes(args.amplitudes, len(widths)), budget_levels=args.budget_levels,
                      target=args.target, n_train=args.n_train, area_scale=args.area_scale,
                      channel_scale=args.channel_scale, backend=args.backend, source=args.params,
                      progress=lambda line: print(line, flush=True))
    print(res.table())
    print(res.answer)
    files = res.save(args.out)
    print(f"wrote {', '.join(str(f) for f in files[-3:])}")
    return 0


def scheme_record(sc) -> dict:
    """A scheme's line voltages and kept-cell drives for the JSON (see :func:`fefet_spice.api.schemes.scheme_record`)."""
    from ..api.schemes import scheme_record as record

    return record(sc)
