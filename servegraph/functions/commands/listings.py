"""The listings of ``servegraph get`` owned by functions: runs, artifacts, models, functions,
projects and schedules (one function per kind, each returning a Listing)."""

from __future__ import annotations

import argparse
from typing import Any

from servegraph.console import Listing, short_id, shorten
from servegraph.storage.rundb import get_run_db


def runs(args: argparse.Namespace, url: str | None) -> Listing:
    """Runs, newest first (or the one run ``args.uid``, a uid or a unique prefix)."""
    db = get_run_db(url)
    if args.uid:
        rows = [db.find_run(args.uid)]
    else:
        rows = db.list_runs(
            project=args.project, name=args.name, state=args.state,
            iterations=args.iterations, last=args.last,
        )  # fmt: skip

    def row(r: dict[str, Any]) -> list[Any]:
        meta, spec, status = r["metadata"], r["spec"], r["status"]
        return [
            short_id(meta["uid"]), meta["project"], meta["name"], meta.get("iteration", 0),
            status["state"], str(status.get("start_time", ""))[:19].replace("T", " "),
            shorten(spec.get("parameters", {})), shorten(status.get("results", {})),
            shorten([a["metadata"]["key"] for a in status.get("artifacts", [])]),
        ]  # fmt: skip

    columns = (
        "uid", "project", "name", "iter", "state", "started", "parameters", "results", "artifacts"
    )  # fmt: skip
    return Listing(rows, columns, row)


def _artifact_row(a: dict[str, Any]) -> list[Any]:
    meta, spec = a["metadata"], a["spec"]
    return [
        meta["project"], meta["key"], a["kind"], ",".join(meta.get("tags", [])),
        short_id(meta["hash"]), short_id(spec.get("producer", {}).get("uid", "")),
        str(meta.get("updated", ""))[:19].replace("T", " "), spec["target_path"],
    ]  # fmt: skip


_ARTIFACT_COLUMNS = ("project", "key", "kind", "tags", "hash", "producer", "updated", "target")


def artifacts(args: argparse.Namespace, url: str | None) -> Listing:
    """Artifacts (latest version of each), filtered by project, key and kind."""
    rows = get_run_db(url).list_artifacts(
        project=args.project, key=args.name, kind=args.artifact_kind
    )
    return Listing(rows, _ARTIFACT_COLUMNS, _artifact_row)


def models(args: argparse.Namespace, url: str | None) -> Listing:
    """Model versions (``get models [KEY]``): tags, framework, metrics and producing run."""
    key = args.name or getattr(args, "uid", "") or None
    rows = get_run_db(url).list_artifacts(project=args.project, key=key, kind="model")

    def row(a: dict[str, Any]) -> list[Any]:
        meta, spec = a["metadata"], a["spec"]
        return [
            meta["project"], meta["key"], ",".join(meta.get("tags", [])), short_id(meta["hash"]),
            spec.get("framework", ""), shorten(spec.get("metrics", {})),
            short_id(spec.get("producer", {}).get("uid", "")),
            str(meta.get("updated", ""))[:19].replace("T", " "),
        ]  # fmt: skip

    columns = ("project", "key", "tags", "hash", "framework", "metrics", "producer", "updated")
    return Listing(rows, columns, row)


def functions(args: argparse.Namespace, url: str | None) -> Listing:
    """Functions: the latest version of each, or every version with ``--all-versions``."""
    rows = get_run_db(url).list_functions(
        project=args.project, name=args.name, all_versions=getattr(args, "all_versions", False)
    )

    def row(f: dict[str, Any]) -> list[Any]:
        meta = f["metadata"]
        return [
            meta["project"], meta["name"], f["kind"], short_id(meta.get("hash", "")),
            ",".join(meta.get("tags", [])), shorten(f.get("spec", {}).get("command", "")),
        ]  # fmt: skip

    return Listing(rows, ("project", "name", "kind", "hash", "tags", "command"), row)


def projects(args: argparse.Namespace, url: str | None) -> Listing:
    """Projects with their functions and workflows."""
    rows = get_run_db(url).list_projects()

    def row(p: dict[str, Any]) -> list[Any]:
        spec = p.get("spec", {})
        return [
            p["metadata"]["name"], shorten(spec.get("description", "")),
            shorten([f["name"] for f in spec.get("functions", [])]),
            shorten([w["name"] for w in spec.get("workflows", [])]), str(p.get("context", "")),
        ]  # fmt: skip

    return Listing(rows, ("name", "description", "functions", "workflows", "context"), row)


def schedules(args: argparse.Namespace, url: str | None) -> Listing:
    """Cron schedules of every project (or one), with their next and last firing."""
    from servegraph.functions.schedules import next_runs

    rows = get_run_db(url).list_schedules(project=args.project)
    if args.name:
        rows = [r for r in rows if r["name"] == args.name]

    def row(s: dict[str, Any]) -> list[Any]:
        return [
            s["project"], s["name"], s["kind"], s["cron"],
            next_runs(s["cron"])[0][:16].replace("T", " "),
            str(s.get("last_run") or "")[:19].replace("T", " "), short_id(s.get("last_run_uid")),
        ]  # fmt: skip

    return Listing(rows, ("project", "name", "kind", "cron", "next", "last run", "last uid"), row)
