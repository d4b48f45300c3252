"""``servegraph get KIND``: list what the run database holds.

Each kind's listing is one function named in ``KINDS`` (``module:function``,
taking the parsed arguments and the database URL and returning a Listing), so
a subpackage adds its kind with one line and this module imports none of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

from servegraph.config import find_home, get_config
from servegraph.console import Listing, add_output_option, hide_password, print_rows
from servegraph.storage.schema import existing_folder

EXAMPLES = """\
examples:
  servegraph get runs                         # newest first
  servegraph get runs --project churn --state error
  servegraph get runs 4f2a9c1e -o yaml        # one run; a unique uid prefix is enough
  servegraph get models --project churn
  servegraph get functions --all-versions
  servegraph get endpoints -o json
  servegraph get feature-sets
  servegraph get schedules
"""

_LISTINGS = "servegraph.functions.commands.listings"
# kind -> "module:function" returning a Listing
KINDS: dict[str, str] = {
    "runs": f"{_LISTINGS}:runs",
    "artifacts": f"{_LISTINGS}:artifacts",
    "models": f"{_LISTINGS}:models",
    "functions": f"{_LISTINGS}:functions",
    "projects": f"{_LISTINGS}:projects",
    "schedules": f"{_LISTINGS}:schedules",
    "endpoints": "servegraph.monitoring.listing:endpoints",
    "feature-sets": "servegraph.featurestore.listing:feature_sets",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``get``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "get",
        help="list runs, artifacts, models, functions, projects, schedules, endpoints...",
        description="List what the run database holds, as a table, JSON or YAML.",
        epilog=EXAMPLES,
    )
    p.add_argument("kind", choices=list(KINDS), help="what to list")
    p.add_argument(
        "uid",
        nargs="?",
        default="",
        help="a run uid or uid prefix ('runs'), a model key ('models')",
    )
    p.add_argument("--project", default=None, help="only this project")
    p.add_argument("--name", default=None, help="run name / artifact key / function name")
    p.add_argument("--state", default=None, help="only runs in this state (completed, error...)")
    p.add_argument("--kind", dest="artifact_kind", default=None, help="artifact kind (model...)")
    p.add_argument("--last", type=int, default=0, help="only the newest N")
    p.add_argument("--iterations", action="store_true", help="include hyper-parameter children")
    p.add_argument("--all-versions", action="store_true", help="every version of functions")
    add_output_option(p)
    p.add_argument("--db", default=None, help="run database URL (default: configured)")
    return p


def load_listing(kind: str) -> Any:
    """The listing function of ``kind``."""
    module, _, function = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), function)


def database_note(url: str | None) -> str:
    """Which database a listing read, and how its home was chosen."""
    if url:
        return f"database {hide_password(url)} (--db)"
    config = get_config()
    if "SERVEGRAPH_DBPATH" in os.environ:
        how = "from SERVEGRAPH_DBPATH"
    elif "SERVEGRAPH_HOME" in os.environ:
        how = "under SERVEGRAPH_HOME"
    else:
        how = find_home()[1]
    return f"database {hide_password(config.dbpath)} ({how})"


def run(args: argparse.Namespace) -> int:
    """Print the listing; an empty one names the database it read."""
    if args.db:
        existing_folder(args.db)  # a typo must not create an empty database
    empty = f"no {args.kind} in {database_note(args.db)}"  # before a new database is made
    listing: Listing = load_listing(args.kind)(args, args.db)
    rows = listing.rows[: args.last] if args.last else listing.rows
    print_rows(rows, args.output, listing.columns, listing.row, empty=empty)
    return 0
