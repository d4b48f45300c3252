"""``servegraph ps``: the functions of the local platform, with their state."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from servegraph.console import add_output_option, print_rows


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ps``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "ps", help="list the functions started by 'servegraph deploy'"
    )
    add_output_option(p)
    p.add_argument("--logs", type=int, default=10, help="log lines shown per crashed function")
    return p


def run(args: argparse.Namespace) -> int:
    """Print name, pid, URL (or stream), state and uptime; a crashed function's log tail."""
    from servegraph.functions.platform.registry import (
        LOG_FILE,
        FunctionState,
        list_records,
        log_tail,
        platform_home,
        workdir,
    )

    records = list_records()
    now = time.time()
    print_rows(
        [r.to_dict() for r in records],
        args.output,
        ["name", "pid", "url", "state", "uptime"],
        lambda r: [
            r["name"],
            r["pid"],
            r["url"] or f"stream {r['source']}",
            r["state"] if r["exit_code"] is None else f"{r['state']} (exit {r['exit_code']})",
            f"{now - r['started']:.0f}s" if r["state"] == "running" else "-",
        ],
        empty=f"no functions deployed under {platform_home()}",
    )
    if args.output == "table":
        for record in records:
            if record.state is FunctionState.CRASHED and args.logs > 0:
                print(
                    f"\n{record.name} crashed; {workdir(record.name) / LOG_FILE}:", file=sys.stderr
                )
                print(log_tail(record.name, args.logs), file=sys.stderr)
    return 0
