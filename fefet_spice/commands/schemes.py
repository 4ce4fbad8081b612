"""``fefet-spice schemes``: programming schemes x pulse widths measured in ngspice, each point through the
cost model (VGG-8 and MSNet); writes schemes.json (``fefet-schemes/1``), a table and a figure."""
from __future__ import annotations

import argparse
import re

NAME = "schemes"
HELP = "programming schemes and pulse widths in ngspice -> energy, disturb, levels and index-free gains"
SCHEMA = "fefet-schemes/1"
_SI = {"": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12}


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

    out = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)\s*([munp]?)s?\s*", item)
        if not m:
            raise ParamError(f"--widths: cannot read {item!r} (use e.g. 10n,100n,1u)")
        w = float(m.group(1)) * _SI[m.group(2)]
        if not 1e-10 <= w <= 1e-3:
            raise ParamError(f"--widths: {item!r} is outside 0.1 ns .. 1 ms")
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
    import time
    from pathlib import Path

    from .. import presets
    from ..array.schemes import SCHEMES, get_scheme
    from ..cost.energy_file import device_from_dict, device_to_dict
    from ..cost.report import build_report
    from ..cost.networks import get_network, preset_sparsity
    from ..cost.schemes import disturb_pulse_counts, gains, point_device, required_write_scale
    from ..errors import ParamError
    from ..io.atomic import save_figure, write_json, write_text
    from ..io.params_file import resolve_params
    from ..spice.energy import measure_energies
    from ..spice.scheme_points import (LEVELS_USED, circuit_equal_update_amplitude, equal_update_amplitude,
                                       measure_point)
    from ..cost.scheme_report import answer, format_table, plot_schemes

    names = list(SCHEMES) if args.schemes == "all" else [s.strip() for s in args.schemes.split(",")]
    schemes = [get_scheme(n) for n in names]
    widths = parse_widths(args.widths)
    amps = _amplitudes(args.amplitudes, len(widths))
    if args.budget_levels <= 0 or args.target <= 0 or args.n_train < 4:
        raise ParamError("--budget-levels and --target must be > 0, --n-train >= 4")
    if not (0 < args.area_scale <= 100 and 0 < args.channel_scale <= 100):
        raise ParamError("--area-scale and --channel-scale must be in (0, 100]")
    weight = presets.nominal(resolve_params(args.params))
    if args.area_scale != 1.0 or args.channel_scale != 1.0:
        from dataclasses import replace

        weight = replace(weight, ferro=replace(weight.ferro, area=weight.ferro.area * args.area_scale),
                         channel=replace(weight.channel, width=weight.channel.width * args.channel_scale))
    sparsity = presets.nominal(resolve_params(args.sparsity))
    out = Path(args.out)
    t0 = time.time()
    base = device_from_dict(measure_energies(weight, sparsity, backend=args.backend), "ngspice base energies")
    counts = disturb_pulse_counts("vgg8")
    points = []
    for sc in schemes:
        for k, w in enumerate(widths):
            residual, a_dn = None, None
            if amps == "auto":
                a, r_up = circuit_equal_update_amplitude(weight, sparsity, sc, w, backend=args.backend)
                a_dn, r_dn = circuit_equal_update_amplitude(weight, sparsity, sc, w, backend=args.backend, polarity=-1)
                residual = max(abs(r_up), abs(r_dn))
            elif amps == "law":
                a = equal_update_amplitude(weight, w)
            else:
                a = amps[k]
            pt = measure_point(weight, sparsity, sc, w, a, counts, n_train=args.n_train, backend=args.backend,
                               amplitude_down=a_dn)
            pt["amplitude_source"] = amps if isinstance(amps, str) else "given"
            pt["amplitude_residual_p"] = residual
            pt["law_amplitude_v"] = equal_update_amplitude(weight, w)
            dev = point_device(base, pt)
            pt.update(gains(dev))
            pt["meets_budget"] = bool(pt["disturb_levels"] < args.budget_levels)
            pt["writes"] = bool(pt["levels"] >= LEVELS_USED)
            pt["half_channel_over_write"] = pt["half_select_channel_energy_j"] / pt["write_energy_per_pulse_j"]
            pt["required_write_scale"] = required_write_scale(base, pt, args.target)
            pt["required_area_scale"] = required_write_scale(base, pt, args.target, part="gate")
            stem = f"{sc.name}_{w:.0e}".replace("+", "")
            rec = device_to_dict(dev)
            pt["energy_file"] = str(write_json(out / "energy" / f"{stem}.json", rec))
            for net in ("vgg8", "msnet"):
                rep = build_report(net, get_network(net), preset_sparsity(net), dev, base_arch(), rec, "preset")
                write_json(out / "cost" / f"{stem}_{net}.json", rep)
            points.append(pt)
            print(f"[{time.time() - t0:6.1f} s] {sc.name:14s} {w:8.1e} s  D={a:.2f} V  write {pt['write_energy_per_pulse_j']:.2e} J  "
                  f"half {pt['half_select_gate_energy_j']:.2e}+{pt['half_select_channel_energy_j']:.2e} J  "
                  f"levels {pt['levels']}  disturb {pt['disturb_levels']:.2g}  "
                  f"gain vs element {pt['gain_energy_vs_element_vgg8']:.2f}x", flush=True)
    doc = {"schema": SCHEMA, "weight": weight.name, "sparsity": sparsity.name, "params": args.params,
           "area_scale": args.area_scale, "ferro_area_m2": weight.ferro.area,
           "channel_scale": args.channel_scale, "channel_width_m": weight.channel.width,
           "widths_s": widths, "budget_levels": args.budget_levels, "target_gain": args.target,
           "disturb_pulses_vgg8_run": counts, "levels_used": LEVELS_USED,
           "base_energy": device_to_dict(base),
           "schemes": {sc.name: scheme_record(sc) for sc in schemes},
           "points": points, "wall_time_s": time.time() - t0}
    doc["answer"] = answer(doc)
    table = format_table(doc)
    print(table)
    print(doc["answer"])
    write_text(out / "schemes.txt", table + "\n" + doc["answer"] + "\n")
    write_json(out / "schemes.json", doc)
    save_figure(plot_schemes(doc), out / "schemes.png")
    print(f"wrote {out / 'schemes.json'}, {out / 'schemes.txt'}, {out / 'schemes.png'}")
    return 0


def scheme_record(sc) -> dict:
    """A scheme's line voltages and kept-cell drives for the JSON (a floating DIL's drives: null)."""
    return {**sc.to_dict(), "drives": {k: (None if v != v else v) for k, v in sc.drives().items()}}


def base_arch():
    from ..cost.params import ArchParams

    return ArchParams()
