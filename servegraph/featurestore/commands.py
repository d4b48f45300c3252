"""``servegraph features``: list, show, ingest, materialize and serve feature sets.

servegraph features list [--project P]
servegraph features show NAME                      (a feature set, else a vector; JSON)
servegraph features ingest NAME SOURCE [--engine pandas|storey|dask] [--append]
                          [--dask-scheduler URL]
servegraph features materialize NAME [--start T] [--end T]
servegraph features serve [--host 127.0.0.1] [--port 8080] [--impute JSON]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from servegraph.errors import FeatureSetNotFoundError, UsageError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "features",
        help="feature sets and vectors: list, show, ingest, materialize, serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="feature sets and vectors in the catalog")
    listing.add_argument("--project", help="only this project")
    show = sub.add_parser("show", help="a feature set (or vector) as JSON")
    show.add_argument("name", help="name, name:tag or store:// URI")
    show.add_argument("--project", help="the project (default: default)")
    ingest = sub.add_parser("ingest", help="ingest a CSV/Parquet file into a feature set")
    ingest.add_argument("name", help="a feature set in the catalog")
    ingest.add_argument("source", help="a .csv or .parquet path or URL")
    ingest.add_argument(
        "--engine", choices=["pandas", "storey", "dask"], default="pandas", help="ingestion engine"
    )
    ingest.add_argument("--append", action="store_true", help="append (windows continue)")
    ingest.add_argument("--dask-scheduler", metavar="URL", help="tcp://host:8786 (engine dask)")
    ingest.add_argument("--project", help="the project (default: default)")
    mat = sub.add_parser("materialize", help="online store <- latest offline rows per entity")
    mat.add_argument("name", help="a feature set in the catalog")
    mat.add_argument("--start", help="from this time (inclusive)")
    mat.add_argument("--end", help="until this time (exclusive)")
    mat.add_argument("--project", help="the project (default: default)")
    serve = sub.add_parser("serve", help="the HTTP feature server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--impute", metavar="JSON", help='default impute policy, {"*": "$mean"}')
    return parser


def _list(project: str | None) -> int:
    from servegraph.featurestore.catalog import Catalog

    catalog = Catalog()
    for kind in ("feature-sets", "feature-vectors"):
        for proj, name, tag in sorted(catalog.list(kind, project)):
            print(f"store://{kind}/{proj}/{name}:{tag}")
    return 0


def _show(name: str, project: str | None) -> int:
    from servegraph.featurestore import get_feature_set, get_feature_vector

    data: dict[str, Any]
    try:
        data = get_feature_set(name, project).to_dict()
    except FeatureSetNotFoundError:
        data = get_feature_vector(name, project).to_dict()
    print(json.dumps(data, indent=2, default=str))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from servegraph.featurestore import get_feature_set, ingest
    from servegraph.featurestore.engines import DaskEngine, IngestEngine

    fset = get_feature_set(args.name, args.project)
    engine: str | IngestEngine = args.engine
    if args.dask_scheduler:
        if args.engine != "dask":
            raise UsageError("--dask-scheduler goes with --engine dask")
        engine = DaskEngine(args.dask_scheduler)
    out = ingest(fset, args.source, overwrite=not args.append, engine=engine)
    print(f"ingested {0 if out is None else len(out)} rows into {fset.uri}")
    return 0


def _materialize(args: argparse.Namespace) -> int:
    from servegraph.featurestore import get_feature_set
    from servegraph.featurestore.materialize import materialize

    fset = get_feature_set(args.name, args.project)
    for report in materialize(fset, args.start, args.end):
        print(f"materialized {report.written} of {report.total} entity rows into {report.target}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from servegraph.featurestore.server import make_app

    policy: dict[str, Any] = {}
    if args.impute:
        try:
            policy = json.loads(args.impute)
        except ValueError as exc:
            raise UsageError(f"--impute must be a JSON object: {exc}") from exc
        if not isinstance(policy, dict):
            raise UsageError(f"--impute must be a JSON object. Got {args.impute!r}.")
    print(f"feature server on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    web.run_app(make_app(policy), host=args.host, port=args.port, print=None)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args.project)
    if args.action == "show":
        return _show(args.name, args.project)
    if args.action == "ingest":
        return _ingest(args)
    if args.action == "materialize":
        return _materialize(args)
    return _serve(args)
