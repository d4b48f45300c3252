"""``servegraph serve SPEC``: serve a function over HTTP (or from a stream).

SPEC is the YAML written by ``fn.export()`` (a Nuclio spec carrying the
serving spec), by ``fn.to_yaml()``, a serving spec itself (JSON or YAML), or a
Python file that builds the function (classes and handlers then resolve in
that file's globals). A child function of a graph cut at a queue step (``fn.export(path,
function="child")``) reads its queue's stream unless ``--source`` says otherwise.
``--workers N`` runs N worker processes on one port
(SO_REUSEPORT); see :mod:`servegraph.serving.workers`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from servegraph.errors import ConfigError
from servegraph.serving.http.state import DEFAULT_HEADER_TIMEOUT
from servegraph.serving.nuclio_spec import HANDLER, SERVING_SPEC_ENV, serving_spec_of
from servegraph.serving.source import SOURCE_KEY, load_code
from servegraph.serving.stream_source import DEFAULT_GROUP

if TYPE_CHECKING:  # imported when serving, so `servegraph --help` stays fast
    from servegraph.serving.server import GraphServer

TOKEN_ENV = "SERVEGRAPH_TOKEN"

EXAMPLES = """\
examples:
  servegraph serve function.yaml --port 8080          # on 127.0.0.1 only
  servegraph serve app.py --host 0.0.0.0 --port 9000 --token "$TOKEN"
  servegraph serve function.yaml --source redis://localhost:6379/requests
  servegraph serve function.yaml --port 8080 --workers 4
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve a function over HTTP",
        description=(
            "Serve a function over HTTP (or from a stream with --source). SPEC is the YAML\n"
            "written by fn.export() or fn.to_yaml(), a serving spec, or a Python file that\n"
            "builds the function."
        ),
        epilog=EXAMPLES,
    )
    parser.add_argument("spec", help="function YAML (fn.export / fn.to_yaml) or Python file")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (default: 8080)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 accepts other machines)",
    )
    parser.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every route but liveness "
        f"(default: ${TOKEN_ENV} if set)",
    )
    parser.add_argument(
        "--protect-metrics", action="store_true", help="put /metrics behind the token too"
    )
    parser.add_argument("--source", help="serve records of this stream URL instead of HTTP")
    parser.add_argument(
        "--dead-letter",
        help="stream URL for records that keep failing (default: SOURCE + '-dead-letter')",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="records run at once")
    parser.add_argument("--function", help="variable holding the function in a Python SPEC")
    parser.add_argument(
        "--max-body-size", type=int, default=16 * 1024 * 1024, help="bytes (default: 16 MiB)"
    )
    parser.add_argument("--grace", type=float, default=30.0, help="shutdown grace period (s)")
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=DEFAULT_HEADER_TIMEOUT,
        help="seconds a connection gets to send a whole request head, and to stay idle "
        f"between requests, before it is closed (default: {DEFAULT_HEADER_TIMEOUT:g})",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes sharing the port (HTTP only)"
    )
    parser.add_argument(
        "--reuse-port", action="store_true", help="bind with SO_REUSEPORT (set for each worker)"
    )
    return parser


def token_of(args: argparse.Namespace) -> str | None:
    """The bearer token: ``--token``, else the ``SERVEGRAPH_TOKEN`` environment variable."""
    return args.token or os.environ.get(TOKEN_ENV) or None


def _spec_from_document(document: Any, path: Path) -> dict[str, Any]:
    if not isinstance(document, Mapping):
        raise ConfigError(f"SPEC {str(path)!r} must hold a mapping. Got {type(document).__name__}.")
    if document.get("kind") == "NuclioFunction":
        for item in (document.get("spec") or {}).get("env") or []:
            if item.get("name") == SERVING_SPEC_ENV:
                spec: dict[str, Any] = json.loads(item["value"])
                return spec
        raise ConfigError(f"Nuclio spec {str(path)!r} has no {SERVING_SPEC_ENV} env variable.")
    if "graph" in document:
        return dict(document)
    if isinstance(document.get("spec"), Mapping):
        return serving_spec_of(document)
    raise ConfigError(
        f"SPEC {str(path)!r} is neither a function (fn.export / fn.to_yaml) nor a serving spec."
    )


