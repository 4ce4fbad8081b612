"""The README's commands are safe to paste: they parse as written (in sh: no brace expansion) and write only
under git-ignored folders, so running them leaves `git status` clean and the committed artefacts alone.

Generic over the README's wording: every `fefet-spice ...` command in a fenced or indented code block or an
inline code span is checked, and every output path given to `.save(...)`/`export_lut(...)` in Python blocks.
Templates whose sub-command is a placeholder (`fefet-spice COMMAND --help`) are skipped.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI = re.compile(r"^(?:\$\s*)?(?:\.venv/bin/)?fefet-spice\s")
#: options that name a file or folder the command writes (per sub-command where it differs)
OUTPUTS = {"out", "json", "plot"}
OUTPUTS_BY_COMMAND = {"netlist": {"energy"}}


def _code(text: str, inline: bool = True) -> tuple[list[str], list[str]]:
    """(shell-like command lines, python source blocks) from fenced/indented blocks and (``inline``) inline spans."""
    shell, python = [], []
    fenced = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```", re.S | re.M)
    for lang, body in fenced.findall(text):
        (python if lang.lower() in ("python", "py", "pycon") else shell).append(body)
    rest = fenced.sub("", text)
    blocks, cur = [], []
    for line in rest.splitlines():  # indented code blocks (4 spaces), continuation lines kept together
        if line.startswith("    ") and (cur or not line.strip().startswith(("*", "-"))):
            cur.append(line[4:])
        elif cur:
            blocks.append("\n".join(cur))
            cur = []
    blocks += ["\n".join(cur)] if cur else []
    shell += blocks
    lines = []
    for body in shell:
        for ln in body.replace("\\\n", " ").splitlines():
            ln = ln.split(" #")[0].strip()
            if CLI.match(ln):
                lines.append(ln)
    if inline:
        lines += [s.strip() for s in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", rest) if CLI.match(s.strip())]
    return lines, python


def _parser():
    from fefet_spice.cli import build_parser

    return build_parser()


def _parse(cmd: str):
    """argparse namespace of a README command, None for a placeholder template, or the error text."""
    argv = shlex.split(cmd)[1:]
    if argv and argv[0] == "$":
        argv = argv[1:]
    parser = _parser()
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if not argv or argv[0] not in commands:
        return None
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return parser.parse_args(argv)
    except SystemExit as exc:
        return None if exc.code == 0 else err.getvalue().strip().splitlines()[-1]


def _outputs(ns) -> list[str]:
    names = OUTPUTS | OUTPUTS_BY_COMMAND.get(ns.command, set())
    return [str(getattr(ns, n)) for n in sorted(names) if getattr(ns, n, None) not in (None, "-")]


def _ignored(paths: list[str]) -> set[str]:
    """The paths git ignores, whether or not they exist (a folder pattern such as `out/` matches a path that
    does not exist yet only through its contents, so `P/x` is asked too)."""
    if not paths:
        return set()
    probe = [q for p in paths for q in (p, p.rstrip("/") + "/x")]
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], input="\n".join(probe), text=True,
                          capture_output=True, cwd=ROOT)
    if proc.returncode not in (0, 1):
        pytest.skip(f"git check-ignore failed: {proc.stderr.strip()}")
    hits = set(proc.stdout.splitlines())
    return {p for p in paths if p in hits or p.rstrip("/") + "/x" in hits}


def _problems(text: str, inline: bool = True) -> list[str]:
    lines, python = _code(text, inline)
    problems, writes = [], []
    for cmd in lines:
        ns = _parse(cmd)
        if isinstance(ns, str):
            problems.append(f"`{cmd}` does not run as written in sh: {ns}")
        elif ns is not None:
            writes += [(cmd, p) for p in _outputs(ns)]
    for body in python:
        for call in re.findall(r"(?:\.save|export_lut)\(([^)]*)\)", body):
            writes += [("python: " + call.strip(), p) for p in re.findall(r"[\"']([^\"']+)[\"']", call) if "/" in p
                       or "." in p]
    ignored = _ignored([p for _, p in writes])
    problems += [f"writes {p}, which git does not ignore: `{cmd}`" for cmd, p in writes if p not in ignored]
    return problems


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_the_checker_flags_unsafe_commands():
    doc = "\n".join([
        "```sh", "fefet-spice fit measurements/weight -o fits/weight_ref.json", "```",
        "Then `fefet-spice export-lut luts/weight_ref --format {native,aihwkit}` and",
        "    fefet-spice simulate --preset weight --json p.json \\", "        --plot out/p.png",
        "```python", 'fit.save("fits/x.json")', "```",
        "`fefet-spice COMMAND --help`, `fefet-spice train --lut luts/weight_ref --json out/t.json`",
    ])
    problems = _problems(doc)
    written = {p.split(",")[0].removeprefix("writes ") for p in problems if p.startswith("writes ")}
    assert written == {"fits/weight_ref.json", "p.json", "fits/x.json"}, problems
    assert any("export-lut" in p and "does not run" in p for p in problems)
    assert len(problems) == 4, problems


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_readme_commands_parse_and_write_only_under_ignored_folders():
    problems = _problems(README.read_text())
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_docs_commands_write_only_under_ignored_folders(page):
    # code blocks only: the docs' prose names commands in inline spans (`fefet-spice fit`) without arguments
    problems = _problems((ROOT / "docs" / page).read_text(), inline=False)
    assert not problems, "\n".join(problems)
