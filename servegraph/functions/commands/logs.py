"""``servegraph logs UID [--watch]``: print the stored log of a run (following a running one)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from servegraph.storage.rundb import get_run_db
from servegraph.storage.schema import existing_folder

FINAL_STATES = ("completed", "error", "aborted")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``logs``."""
    p: argparse.ArgumentParser = subparsers.add_parser("logs", help="print a run's log")
    p.add_argument("uid", help="the run uid (or a unique prefix of 4+ characters)")
    p.add_argument("-w", "--watch", action="store_true", help="follow until the run ends")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between polls (--watch)")
    p.add_argument("--db", default=None, help="run database URL (default: configured)")
    return p


def run(args: argparse.Namespace) -> int:
    """Print the log; an unknown uid is an error (exit 1)."""
    db = get_run_db(existing_folder(args.db) if args.db else None)
    record = db.find_run(args.uid)
    uid, project = record["metadata"]["uid"], record["metadata"]["project"]
    shown = 0
    while True:
        log = db.get_log(uid, project)
        sys.stdout.write(log[shown:].decode(errors="replace"))
        sys.stdout.flush()
        shown = len(log)
        state = record["status"]["state"]
        if not args.watch or state in FINAL_STATES:
            break
        time.sleep(args.interval)
        record = db.find_run(uid)
    if args.watch and shown < len(log := db.get_log(uid, project)):
        sys.stdout.write(log[shown:].decode(errors="replace"))
    print(f"[run {uid} state={record['status']['state']}]")
    return 0
