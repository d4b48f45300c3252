"""The in-process mock server: ``fn.to_mock_server()`` and ``server.test(...)``.

    server = fn.to_mock_server()
    server.test("/v2/models/m1/infer", body={"inputs": [[1, 2]]})
    server.wait_for_completion()

A failing request raises its ServegraphError unless ``silent=True``, which
returns the error :class:`Response` (``{"error": ...}`` with the error's status).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servegraph.errors import ServegraphError, ServingError
from servegraph.serving.engine_sync import run_sync as _engine_sync
from servegraph.serving.event import MockEvent, Response
from servegraph.serving.server import BodyResponse, GraphServer, ServerState, _response


class MockServer(GraphServer):
    """A GraphServer with MLRun's ``test()`` and ``wait_for_completion()``."""

    def test(
        self,
        path: str = "/",
        body: Any = None,
        method: str = "",
        headers: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        silent: bool = False,
        get_body: bool = True,
        event_id: str | None = None,
        trigger: Any = None,
    ) -> Any:
        """Send one request through the graph; return the response body.

        The :class:`Response` itself is returned for ``get_body=False``, when a step
        answered with one, and for a failure under ``silent=True`` (its status set).
        ``trigger`` (a :class:`MockTrigger`) says where the event came from.
        """
        event = MockEvent(
            body,
            content_type,
            dict(headers) if headers else None,
            method or None,
            path,
            event_id,
            trigger,
        )
        if self.plan is None:  # built by create_graph_server: initialise on first use
            self.init_states(None, None)
        try:
            fast = not self._async or (self._loop_free and self._tracer is None)
            if self.state is ServerState.STARTED and fast:
                prepared = (
                    None
                    if body is not None
                    and type(body) is not bytes
                    and type(body) is not str
                    and not self.verbose
                    else self._prepare(event)
                )
                if prepared is None:
                    result = _engine_sync(self.plan, event)  # type: ignore[arg-type]
                    result_body = result.body
                    if get_body and result_body.__class__ is not Response:
                        return result_body
                    response = _response(result)
                else:
                    response = prepared
            else:
                response = self.run(event)
        except ServegraphError as exc:
            if not silent:
                raise
            return Response({"error": str(exc)}, exc.status_code, "application/json")
        if response.status_code >= 400:
            if silent:
                return response
            error = ServingError(f"request failed ({response.status_code}): {response.body}")
            error.status_code = response.status_code
            raise error
        # a Response a step made (e.g. a model's ready answer) comes back whole (MLRun)
        return response.body if get_body and type(response) is BodyResponse else response

    def init_object(self, namespace: Mapping[str, Any] | None = None) -> None:
        """Construct the steps if ``init_states`` has not (MLRun's second init call)."""
        if self.plan is None:
            self.init_states(None, namespace)

    def to_yaml(self) -> str:
        """The serving spec as YAML text."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False))

    def wait_for_completion(self) -> None:
        """Finish pending work: run the close hooks and flush the tracker."""
        if self.state is not ServerState.CLOSED:
            self._loop_run(self.close())


def create_graph_server(
    parameters: Mapping[str, Any] | None = None,
    load_mode: str | None = None,
    graph: Any = None,
    verbose: bool = False,
    current_function: str | None = None,
    **kwargs: Any,
) -> MockServer:
    """A server for local runs and tests (MLRun's ``create_graph_server``); add steps
    or routes to ``server.graph``, then ``init_states`` (or the first ``test``)::

        server = create_graph_server(graph=RouterStep())
        server.graph.add_route("m", class_name=MyModel)
        server.init_states(None, namespace=globals())
        server.test("/v2/models/m/infer", {"inputs": [[1]]})
    """
    from servegraph.graph import RouterStep

    spec = {
        "graph": graph if graph is not None else RouterStep(),
        "parameters": dict(parameters or {}),
        "load_mode": load_mode,
        "verbose": verbose,
        **kwargs,
    }
    server = MockServer(spec)
    server.context.current_function = current_function
    server.context.is_mock = True
    return server


def create_mock_server(
    spec: Mapping[str, Any],
    name: str = "",
    project: str = "",
    namespace: Mapping[str, Any] | None = None,
    current_function: str | None = None,
    **context_args: Any,
) -> MockServer:
    """Build and initialise a mock server from a serving spec (graph as object or dict)."""
    from servegraph.serving.context import GraphContext

    server = MockServer(spec)
    context = GraphContext(
        name=name,
        project=project,
        parameters=server.parameters,
        is_mock=True,
        **context_args,
    )
    context.current_function = current_function
    server.init_states(context, namespace)
    return server
