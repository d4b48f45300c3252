"""``servegraph get runs|artifacts|functions|projects``: rich tables from the run database.

servegraph get runs --project churn --state error
servegraph get runs UID -o yaml
servegraph get artifacts --kind model
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from servegraph.storage.rundb import get_run_db

KINDS = ("runs", "artifacts", "functions", "projects")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``get``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "get", help="list runs, artifacts, functions or projects", description=__doc__
    )
    p.add_argument("kind", choices=KINDS)
    p.add_argument("uid", nargs="?", default="", help="one run uid (with 'runs')")
    p.add_argument("--project", default=None)
    p.add_argument("--name", default=None, help="run name / artifact key / function name")
    p.add_argument("--state", default=None, help="run state")
    p.add_argument("--kind", dest="artifact_kind", default=None, help="artifact kind (model...)")
    p.add_argument("--last", type=int, default=0, help="only the newest N")
    p.add_argument("--iterations", action="store_true", help="include hyper-parameter children")
    p.add_argument("-o", "--output", choices=["table", "yaml", "json"], default="table")
    p.add_argument("--db", default=None, help="run database URL (default: configured)")
    return p


def _short(value: Any, limit: int = 60) -> str:
    text = (
        ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _runs(rows: list[dict[str, Any]]) -> Table:
    table = Table("project", "name", "iter", "state", "started", "parameters", "results")
    table.add_column("artifacts")
    table.add_column("uid", no_wrap=True)
    for r in rows:
        meta, spec, status = r["metadata"], r["spec"], r["status"]
        table.add_row(
            meta["project"], meta["name"], str(meta.get("iteration", 0)), status["state"],
            str(status.get("start_time", ""))[:19], _short(spec.get("parameters", {})),
            _short(status.get("results", {})),
            _short(", ".join(a["metadata"]["key"] for a in status.get("artifacts", []))),
            meta["uid"],
        )  # fmt: skip
    return table


def _artifacts(rows: list[dict[str, Any]]) -> Table:
    table = Table("project", "key", "kind", "tags", "hash", "producer", "target")
    for a in rows:
        meta, spec = a["metadata"], a["spec"]
        table.add_row(
            meta["project"], meta["key"], a["kind"], ",".join(meta.get("tags", [])),
            meta["hash"][:12], spec.get("producer", {}).get("uid", ""), spec["target_path"],
        )  # fmt: skip
    return table


def _functions(rows: list[dict[str, Any]]) -> Table:
    table = Table("project", "name", "kind", "hash", "tags", "command")
    for f in rows:
        meta = f["metadata"]
        table.add_row(
            meta["project"], meta["name"], f["kind"], meta.get("hash", "")[:12],
            ",".join(meta.get("tags", [])), str(f.get("spec", {}).get("command", "")),
        )  # fmt: skip
    return table


def _projects(rows: list[dict[str, Any]]) -> Table:
    table = Table("name", "description", "functions", "workflows", "context")
    for p in rows:
        spec = p.get("spec", {})
        table.add_row(
            p["metadata"]["name"], spec.get("description", ""),
            ", ".join(f["name"] for f in spec.get("functions", [])),
            ", ".join(w["name"] for w in spec.get("workflows", [])), str(p.get("context", "")),
        )  # fmt: skip
    return table


def run(args: argparse.Namespace) -> int:
    """Print the listing."""
    db = get_run_db(args.db)
    rows: list[dict[str, Any]]
    if args.kind == "runs":
        if args.uid:
            rows = [db.find_run(args.uid)]
        else:
            rows = db.list_runs(
                project=args.project, name=args.name, state=args.state,
                iterations=args.iterations, last=args.last,
            )  # fmt: skip
    elif args.kind == "artifacts":
        rows = db.list_artifacts(project=args.project, key=args.name, kind=args.artifact_kind)
    elif args.kind == "functions":
        rows = db.list_functions(project=args.project, name=args.name)
    else:
        rows = db.list_projects()
    if args.last:
        rows = rows[: args.last]
    if args.output == "json":
        print(json.dumps(rows, indent=2, default=str))
    elif args.output == "yaml":
        print(yaml.safe_dump(rows, sort_keys=False))
    else:
        render = {"runs": _runs, "artifacts": _artifacts, "functions": _functions}
        console = Console() if sys.stdout.isatty() else Console(width=200)
        console.print(render.get(args.kind, _projects)(rows))
    return 0
