"""Self-contained HTML report of a run: first the comparison with the reference paper, then one section
per stage (figures first, what they show, numbers with SI units, fitted parameters with uncertainties,
warnings, the command that reproduces the stage alone), provenance last. Figures are embedded as base64
PNG data URIs; the page works on a phone (responsive, tables scroll) and passes a basic accessibility check
(alt text on every figure, headings in order, ``lang``)."""
from __future__ import annotations

import base64
import html
import json
import platform
from pathlib import Path

from ..io.atomic import write_text
from ..units import si, si_pm
from .compare import PAPER, RULE, comparison_document, comparison_rows, explanations

_CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,sans-serif;max-width:60rem;margin:0 auto;
padding:0 1rem 3rem;color:#1b1b1b;line-height:1.45;font-size:16px}
h1{font-size:1.5rem;margin:1.2rem 0 .2rem}h2{font-size:1.25rem;border-bottom:2px solid #ccd;padding-bottom:.2rem;
margin-top:2.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;margin:.4rem 0;min-width:100%}
td,th{border:1px solid #d6d6de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f1f2f6}
td.num{font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.3rem 0}
.status{font-weight:700;white-space:nowrap}.s-match{color:#176b2c}.s-close{color:#8a5a00}.s-differs{color:#b3261e}
.s-nc,.s-missing{color:#555}.warn{background:#fff4e5;border-left:4px solid #d97706;padding:.5rem .8rem;margin:.6rem 0}
.warn strong{color:#8a3b00}figure{margin:.8rem 0}figure img{max-width:100%;height:auto;border:1px solid #e4e4ea}
figcaption{font-size:.92rem;color:#333}.meta{color:#555;font-size:.9rem}
pre{background:#f6f6f9;padding:.5rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap;word-break:break-all}
nav ol{padding-left:1.2rem}nav li,p,dd,figcaption{overflow-wrap:anywhere}.caveat{display:block;font-weight:400;font-size:.85rem;color:#6b4500;margin-top:.2rem}
.s-info,.s-notmeasured{color:#555}code{overflow-wrap:anywhere;word-break:break-all}
.prov td{overflow-wrap:anywhere;word-break:break-all}.prov th{overflow-wrap:anywhere}
.figscroll{overflow-x:auto;-webkit-overflow-scrolling:touch}.hint{display:none;font-size:.8rem;color:#555}
@media (max-width:40rem){.figscroll img{max-width:none;width:46rem}.hint{display:block}}
@media (max-width:40rem){#comparison,#comparison tbody,#comparison tr,#comparison td,#comparison th{display:block;
min-width:0}#comparison thead{position:absolute;left:-9999px}#comparison caption{display:block}#comparison tr{border:1px solid #d6d6de;margin:.5rem 0}
#comparison td,#comparison th{border:0;padding:.15rem .5rem}#comparison td::before{content:attr(data-label) ": ";
color:#555;font-weight:400}}a{color:#0b57d0}tr.warn-row td{background:#fff4e5}
"""

# Marks <body> once every image has decoded: lets a headless browser test check the report renders.
# Also records what a browser test checks: the first table's id, how many comparison rows are laid out
# visibly, images without alt text, and whether the page overflows the viewport sideways (phone check).
_LOAD_CHECK = ("<script>window.addEventListener('load',function(){var im=Array.from(document.images),"
               "d=document.body.dataset,t=document.querySelector('table');"
               "d.imageCount=im.length;d.imagesLoaded="
               "im.every(function(i){return i.complete&&i.naturalWidth>0&&i.offsetWidth>0;})?'all':'missing';"
               "d.imagesWithoutAlt=im.filter(function(i){return !(i.alt||'').trim();}).length;"
               "d.firstTable=t?t.id:'none';d.comparisonRows=Array.from(document.querySelectorAll("
               "'#comparison tbody tr')).filter(function(r){return r.offsetHeight>0;}).length;"
               "d.overflowX=document.documentElement.scrollWidth>window.innerWidth+1?'yes':'no';"
               # provenance tables (SHA-256) wrap instead of hiding text behind a scroll bar
               "d.provenanceCut=Array.from(document.querySelectorAll('.prov')).filter(function(t){"
               "var s=t.parentElement;return s.scrollWidth>s.clientWidth+1;}).length;"
               # the narrowest figure as laid out [CSS px]: readable figures keep their size and scroll
               "var w=Array.from(document.querySelectorAll('figure img')).map(function(i){return i.offsetWidth;});"
               "d.minFigureWidth=w.length?Math.min.apply(null,w):0;});</script>")

e = html.escape


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
        return text if len(text) < 160 else text[:157] + "..."
    return str(value)


def key_figure_text(record) -> str:
    """The stage's one-line key figure (also written to summary.json by the main job)."""
    kf = record.summary.get("key_figure")
    if not kf:
        return ""
    return f"{kf['label']}: {_fmt(kf['value'])}{(' ' + kf['unit']) if kf.get('unit') else ''}"


def _status_class(status: str) -> str:
    return "s-" + status.replace("/", "").replace(" ", "")


def _comparison(records) -> list[str]:
    rows = comparison_rows({r.name: r.summary for r in records})
    out = ["<section aria-labelledby='vs-paper'><h2 id='vs-paper'>This run against the paper</h2>",
           f"<p>Reference: {e(PAPER)}.</p><p id='rule'><b>How to read the status.</b> {e(RULE)} Each status "
           "links to its explanation; a caveat under a row's name qualifies that row.</p>",
           "<div class='scroll'><table id='comparison'><caption>Paper figures against this run</caption>",
           "<thead><tr><th scope='col'>quantity</th><th scope='col'>paper</th><th scope='col'>this run</th>"
           "<th scope='col'>ratio (this run ÷ paper)</th><th scope='col'>status</th></tr></thead><tbody>"]
    for r in rows:
        cav = f"<span class='caveat'>Caveat: {e(r.caveat)}</span>" if r.caveat else ""
        out.append(f"<tr><th scope='row'>{e(r.quantity)}{cav}</th><td class='num' data-label='paper'>{e(r.paper)}</td>"
                   f"<td class='num' data-label='this run'>{e(r.ours)}</td>"
                   f"<td class='num' data-label='ratio'>{e(r.delta)}</td>"
                   f"<td class='status {_status_class(r.status)}' data-label='status'>"
                   f"<a href='#why-{e(r.key)}'>{e(r.status)}</a></td></tr>")
    out.append("</tbody></table></div>")
    out.append("<h3 id='why'>Why the figures differ or match</h3><dl>")
    for anchor, title, text in explanations(rows):
        out.append(f"<dt id='{e(anchor)}'><b>{e(title)}</b></dt><dd>{e(text)}</dd>")
    out.append("</dl></section>")
    return out


def _img(path: str, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{e(alt)}" loading="eager" src="data:image/png;base64,{data}">'


def _figures(r) -> list[str]:
    captions = r.summary.get("captions", {})
    out = []
    for f in r.figures:
        cap = captions.get(Path(f).name) or f"{r.title}: {Path(f).stem.replace('_', ' ')}."
        out.append(f"<figure><div class='figscroll'>{_img(f, cap)}</div><span class='hint'>Scroll the figure "
                   f"sideways to read it.</span><figcaption>{e(cap)}</figcaption></figure>")
    return out


def _quantity_cell(q: dict) -> str:
    text = si_pm(q.get("value"), q.get("stderr"), q.get("unit", ""))
    if q.get("unit", "").startswith("("):
        text = f"{_fmt_plain(q.get('value'))} {q['unit']}"
    return text + (f" ({q['note']})" if q.get("note") else "")


def _fmt_plain(v) -> str:
    return "n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def _quantity_table(rows: list[dict], caption: str, head=("quantity", "value")) -> list[str]:
    if not rows:
        return []
    out = [f"<div class='scroll'><table><caption>{e(caption)}</caption><thead><tr><th scope='col'>{e(head[0])}</th>"
           f"<th scope='col'>{e(head[1])}</th></tr></thead><tbody>"]
    for q in rows:
        cls = " class='warn-row'" if q.get("warn") else ""
        out.append(f"<tr{cls}><th scope='row'>{e(q['label'])}</th><td class='num'>{e(_quantity_cell(q))}</td></tr>")
    out.append("</tbody></table></div>")
    return out


def _table(t: dict) -> list[str]:
    """A table of display text: ``{"caption", "head": [...], "rows": [[...], ...]}``."""
    head = "".join(f"<th scope='col'>{e(str(h))}</th>" for h in t["head"])
    out = [f"<div class='scroll'><table><caption>{e(t['caption'])}</caption><thead><tr>{head}</tr></thead><tbody>"]
    for row in t["rows"]:
        first, *rest = [str(c) for c in row]
        out.append(f"<tr><th scope='row'>{e(first)}</th>" + "".join(f"<td class='num'>{e(c)}</td>" for c in rest)
                   + "</tr>")
    out.append("</tbody></table></div>")
    return out


def _stage(r) -> list[str]:
    s = r.summary
    when = "reused from the cache" if r.cached else f"ran in {si(r.seconds, 's')}"
    out = [f"<section aria-labelledby='{e(r.name)}'><h2 id='{e(r.name)}'>{e(r.title)}</h2>",
           f"<p class='meta'>Stage {e(r.name)}, {when}.</p>"]
    for w in s.get("warnings", []):
        out.append(f"<p class='warn' role='note'><strong>Warning:</strong> {e(w)}</p>")
    figs = _figures(r)
    if figs:
        out.append(f"<h3 id='{e(r.name)}-figures'>Figures</h3>")
        out.extend(figs)
    if s.get("about"):
        out.append(f"<p>{e(s['about'])}</p>")
    if s.get("quantities") or s.get("tables"):
        out.append(f"<h3 id='{e(r.name)}-numbers'>Numbers</h3>")
        out.extend(_quantity_table(s.get("quantities") or [], f"{r.title}: results"))
        for t in s.get("tables") or []:
            out.extend(_table(t))
    for note in s.get("notes") or []:
        out.append(f"<p class='note'>{e(note)}</p>")
    for dev, rows in (s.get("parameters") or {}).items():
        out.append(f"<h3 id='{e(r.name)}-{e(dev)}-params'>Fitted parameters: {e(dev)} FeFET</h3>")
        out.extend(_quantity_table(rows, f"{dev} FeFET: fitted value ± standard error", ("parameter", "value ± error")))
    if s.get("commands"):
        out.append(f"<h3 id='{e(r.name)}-reproduce'>Reproduce this stage alone</h3>")
        out.append("<pre><code>" + e("\n".join(s["commands"])) + "</code></pre>")
    if r.files:
        out.append(f"<details><summary>Files written ({len(r.files)})</summary><p class='meta'>"
                   + ", ".join(e(str(f)) for f in r.files) + "</p></details>")
    out.append("</section>")
    return out


def _versions(records) -> dict[str, str]:
    import numpy

    out = {"python": platform.python_version(), "numpy": numpy.__version__}
    for mod in ("scipy", "lmfit", "matplotlib"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    for r in records:
        sim, ver = r.summary.get("simulator"), r.summary.get("simulator_version")
        if sim and ver:
            out[str(sim)] = str(ver)
    return out


def _provenance(records, meta: dict) -> list[str]:
    out = ["<section aria-labelledby='provenance'><h2 id='provenance'>Provenance</h2>",
           "<h3 id='prov-versions'>Versions and configuration</h3><div class='scroll'><table class='prov'><tbody>"]
    for k, v in {**{k: _fmt(v) for k, v in meta.items()}, **_versions(records)}.items():
        out.append(f"<tr><th scope='row'>{e(k)}</th><td>{e(str(v))}</td></tr>")
    out.append("</tbody></table></div><h3 id='prov-inputs'>Inputs (SHA-256)</h3><div class='scroll'><table class='prov'><tbody>")
    for r in records:
        for path, digest in (r.summary.get("inputs") or {}).items():
            out.append(f"<tr><th scope='row'>{e(path)}</th><td><code>{e(str(digest))}</code></td></tr>")
    out.append("</tbody></table></div><h3 id='prov-seeds'>Seeds and stage keys</h3><div class='scroll'><table class='prov'><tbody>")
    for r in records:
        seeds = ", ".join(f"{k} {v}" for k, v in (r.summary.get("seeds") or {}).items()) or "no randomness"
        out.append(f"<tr><th scope='row'>{e(r.title)}</th><td>seed: {e(seeds)}; cache key "
                   f"<code>{e(r.key[:16])}</code></td></tr>")
    out.append("</tbody></table></div></section>")
    return out


def render(records, title: str, meta: dict) -> str:
    """HTML text of the report for the given stage records."""
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
             f"<h1>{e(title)}</h1>",
             "<p class='meta'>" + " · ".join(f"{e(k)}: {e(_fmt(v))}" for k, v in meta.items()) + "</p>"]
    parts.extend(_comparison(records))
    parts.append("<nav aria-label='stages'><h2 id='contents'>Stages</h2><ol>")
    for r in records:
        parts.append(f"<li><a href='#{e(r.name)}'>{e(r.title)}</a>: {e(key_figure_text(r))}</li>")
    parts.append("</ol></nav>")
    for r in records:
        parts.extend(_stage(r))
    parts.extend(_provenance(records, meta))
    parts.append("</main>" + _LOAD_CHECK + "</body></html>\n")
    return "\n".join(parts)


def _fractions(obj):
    """``obj`` with every quantity in percent turned into a fraction (``"unit": "fraction"``): summary.json
    holds numbers as computed (an accuracy of 0.91 is 0.91), the text the report shows is in ``display``."""
    if isinstance(obj, list):
        return [_fractions(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _fractions(v) for k, v in obj.items()}
    if out.get("unit") == "%" and "label" in out:
        out["unit"] = "fraction"
        out["display"] = si_pm(obj.get("value"), obj.get("stderr"), "%")
    return out


def summary_document(records, meta: dict) -> dict:
    """What ``summary.json`` holds: the run's metadata, the comparison with the paper (rule, rows with their
    numbers) and every stage's summary; fractions are fractions (unit "fraction"), times in seconds."""
    return {"meta": meta, "units": "SI; fractions as fractions (unit 'fraction' or '1'), times in s",
            "comparison": comparison_document({r.name: r.summary for r in records}),
            "stages": {r.name: {"title": r.title, "cached": r.cached, "seconds": r.seconds,
                                "key_figure": key_figure_text(r), "summary": _fractions(r.summary)}
                       for r in records}}


def write_report(path: Path, records, title: str, meta: dict) -> Path:
    return write_text(path, render(records, title, meta))