def _code_namespace(document: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The globals of the code carried in the spec (``spec.build.functionSourceCode``)."""
    body: Mapping[str, Any] = document.get("spec") or {}
    if not isinstance(body, Mapping):
        return None
    build = body.get("build") or {}
    if not build.get(SOURCE_KEY):
        return None
    handler = str(body.get("handler") or "")
    module = spec.get("code_module") or body.get("code_module") or handler.partition(":")[0]
    if not module or module == HANDLER.partition(":")[0]:
        raise ConfigError("The spec carries code but does not name its module (code_module).")
    return vars(load_code(build, str(module)))


def _function_in(namespace: Mapping[str, Any], var: str | None, path: Path) -> Any:
    found = {
        name: value
        for name, value in namespace.items()
        if getattr(value, "kind", None) == "serving"
        and callable(getattr(value, "serving_spec", None))
    }
    if var is not None:
        if var not in found:
            raise ConfigError(
                f"The '--function' {var!r} is not a serving function in {str(path)!r}; "
                f"found {sorted(found)}."
            )
        return found[var]
    if len(found) != 1:
        raise ConfigError(
            f"{str(path)!r} must define exactly one serving function (or pass --function). "
            f"Found {sorted(found)}."
        )
    return next(iter(found.values()))


def load_server(spec_path: str, function: str | None = None) -> GraphServer:
    """Build and initialise the GraphServer described by SPEC (see the module docstring)."""
    path = Path(spec_path)
    if not path.is_file():
        raise ConfigError(f"SPEC {spec_path!r} is not a file.")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # user modules next to the spec resolve by dotted path
    namespace: Mapping[str, Any] | None = None
    if path.suffix == ".py":
        namespace = runpy.run_path(str(path), run_name="__servegraph__")
        spec = _function_in(namespace, function, path).serving_spec(graph_as_dict=False)
    else:
        try:
            document = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"SPEC {spec_path!r} is not valid YAML/JSON: {exc}") from exc
        spec = _spec_from_document(document, path)
        namespace = _code_namespace(document, spec)
    from servegraph.serving.server import GraphServer

    server = GraphServer(spec)
    server.init_states(namespace=namespace)
    return server


def _get_stream(url: str) -> Any:
    from servegraph import streams

    url = streams.resolve_stream(url)  # a bare name: a stream of SERVEGRAPH_STREAM_PATH
    get_stream = getattr(streams, "get_stream", None)
    if get_stream is None:
        raise ConfigError(
            f"--source {url!r}: stream sources are not available yet "
            "(servegraph.streams has no get_stream in this build)."
        )
    return get_stream(url)


async def _serve_stream(
    server: GraphServer, url: str, dead_letter_url: str | None, concurrency: int
) -> int:
    from servegraph.serving.stream_source import consume

    stream = _get_stream(url)
    dead_letter = _get_stream(dead_letter_url or f"{url}-dead-letter")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"servegraph: consuming {stream.url} as group {DEFAULT_GROUP}", flush=True)
    try:
        await consume(server, stream, stop=stop, dead_letter=dead_letter, concurrency=concurrency)
    finally:
        await stream.close()
        await dead_letter.close()
        await server.close()
    return 0


def _worker_args(args: argparse.Namespace) -> list[str]:
    """The serve arguments each worker of ``--workers`` gets."""
    worker = [args.spec, "--max-body-size", str(args.max_body_size), "--grace", str(args.grace)]
    worker += ["--header-timeout", str(args.header_timeout)]
    if args.function:
        worker += ["--function", args.function]
    if args.access_log:
        worker.append("--access-log")
    if args.protect_metrics:
        worker.append("--protect-metrics")
    return worker


def run(args: argparse.Namespace) -> int:
    if not args.source and args.port:  # endpoints register the URL new versions load at
        host = "127.0.0.1" if args.host in ("0.0.0.0", "", "::") else args.host
        os.environ.setdefault("SERVEGRAPH_SERVER_URL", f"http://{host}:{args.port}")
    if args.workers != 1:
        if args.workers < 1:
            raise ConfigError(f"--workers must be a positive int. Got {args.workers}.")
        if args.source:
            raise ConfigError("--workers serves HTTP; start one consumer per --source instead.")
        from servegraph.serving.workers import serve_workers

        token = token_of(args)
        if token:  # to the workers by environment, never on a command line
            os.environ[TOKEN_ENV] = token
        return serve_workers(
            _worker_args(args),
            workers=args.workers,
            host=args.host,
            port=args.port,
            grace=args.grace,
        )
    server = load_server(args.spec, args.function)
    source = args.source or server.stream_source  # a child function reads its queue
    if source:
        _get_stream(source)  # fail early with a clear message
        return asyncio.run(_serve_stream(server, source, args.dead_letter, args.concurrency))
    from servegraph.serving.http import run_app

    run_app(
        server,
        host=args.host,
        port=args.port,
        shutdown_timeout=args.grace,
        max_body_size=args.max_body_size,
        access_log=args.access_log,
        reuse_port=args.reuse_port or None,
        header_timeout=args.header_timeout,
        token=token_of(args),
        protect_metrics=args.protect_metrics,
    )
    return 0
