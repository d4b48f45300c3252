"""``servegraph get models [KEY]`` and ``servegraph promote URI --tag TAG``: the model registry.

servegraph get models fraud --project shop
servegraph promote store://models/shop/fraud:v2 --tag production
"""

from __future__ import annotations

import argparse
from typing import Any

from servegraph.functions.registry import tag_model
from servegraph.storage.rundb import get_run_db


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``promote``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "promote", help="point a tag (production) at a model version", description=__doc__
    )
    p.add_argument("uri", help="store://models/{project}/{key}[:tag][@uid]")
    p.add_argument("--tag", default="production", help="the tag to move (default: production)")
    p.add_argument("--by", default="cli", help="who promotes (kept in the history)")
    p.add_argument("--reason", default="", help="why (kept in the history)")
    p.add_argument("--db", default=None, help="run database URL (default: configured)")
    return p


def run(args: argparse.Namespace) -> int:
    """``servegraph promote``."""
    record = tag_model(args.uri, args.tag, by=args.by, reason=args.reason, db=get_run_db(args.db))
    meta = record["metadata"]
    print(
        f"store://models/{meta['project']}/{meta['key']}:{args.tag} -> version {meta['hash'][:12]}"
        f" (tags: {', '.join(meta.get('tags') or [])})"
    )
    return 0
