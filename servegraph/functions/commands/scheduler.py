"""``servegraph scheduler``: fire every due schedule (workflows, functions, monitoring),
as one long-running service with timestamped logs; SIGTERM or Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

EXAMPLES = """\
examples:
  servegraph scheduler                      # poll every 30 s until SIGTERM / Ctrl-C
  servegraph scheduler --interval 10
  servegraph schedule add nightly --project churn --cron "0 2 * * *" --workflow main
  servegraph get schedules                  # what it will fire, and when
"""

log = logging.getLogger("servegraph.scheduler")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``scheduler``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scheduler",
        help="run every due schedule as a long-running service",
        description=(
            "Fire the schedules stored in the run database (every project) when they are\n"
            "due, one after another, logging each firing with a timestamp. Missed fire\n"
            "times collapse into one run. SIGTERM (or Ctrl-C) ends the service after the\n"
            "firing in progress, exit code 0."
        ),
        epilog=EXAMPLES,
    )
    p.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    p.add_argument("--max-ticks", type=int, help=argparse.SUPPRESS)  # bounded, for tests
    return p


def serve(interval: float, stop: threading.Event, max_ticks: int | None = None) -> int:
    """Poll until ``stop`` is set; return the number of firings."""
    from servegraph.functions.scheduler import due_schedules, fire, next_fire
    from servegraph.storage.rundb import get_run_db

    db = get_run_db()
    fired = ticks = 0
    while not stop.is_set() and (max_ticks is None or ticks < max_ticks):
        now = datetime.now(UTC)
        for schedule in due_schedules(now, db):
            if stop.is_set():
                break
            where = f"{schedule['project']}/{schedule['name']}"
            log.info("firing %s (%s %s)", where, schedule["kind"], schedule["cron"])
            result = fire(schedule, now, db)
            fired += 1
            line = f"{where}: {result['state']} (run {result['uid'] or '-'})"
            if result["state"] == "completed":
                log.info("%s", line)
            else:
                log.error("%s: %s", line, result["error"])
        ticks += 1
        upcoming = [(next_fire(s), s) for s in db.list_schedules()]
        if upcoming and ticks == 1 and not stop.is_set():
            when, first = min(upcoming, key=lambda pair: pair[0])
            log.info("next: %s/%s at %s", first["project"], first["name"], when.isoformat())
        stop.wait(interval)
    return fired


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM / SIGINT."""
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[stream])  # others: warnings only
    log.setLevel(logging.INFO)
    from servegraph.config import get_config
    from servegraph.console import hide_password

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping after the firing in progress", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info(
        "scheduler started: database %s, polling every %ss",
        hide_password(get_config().dbpath), args.interval,
    )  # fmt: skip
    try:
        fired = serve(args.interval, stop, args.max_ticks)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped after %d firings", fired)
    return 0
