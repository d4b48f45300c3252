"""``servegraph project run WORKFLOW``: run a project's workflow; ``project show``;
``project schedule``: fire the stored cron schedules that are due (``--once``, or poll).

servegraph project run main -c ./churn -a source=data.csv
servegraph project schedule --once --now 2026-01-01T02:00:00+00:00
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from servegraph.errors import UsageError
from servegraph.functions.commands.options import parse_pairs

EXAMPLES = """\
examples:
  servegraph project run main -c ./churn -a source=data.csv
  servegraph project show -c ./churn
  servegraph project schedule --once --now 2026-01-01T02:00:00+00:00
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``project`` with its ``run`` and ``show`` actions."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "project",
        help="run a project workflow, show a project, fire its schedules",
        description="Run a project's workflow, show its project.yaml, or fire due schedules.",
        epilog=EXAMPLES,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_p = actions.add_parser("run", help="run a workflow of the project")
    run_p.add_argument("workflow", nargs="?", default="", help="workflow name (default: the only)")
    run_p.add_argument("-c", "--context", default=".", help="project directory (project.yaml)")
    run_p.add_argument(
        "-a", "--argument", action="append", metavar="KEY=VALUE",
        help="an argument of the workflow (repeatable)",
    )  # fmt: skip
    run_p.add_argument(
        "--no-watch", dest="watch", action="store_false", help="do not wait for the workflow"
    )
    show_p = actions.add_parser("show", help="print project.yaml")
    show_p.add_argument("-c", "--context", default=".", help="project directory (project.yaml)")
    sched_p = actions.add_parser("schedule", help="fire the due cron schedules of all projects")
    sched_p.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    sched_p.add_argument("--now", metavar="ISO-8601", help="the time to use (default: the clock)")
    sched_p.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    sched_p.add_argument("--max-ticks", type=int, help=argparse.SUPPRESS)  # bounded polling
    return p


def _schedule(args: argparse.Namespace) -> int:
    from servegraph.functions import scheduler

    try:
        at = datetime.fromisoformat(args.now) if args.now else None
    except ValueError:
        print(f"error: --now must be an ISO-8601 time. Got {args.now!r}.", file=sys.stderr)
        return 2
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if not args.once:
        scheduler.run_forever(interval=args.interval, max_ticks=args.max_ticks)
        return 0
    fired = scheduler.run_due(at)
    for f in fired:
        print(f"{f['project']}/{f['name']}: {f['state']} (run {f['uid'] or '-'}) {f['error']}")
    if not fired:
        print("no schedule is due")
    return 0 if all(f["state"] == "completed" for f in fired) else 1


def run(args: argparse.Namespace) -> int:
    """Run the workflow (exit 1 if a step failed), show the project, or fire schedules."""
    if args.action == "schedule":
        return _schedule(args)
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
