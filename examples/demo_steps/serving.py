"""Step 4: the serving graph, served over HTTP on a free local port.

::

    enrich (online features of the customer)
      -> prep (the model's input row)
      -> router (fraud:v1, later fraud:v2)
      -> model (SKLearnModelServer, micro-batching)
      -> decide (post-process: the verdict)

Every model request is logged to the tracking stream (``fn.set_tracking``);
the model endpoints are registered for monitoring with the reference
statistics of their training set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

import servegraph as sg
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.tracking import StreamTracker
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

from . import DemoError, check
from .training import TrainedModel

MODEL = "fraud"
BATCH = {"max_batch_size": 32, "max_batch_wait_ms": 5}
READY = "/v2/health/ready"


class Prep:
    """Build the model's input row from the request and the enriched features."""

    def __init__(self, features: list[str]) -> None:
        self.features = features

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": body.get("id"),
            "customer_id": body["customer_id"],
            "inputs": [[body[name] for name in self.features]],
        }


def decide(body: dict[str, Any]) -> dict[str, Any]:
    """Post-process: add the verdict to the model's response."""
    body["fraud"] = bool(body["outputs"][0])
    return body


def build_function(
    project: str, vector_uri: str, models: list[TrainedModel], stream: str | None
) -> Any:
    """The serving function: the graph above, one route per model version."""
    fn = sg.new_function("fraud-serving", kind="serving", project=project)
    graph = fn.set_topology("flow", engine="async")
    graph.to("EnrichStep", name="enrich", feature_vector=vector_uri, key="customer_id").to(
        Prep, name="prep", features=models[-1].features
    ).to("ModelRouter", name="router").to(handler=decide, name="decide").respond()
    for model in models:
        fn.add_model(
            f"{MODEL}:{model.version}",
            class_name="SKLearnModelServer",
            model_path=model.uri,  # store://models/...: resolved through the run database
            router_step="router",
            **BATCH,
        )
    fn.set_tracking(stream_path=stream, batch=100)
    return fn


def register_endpoints(server: GraphServer, models: list[TrainedModel]) -> dict[str, str]:
    """Register the server's model endpoints for monitoring; return version -> endpoint id.

    The registry reads each model's reference statistics (its training set's)
    from the model artifact in the run database.
    """
    uris = {m.version: m.uri for m in models}
    registry = EndpointRegistry()
    ids = {}
    for step in server.plan.objects() if server.plan is not None else []:
        if isinstance(step, V2ModelServer) and step.version in uris:
            endpoint = registry.register(
                ModelEndpoint(
                    id=step.endpoint_id,
                    project=server.context.project,
                    function=server.context.name,
                    model_name=step.name,
                    model_version=step.version,
                    model_uri=uris[step.version],
                )
            )
            check(bool(endpoint.reference_stats), f"endpoint {endpoint.id} has no reference")
            ids[step.version] = step.endpoint_id
    check(sorted(ids) == sorted(uris), f"served model versions {sorted(ids)}")
    return ids


@dataclass
class Served:
    """A running HTTP server: its base URL and graph server."""

    url: str
    server: GraphServer
    endpoints: dict[str, str]  # model version -> monitoring endpoint id

    async def flush(self) -> None:
        """Push the tracking records still buffered to the stream."""
        tracker = self.server.context.tracker
        if not isinstance(tracker, StreamTracker):
            raise DemoError(f"the graph tracks requests with {tracker!r}, not a StreamTracker")
        await tracker.flush()


@asynccontextmanager
async def serve_http(fn: Any, models: list[TrainedModel]) -> AsyncIterator[Served]:
    """Serve ``fn`` on 127.0.0.1 (a free port) until the block ends; flushes tracking on exit."""
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states()
    endpoints = register_endpoints(server, models)
    runner = web.AppRunner(create_app(server))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    try:
        async with aiohttp.ClientSession() as session, session.get(url + READY) as response:
            check(response.status == 200, f"{url}{READY} answered {response.status}")
        yield Served(url, server, endpoints)
    finally:
        await runner.cleanup()
