"""``servegraph project run WORKFLOW``: run a project's workflow; ``project show``.

servegraph project run main -c ./churn -a source=data.csv
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from servegraph.errors import UsageError
from servegraph.functions.commands.options import parse_pairs


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``project`` with its ``run`` and ``show`` actions."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "project", help="run a project workflow or show a project", description=__doc__
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_p = actions.add_parser("run", help="run a workflow of the project")
    run_p.add_argument("workflow", nargs="?", default="", help="workflow name (default: the only)")
    run_p.add_argument("-c", "--context", default=".", help="project directory (project.yaml)")
    run_p.add_argument("-a", "--argument", action="append", metavar="KEY=VALUE")
    run_p.add_argument("--no-watch", dest="watch", action="store_false")
    show_p = actions.add_parser("show", help="print project.yaml")
    show_p.add_argument("-c", "--context", default=".", help="project directory (project.yaml)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the workflow (exit 1 if a step failed) or show the project."""
    try:
        arguments = parse_pairs(getattr(args, "argument", None), "-a")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from servegraph.functions.project import load_project  # heavy: loaded only when run

    project = load_project(args.context)
    if args.action == "show":
        print(project.to_yaml())
        return 0
    wf = project.run(args.workflow, arguments=arguments, watch=args.watch)
    print(f"workflow {wf.name!r} uid={wf.uid} state={wf.state}")
    for name, step in wf.to_dict()["steps"].items():
        print(f"  {name}: {step['state']} (run {step['uid']})")
    if wf.error:
        print(f"error: {wf.error}", file=sys.stderr)
    return 0 if wf.state == "completed" else 1
