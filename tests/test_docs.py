"""Every code block in README.md and docs/*.md runs, so the docs cannot rot.

One test per file. Its fenced blocks run in document order, in a fresh
temporary working directory, with ``SERVEGRAPH_HOME`` isolated by the autouse
fixture of tests/conftest.py:

- ```` ```python ```` blocks run in one namespace per file (a throw-away module,
  so classes defined in a block resolve by name and by dotted path).
- ```` ```sh ````, ```` ```console ```` and ```` ```bash ```` blocks: each command
  (the text after a ``$ `` prompt in console blocks, every non-comment line in sh
  blocks) must start with ``servegraph `` or ``make ``. ``servegraph ...`` runs
  as ``python -m servegraph ...`` in a subprocess and must exit 0. ``make ...``
  is never run: ``make demo`` / ``make test`` build a virtualenv and run the
  whole demo or suite (the suite would run this test again).
- ``file=NAME`` in the info string (```` ```python file=train.py ````) writes the
  block to that file in the working directory instead of running it: the code
  a later block or command runs (a job's code, a workflow, an input file).
- The info string after the language marks blocks that need a service:
  ``redis`` blocks run against the Redis at 127.0.0.1:6379 and are skipped
  without it (the file's test then reports a skip after running everything
  else), except under ``CI=true`` where a missing Redis fails the test;
  ``notest`` blocks are shown, never run, and are for services the CI machine
  does not have (a Nuclio dashboard, a Kafka broker, S3, a remote function) and
  for commands that never exit (``servegraph serve``, ``monitor --schedule``).
- Other languages (yaml, text, json, mermaid) are data and are not run.
"""

from __future__ import annotations

import contextvars
import os
import re
import shlex
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REDIS_HOST, REDIS_PORT, _reachable

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON = {"python", "py"}
SHELL = {"sh", "console", "bash", "shell"}
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^`\n]*)\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


@dataclass
class Block:
    """One fenced block: its language, tags, first line number and text."""

    lang: str
    tags: set[str]
    line: int
    code: str


def extract_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order.

    >>> [b.lang for b in extract_blocks("a\\n```python\\nx = 1\\n```\\n```sh redis\\nls\\n```\\n")]
    ['python', 'sh']
    """
    blocks = []
    for match in FENCE.finditer(text):
        words = match["info"].split()
        lang = words[0].lower() if words else ""
        line = text.count("\n", 0, match.start("code")) + 1
        blocks.append(Block(lang, set(words[1:]), line, textwrap.dedent(match["code"])))
    return blocks


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block (``$ `` lines of a console block, else every line)."""
    lines = [line.strip() for line in block.code.splitlines()]
    if block.lang == "console":
        return [line[2:].strip() for line in lines if line.startswith("$ ")]
    return [line for line in lines if line and not line.startswith("#")]


def run_command(command: str, where: str, cwd: Path) -> None:
    """Run a ``servegraph ...`` line through ``python -m servegraph``; skip ``make ...``."""
    argv = shlex.split(command, comments=True)
    if argv[0] == "make":
        return
    assert argv[0] == "servegraph", (
        f"{where}: shell blocks may only hold 'servegraph ...' or 'make ...' commands, "
        f"got {command!r}"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "servegraph", *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"{where}: {command!r} exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


def redis_available() -> bool:
    """True when Redis answers; under CI=true a missing Redis fails instead."""
    if _reachable(REDIS_HOST, REDIS_PORT):
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} (CI=true)")
    return False


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = extract_blocks(path.read_text())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    name = "docs_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(work / f"{name}.py")
    monkeypatch.setitem(sys.modules, name, module)
    rel = path.relative_to(ROOT)
    environ = dict(os.environ)
    try:  # a fresh contextvars context: no run context leaks between files
        skipped = contextvars.Context().run(run_blocks, blocks, rel, module, work)
    finally:
        os.environ.clear()
        os.environ.update(environ)
    if skipped:
        pytest.skip(f"Redis not reachable: skipped the blocks at {', '.join(skipped)}")


def run_blocks(blocks: list[Block], rel: Path, module: types.ModuleType, work: Path) -> list[str]:
    """Run the blocks in order; return where the Redis blocks that were skipped are."""
    skipped = []
    for block in blocks:
        where = f"{rel}:{block.line}"
        if "notest" in block.tags:
            continue
        target = next((t[5:] for t in block.tags if t.startswith("file=")), None)
        if target is not None:
            (work / target).parent.mkdir(parents=True, exist_ok=True)
            (work / target).write_text(block.code)
            continue
        if "redis" in block.tags and not redis_available():
            skipped.append(where)
            continue
        if block.lang in PYTHON:
            code = compile("\n" * (block.line - 1) + block.code, str(rel), "exec")
            exec(code, module.__dict__)
        elif block.lang in SHELL:
            for command in shell_commands(block):
                run_command(command, where, work)
    return skipped


def test_extract_blocks_reads_tags_lines_and_indented_fences() -> None:
    text = (
        "# t\n\n```python redis\nx = 1\n```\n\n"
        "- item\n\n  ```console\n  $ servegraph get runs\n  out\n  ```\n"
    )
    blocks = extract_blocks(text)
    assert [(b.lang, b.tags, b.line) for b in blocks] == [
        ("python", {"redis"}, 4),
        ("console", set(), 10),
    ]
    assert shell_commands(blocks[1]) == ["servegraph get runs"]


def test_shell_lines_other_than_servegraph_or_make_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="only hold 'servegraph"):
        run_command("rm -rf /tmp/x", "doc.md:1", tmp_path)


def test_make_lines_are_not_run(tmp_path: Path) -> None:
    run_command("make demo   # sets up .venv", "README.md:3", tmp_path)  # returns without running


def test_every_doc_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in DOC_FILES[1:]:
        assert f"docs/{path.name}" in readme, f"README.md does not link docs/{path.name}"


def test_redis_blocks_are_skipped_without_redis_and_fail_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "_reachable", lambda host, port: False)
    monkeypatch.delenv("CI", raising=False)
    blocks = extract_blocks("```python redis\nraise AssertionError\n```\n```python\nx = 1\n```\n")
    module = types.ModuleType("docs_probe")
    assert run_blocks(blocks, Path("doc.md"), module, tmp_path) == ["doc.md:2"]
    assert module.x == 1
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        run_blocks(blocks, Path("doc.md"), module, tmp_path)


def test_file_blocks_are_written_not_run(tmp_path: Path) -> None:
    blocks = extract_blocks("```python file=pkg/job.py\nraise SystemExit(1)\n```\n")
    assert run_blocks(blocks, Path("doc.md"), types.ModuleType("docs_probe"), tmp_path) == []
    assert (tmp_path / "pkg" / "job.py").read_text() == "raise SystemExit(1)\n"
