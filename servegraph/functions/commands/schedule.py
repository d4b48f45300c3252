"""``servegraph schedule add|run|delete|export``: stored cron schedules of projects."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servegraph.errors import UsageError
from servegraph.functions.commands.options import parse_pairs

EXAMPLES = """\
examples:
  servegraph schedule add nightly --project churn --cron "0 2 * * *" --workflow main -a days=7
  servegraph schedule add drift --project churn --cron "*/10 * * * *" --monitoring
  servegraph schedule run nightly --project churn          # fire it once, now
  servegraph schedule export nightly --project churn --format cronjob --image my/app:1
  servegraph schedule export nightly --project churn --format systemd --dir /etc/systemd/system
  servegraph schedule delete nightly --project churn
  servegraph get schedules                                  # the list, with next firings
  servegraph scheduler                                      # fire every due schedule, forever
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``schedule``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "schedule",
        help="add, fire, delete or export (CronJob / systemd timer) a stored schedule",
        description=(
            "Manage the cron schedules stored in the run database. 'servegraph scheduler'\n"
            "fires the due ones as a service; 'export' writes a Kubernetes CronJob or a\n"
            "systemd timer that fires one schedule instead."
        ),
        epilog=EXAMPLES,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="store (or replace) a schedule")
    add.add_argument("name", help="schedule name")
    add.add_argument("--project", default="default", help="project of the schedule")
    add.add_argument("--cron", required=True, help="5-field cron string, in UTC")
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--function", help="a function of the project to run")
    what.add_argument("--workflow", help="a workflow of the project to run")
    what.add_argument("--monitoring", action="store_true", help="run the monitoring job")
    add.add_argument(
        "-a", "--argument", action="append", metavar="KEY=VALUE",
        help="a parameter of the function / argument of the workflow (repeatable)",
    )  # fmt: skip
    add.add_argument("--config", help="monitoring settings YAML (with --monitoring)")
    add.add_argument("--endpoint", help="only this endpoint (with --monitoring)")
    for action, text in (("run", "fire a schedule once, now"), ("delete", "delete a schedule")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("name", help="schedule name")
        sub.add_argument("--project", default="default", help="project of the schedule")
    export = actions.add_parser("export", help="write a Kubernetes CronJob or systemd units")
    export.add_argument("name", help="schedule name")
    export.add_argument("--project", default="default", help="project of the schedule")
    export.add_argument(
        "--format", required=True, choices=["cronjob", "systemd"], help="what to write"
    )
    export.add_argument("--image", default="servegraph:latest", help="container image (cronjob)")
    export.add_argument(
        "--secret", default="", help="take the settings from this Kubernetes Secret (cronjob)"
    )
    export.add_argument("--dir", default="", help="write the file(s) here instead of stdout")
    return p


def _add(args: argparse.Namespace) -> int:
    from servegraph.functions.schedules import validate_cron
    from servegraph.storage.rundb import get_run_db

    params = parse_pairs(args.argument, "-a")
    validate_cron(args.cron)
    if args.monitoring:
        kind = "monitoring"
        target: dict[str, Any] = {
            k: v for k, v in (("config", args.config), ("endpoint", args.endpoint)) if v
        }
        if target.get("config"):
            target["config"] = str(Path(target["config"]).resolve())
    elif args.workflow:
        kind, target = "workflow", {"workflow": args.workflow, "params": params}
    else:
        kind, target = "job", {"function": args.function, "params": params}
    get_run_db().store_schedule(args.project, args.name, args.cron, kind, target)
    print(f"schedule {args.project}/{args.name}: {kind} at {args.cron!r} (UTC)")
    return 0


def _export(args: argparse.Namespace, schedule: dict[str, Any]) -> int:
    from servegraph.functions import schedule_export

    if args.format == "cronjob":
        name = schedule_export.unit_name(schedule)
        files = {f"{name}.yaml": schedule_export.cronjob(
            schedule, args.image, dict(os.environ), args.secret
        )}  # fmt: skip
    else:
        files = schedule_export.systemd(schedule, dict(os.environ), os.getcwd())
    if args.dir:
        folder = Path(args.dir)
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (folder / file_name).write_text(text)
            print(f"wrote {folder / file_name}")
        return 0
    for file_name, text in files.items():
        if len(files) > 1:
            print(f"# {file_name}")
        print(text)
    return 0


def run(args: argparse.Namespace) -> int:
    """Add, fire, delete or export a schedule."""
    from servegraph.storage.rundb import get_run_db

    try:
        if args.action == "add":
            return _add(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    db = get_run_db()
    schedule = db.get_schedule(args.project, args.name)  # NotFoundInStoreError names it
    if args.action == "delete":
        db.del_schedule(args.project, args.name)
        print(f"deleted schedule {args.project}/{args.name}")
        return 0
    if args.action == "export":
        return _export(args, schedule)
    from servegraph.functions.scheduler import fire

    result = fire(schedule, datetime.now(UTC), db)
    print(f"{result['project']}/{result['name']}: {result['state']} "
          f"(run {result['uid'] or '-'}) {result['error']}")  # fmt: skip
    return 0 if result["state"] == "completed" else 1
