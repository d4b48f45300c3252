"""``servegraph lineage REQUEST_ID|URI``: where a prediction or a model version came from.

servegraph lineage 3f2a9c...                      # a prediction's request id
servegraph lineage store://models/shop/fraud:v2 -o json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "lineage", help="the lineage of a prediction or model version", description=__doc__
    )
    p.add_argument("target", help="a prediction's request id or a store://models/... URI")
    p.add_argument(
        "-o", "--output", choices=["tree", "json"], default="tree", help="tree (default) or json"
    )
    p.add_argument("--db", default=None, help="database URL (default: configured)")
    return p


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from servegraph.monitoring.lineage import lineage, render

    tree = lineage(args.target, args.db)
    if args.output == "json":
        print(json.dumps(tree, indent=2, default=str))
    else:
        console = Console() if sys.stdout.isatty() else Console(width=200)
        console.print(render(tree))
    return 0
