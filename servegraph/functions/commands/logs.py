"""``servegraph logs UID``: print the stored log of a run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from servegraph.storage.rundb import get_run_db


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``logs``."""
    p: argparse.ArgumentParser = subparsers.add_parser("logs", help="print a run's log")
    p.add_argument("uid", help="the run uid")
    p.add_argument("--db", default=None, help="run database URL (default: configured)")
    return p


def run(args: argparse.Namespace) -> int:
    """Print the log; an unknown uid is an error (exit 1)."""
    db = get_run_db(args.db)
    record = db.find_run(args.uid)
    sys.stdout.write(db.get_log(args.uid, record["metadata"]["project"]).decode(errors="replace"))
    print(f"[run {args.uid} state={record['status']['state']}]")
    return 0
