"""The ``servegraph`` command.

Each sub-command lives with the subpackage that owns it and exposes two
functions: ``add_parser(subparsers)`` and ``run(args) -> int``. This module only
wires them together, importing each lazily so ``servegraph --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from servegraph.errors import ServegraphError

# sub-command name -> module that implements it
COMMANDS: dict[str, str] = {
    "run": "servegraph.functions.commands.run",
    "get": "servegraph.functions.commands.get",
    "logs": "servegraph.functions.commands.logs",
    "project": "servegraph.functions.commands.project",
    "serve": "servegraph.serving.commands",
    "monitor": "servegraph.monitoring.commands",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="servegraph", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_path in COMMANDS.values():
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if not (module_path == missing or module_path.startswith(missing + ".")):
                raise  # the sub-command exists but one of its imports is broken
            continue  # sub-command not installed
        p = module.add_parser(sub)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args))
    except ServegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
