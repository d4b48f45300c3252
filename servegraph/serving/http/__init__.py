"""The HTTP edge: an aiohttp application serving a GraphServer.

``create_app(server)`` builds the application (Open Inference Protocol
routes, any path the graph accepts, ``/metrics``, ``/openapi.json``);
``run_app(server, port=8080)`` serves it until SIGTERM/SIGINT, then drains
in-flight requests and runs the graph's close hooks.

>>> app = create_app(server)  # doctest: +SKIP
>>> run_app(server, host="0.0.0.0", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

from servegraph.serving.http.app import create_app, run_app
from servegraph.serving.http.state import ServerState

__all__ = ["ServerState", "create_app", "run_app"]
