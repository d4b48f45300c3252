"""Printing for the ``servegraph`` command: help laid out as written, listings as tables or data.

Every sub-command gets these through :mod:`servegraph.cli`: ``Parser`` keeps
descriptions and epilogs as written (examples stay examples), and
``add_output_option`` / ``print_rows`` give any listing ``-o table|json|yaml``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

OUTPUTS = ("table", "json", "yaml")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose description and epilog keep their line breaks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


@dataclass
class Listing:
    """What ``servegraph get KIND`` prints: rows (JSON-ready dicts) and their table layout."""

    rows: list[dict[str, Any]]
    columns: Sequence[str]
    row: Callable[[dict[str, Any]], Sequence[Any]]


def hide_password(url: str) -> str:
    """A URL with its password masked.

    >>> hide_password("postgresql://me:secret@db:5432/x")
    'postgresql://me:***@db:5432/x'
    """
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def add_output_option(parser: argparse.ArgumentParser) -> None:
    """Add ``-o/--output table|json|yaml``."""
    parser.add_argument(
        "-o", "--output", choices=OUTPUTS, default="table", help="table (default), json or yaml"
    )


def short_id(value: Any, width: int = 8) -> str:
    """The first ``width`` characters of an id, as git shortens hashes.

    >>> short_id("4f2a9c1e0b7d4e4f8a1b2c3d4e5f6a7b")
    '4f2a9c1e'
    """
    return str(value or "")[:width]


def shorten(value: Any, limit: int = 40) -> str:
    """A dict as ``k=v, ...`` (or any value as text), cut to ``limit`` with an ellipsis.

    >>> shorten({"a": 1, "b": 2}), shorten("x" * 50, 10)
    ('a=1, b=2', 'xxxxxxxxx…')
    """
    if isinstance(value, dict):
        text = ", ".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
    else:
        text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# the columns people scan never wrap; free-text columns give way first
SCANNED = frozenset(
    {"uid", "name", "state", "started", "updated", "created", "key", "kind", "cron", "next", "id"}
)
FREE_TEXT = frozenset(
    {"parameters", "results", "metrics", "features", "entities", "functions", "workflows",
     "description", "command", "targets", "tags", "artifacts"}
)  # fmt: skip


def print_rows(
    rows: Sequence[Any],
    output: str,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    empty: str = "",
) -> None:
    """Print ``rows`` as JSON, YAML or a table of ``columns`` (``row(item)`` gives the cells).

    ``empty`` is printed (to stderr, for tables) when there is nothing to list,
    so an empty listing says where it looked.
    """
    if output == "json":
        print(json.dumps(list(rows), indent=2, default=str))
        return
    if output == "yaml":
        print(yaml.safe_dump(json.loads(json.dumps(list(rows), default=str)), sort_keys=False))
        return
    if not rows:
        print(empty or "nothing to list", file=sys.stderr)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in columns:
        if name in SCANNED:
            table.add_column(name.upper(), no_wrap=True)
        elif name in FREE_TEXT:
            table.add_column(name.upper(), overflow="ellipsis", no_wrap=True, max_width=40)
        else:
            table.add_column(name.upper(), overflow="fold")
    for item in rows:
        table.add_row(*(str(cell) for cell in row(item)))
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 200)
    console = Console(width=width)
    console.print(table)
