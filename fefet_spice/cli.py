"""The ``fefet-spice`` command line: one entry point, one module per subcommand.

Subcommands live in :mod:`fefet_spice.commands`; each module defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int`` and is discovered automatically.
Errors a user can act on (:class:`~fefet_spice.errors.FefetError`) print one sentence and exit 2;
``--verbose`` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

from . import __version__, commands
from .errors import FefetError


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{commands.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fefet-spice", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fefet-spice {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks and details")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except FefetError as exc:
        verbose = getattr(args, "verbose", False)
        if verbose:
            traceback.print_exc()
        text = str(exc).strip()
        first, _, rest = text.partition("\n")
        hint = " (--verbose shows the details)" if rest and not verbose else ""
        print(f"fefet-spice {args.command}: error: {text if verbose else first}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fefet-spice {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
