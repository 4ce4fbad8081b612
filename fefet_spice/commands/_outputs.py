"""What every result-producing subcommand does last: write its JSON and figure and say where."""
from __future__ import annotations

import sys
from typing import Any, Callable


def write_outputs(json_path: str | None, data: Any, plot_path: str | None, make_figure: Callable[[], Any]) -> None:
    """Atomically write ``data`` as JSON and the figure from ``make_figure()`` (built only when asked)."""
    from ..io.atomic import save_figure, write_json

    if json_path:
        write_json(json_path, data)
        print(f"wrote {json_path}")
    if plot_path:
        save_figure(make_figure(), plot_path)
        print(f"wrote {plot_path}")
    if not (json_path or plot_path):
        print("(use --json F and/or --plot F.png to keep the result)", file=sys.stderr)
