"""``servegraph stop NAME|--all``: stop functions of the local platform gracefully."""

from __future__ import annotations

import argparse
from typing import Any

from servegraph.errors import ConfigError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``stop``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "stop",
        help="stop functions started by 'servegraph deploy' (SIGTERM, wait, then kill)",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="functions to stop")
    p.add_argument("--all", action="store_true", help="stop every running function")
    p.add_argument("--grace", type=float, default=30.0, help="seconds before a kill")
    return p


def run(args: argparse.Namespace) -> int:
    """Stop each function; print its final state."""
    from servegraph.functions.platform.launcher import stop
    from servegraph.functions.platform.registry import FunctionState, list_records

    if args.all == bool(args.names):
        raise ConfigError("stop takes function names or --all (one of the two).")
    names = args.names or [r.name for r in list_records() if r.state is FunctionState.RUNNING]
    for name in names:
        record = stop(name, grace=args.grace)
        print(f"{record.name}  {record.state.value}", flush=True)
    return 0
