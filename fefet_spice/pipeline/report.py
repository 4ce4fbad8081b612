"""Self-contained HTML report: one section per stage, figures embedded as base64 PNG data URIs."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from ..io.atomic import write_text

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}.key{font-size:1.15em;background:#eef6ee;padding:.4em .8em;display:inline-block}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}.meta{color:#777;font-size:.9em}
"""


# Marks <body> once every image has decoded: lets a headless browser test check the report renders.
_LOAD_CHECK = ("<script>window.addEventListener('load',function(){var im=Array.from(document.images);"
               "document.body.dataset.imageCount=im.length;document.body.dataset.imagesLoaded="
               "im.every(function(i){return i.complete&&i.naturalWidth>0;})?'all':'missing';});</script>")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
        return text if len(text) < 160 else text[:157] + "..."
    return str(value)


def _flatten(summary: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for k, v in summary.items():
        if k == "key_figure":
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict) and len(v) <= 12 and all(not isinstance(x, dict) for x in v.values()):
            rows.extend(_flatten(v, prefix=f"{name}."))
        else:
            rows.append((name, v))
    return rows


def _img(path: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def key_figure_text(record) -> str:
    kf = record.summary.get("key_figure")
    if not kf:
        return ""
    return f"{kf['label']}: {_fmt(kf['value'])}{(' ' + kf['unit']) if kf.get('unit') else ''}"


def render(records, title: str, meta: dict) -> str:
    """HTML text of the report for the given stage records."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts.append("<p class='meta'>" + " · ".join(f"{html.escape(k)}: {html.escape(_fmt(v))}"
                                                 for k, v in meta.items()) + "</p>")
    parts.append("<h2>Key figures</h2><table><tr><th>stage</th><th>key figure</th><th>time</th></tr>")
    for r in records:
        when = "cached" if r.cached else f"{r.seconds:.1f} s"
        parts.append(f"<tr><td>{html.escape(r.title)}</td><td>{html.escape(key_figure_text(r))}</td>"
                     f"<td>{when}</td></tr>")
    parts.append("</table>")
    for r in records:
        parts.append(f"<h2 id='{html.escape(r.name)}'>{html.escape(r.title)}</h2>")
        if key_figure_text(r):
            parts.append(f"<p class='key'>{html.escape(key_figure_text(r))}</p>")
        rows = _flatten(r.summary)
        if rows:
            parts.append("<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>"
                                             for k, v in rows) + "</table>")
        parts.extend(_img(f) for f in r.figures)
        if r.files:
            parts.append("<p class='meta'>files: " + ", ".join(html.escape(f) for f in r.files) + "</p>")
    parts.append(_LOAD_CHECK)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(path: Path, records, title: str, meta: dict) -> Path:
    return write_text(path, render(records, title, meta))
