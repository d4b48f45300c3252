"""``servegraph deploy SPEC [SPEC ...]``: run functions on this machine (the local platform)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from servegraph.errors import ConfigError

EXAMPLES = """\
examples:
  servegraph deploy function.yaml                       # one HTTP function; prints its URL
  servegraph deploy root.yaml worker.yaml               # a graph cut at a queue: the child
                                                        # (fn.export(p, function="worker"))
                                                        # consumes its queue
  servegraph deploy parent.yaml child.yaml --source child=mid
                                                        # child consumes stream 'mid'
  servegraph deploy parent.yaml child.yaml --source child=mid --stream redis://localhost:6379/sg
  servegraph ps                                         # name, pid, URL, state
  servegraph stop --all
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deploy``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "deploy",
        help="start functions as local processes from their specs",
        description=(
            "Start each function as its own process, from its spec alone (copied into\n"
            "$SERVEGRAPH_HOME/platform/NAME). HTTP functions get a free port; a function\n"
            "given a --source consumes that stream instead. Queues meet through one stream\n"
            "base: the file log under the home, or --stream URL."
        ),
        epilog=EXAMPLES,
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="function YAML (fn.export) or file")
    p.add_argument(
        "--source", action="append", default=[], metavar="NAME=STREAM",
        help="function NAME consumes STREAM (a name in the stream base, or a URL)",
    )  # fmt: skip
    p.add_argument("--stream", help="stream base URL for every function (default: the file log)")
    p.add_argument("--host", default="127.0.0.1", help="address HTTP functions listen on")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each start")
    return p


def _sources(values: list[str]) -> dict[str, str]:
    sources: dict[str, str] = {}
    for value in values:
        name, sep, stream = value.partition("=")
        if not sep or not name or not stream:
            raise ConfigError(f"--source takes NAME=STREAM. Got {value!r} instead.")
        sources[name] = stream
    return sources


def run(args: argparse.Namespace) -> int:
    """Start every SPEC; print one line per function (name and URL or stream)."""
    from servegraph.functions.platform.launcher import Deployment, function_name, start

    sources = _sources(args.source)
    deployments = [Deployment(function_name(Path(s)), Path(s)) for s in args.specs]
    names = [d.name for d in deployments]
    unknown = sorted(set(sources) - set(names))
    if unknown:
        raise ConfigError(f"--source names {unknown}, which are not among the specs' {names}.")
    for deployment in deployments:
        deployment.source = sources.get(deployment.name, "")
    # consumers first: a parent's first request then finds its child reading
    for deployment in sorted(deployments, key=lambda d: not d.consumes):
        record = start(deployment, host=args.host, stream=args.stream, timeout=args.timeout)
        where = record.url or f"consuming {record.source}"
        print(f"{record.name}  {where}", flush=True)
    return 0
