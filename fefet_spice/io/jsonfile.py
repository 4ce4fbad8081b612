"""Reading JSON files with errors that name the file and line."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import DataError


MAX_INT_DIGITS = 30
"""Longest integer literal a JSON input may hold (a 5,000-digit one would stop Python's int parser)."""


class _HugeInteger(Exception):
    pass


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _HugeInteger(digits)
    return int(text)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list) -> dict:
    """An object's members, refusing a key given twice (json keeps the last one silently)."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_json_object(path: str | os.PathLike, error: type[Exception] = DataError, missing: str = "",
                     bad: str = "") -> dict:
    """Parse ``path`` as a JSON object; any problem raises ``error`` naming the file (and line).

    ``missing`` and ``bad`` are hints appended to the no-such-file and not-valid-JSON messages.
    """
    from .inputs import MAX_INPUT_BYTES, kind_of, not_usable

    path = Path(path)
    kind = kind_of(path)
    if kind == "missing":
        raise error(f"{path}: no such file{missing}")
    if kind != "file":
        raise error(f"{path}: {not_usable(path)}")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise error(f"{path}: larger than the {MAX_INPUT_BYTES >> 20} MiB fefet-spice reads as JSON")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_int=_parse_int, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        from ..errors import shown

        raise error(f"{path}: the key {shown(exc.args[0])} is given twice in one object (which one is meant?)") from None
    except _HugeInteger as exc:
        raise error(f"{path}: an integer of {exc.args[0]} digits (at most {MAX_INT_DIGITS} are read)") from None
    except FileNotFoundError:
        raise error(f"{path}: no such file{missing}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}{bad})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text (corrupted?)") from None
    except OSError as exc:  # a folder, no permission, ...
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object at the top level")
    return data
