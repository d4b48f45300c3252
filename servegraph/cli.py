"""servegraph: serve ML graphs, run functions and track what they did.

Each sub-command lives with the subpackage that owns it and exposes two
functions: ``add_parser(subparsers)`` and ``run(args) -> int``. This module only
wires them together, importing each lazily so ``servegraph --help`` stays fast.
Every sub-command's parser is a :class:`servegraph.console.Parser`: its
description and epilog keep their line breaks (write examples in ``epilog``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from servegraph.console import Parser
from servegraph.errors import ServegraphError

# sub-command name -> module that implements it
COMMANDS: dict[str, str] = {
    "run": "servegraph.functions.commands.run",
    "get": "servegraph.functions.commands.get",
    "logs": "servegraph.functions.commands.logs",
    "project": "servegraph.functions.commands.project",
    "promote": "servegraph.functions.commands.models",
    "lineage": "servegraph.monitoring.lineage_command",
    "serve": "servegraph.serving.commands",
    "batch": "servegraph.serving.batch_command",
    "deploy": "servegraph.functions.commands.deploy",
    "ps": "servegraph.functions.commands.ps",
    "stop": "servegraph.functions.commands.stop",
    "monitor": "servegraph.monitoring.commands",
    "features": "servegraph.featurestore.commands",
    "config": "servegraph.functions.commands.config",
    "schedule": "servegraph.functions.commands.schedule",
    "scheduler": "servegraph.functions.commands.scheduler",
    "ui": "servegraph.ui.commands",
}

DESCRIPTION = "servegraph: serve ML graphs, run functions and track what they did."
EXAMPLES = """\
examples:
  servegraph serve app.py --port 8080          # a serving graph over HTTP
  servegraph run -p p1=5 train.py              # run code, tracked in the run database
  servegraph get runs                          # what ran (also: models, functions, schedules...)
  servegraph logs 4f2a9c1e                     # a run's log, by uid prefix
  servegraph project run main -c ./churn       # a project's workflow
  servegraph config                            # where state lives, and why
  servegraph ui                                # the web dashboard on http://127.0.0.1:8060/

Run 'servegraph COMMAND --help' for a command's options and examples.
"""


def _version() -> str:
    from servegraph import __version__

    return f"servegraph {__version__}"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or of ``only`` that one (so ``servegraph serve``
    imports the serving command alone, not the feature store, run database or UI)."""
    parser = Parser(prog="servegraph", description=DESCRIPTION, epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    modules = [COMMANDS[only]] if only in COMMANDS else list(COMMANDS.values())
    for module_path in modules:
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
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=args_list[0] if args_list else None)
    args = parser.parse_args(args_list)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args))
    except ServegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
