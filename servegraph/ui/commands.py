"""``servegraph ui``: serve the web dashboard over the configured stores.

servegraph ui                                  # http://127.0.0.1:8060/
servegraph ui --host 0.0.0.0 --port 9000 --token s3cret
servegraph ui --monitoring-path ./out/monitoring   # a job's own --output path
"""

from __future__ import annotations

import argparse
import os
from typing import Any

EXAMPLES = """\
examples:
  servegraph ui                                    # http://127.0.0.1:8060/
  servegraph ui --host 0.0.0.0 --port 9000 --token s3cret
  servegraph ui --monitoring-path ./out/monitoring # a monitoring job's own output path
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ui",
        help="serve the web dashboard",
        description=(
            "Serve the web dashboard (runs, models, functions and their graphs, model\n"
            "endpoints with drift, feature store, schedules) over the configured stores."
        ),
        epilog=EXAMPLES,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8060, help="port to listen on (8060)")
    parser.add_argument(
        "--token",
        default=os.environ.get("SERVEGRAPH_UI_TOKEN"),
        help="token that actions (promote, stop) need (default $SERVEGRAPH_UI_TOKEN)",
    )
    parser.add_argument(
        "--stream",
        help="tracking stream to follow for live traffic (default: the endpoints' stream)",
    )
    parser.add_argument("--no-live", action="store_true", help="do not follow the tracking stream")
    parser.add_argument(
        "--monitoring-path",
        action="append",
        default=[],
        help="output path of a monitoring job, for its logged windows (repeatable)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from servegraph.config import get_config
    from servegraph.monitoring.tracking import DEFAULT_STREAM
    from servegraph.streams import stream_url_for
    from servegraph.ui.app import make_app

    config = get_config()
    stream = (
        None if args.no_live else args.stream or stream_url_for(config.stream_path, DEFAULT_STREAM)
    )
    app = make_app(
        config, token=args.token, monitoring_paths=args.monitoring_path, live_stream=stream
    )
    print(f"servegraph dashboard on http://{args.host}:{args.port}/ (state in {config.home})")
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0
