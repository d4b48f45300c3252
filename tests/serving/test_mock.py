"""The mock server's test(): bodies, silent errors, responses, namespaces."""

from __future__ import annotations

import pytest

from servegraph.errors import NotFoundError, ServingError
from servegraph.graph import RootFlowStep
from servegraph.serving.event import Response
from servegraph.serving.mock import create_mock_server


class LocalOnly:
    """Resolvable only through this module's globals (the caller's namespace)."""

    def do(self, x: int) -> int:
        return -x


def test_class_names_resolve_in_the_given_namespace(engine: str) -> None:
    graph = RootFlowStep(engine=engine)
    graph.to("LocalOnly", name="neg").respond()
    server = create_mock_server({"graph": graph}, namespace=globals())
    assert server.test(body=4) == -4


def test_get_body_false_returns_the_response(engine: str) -> None:
    graph = RootFlowStep(engine=engine)
    graph.to(handler="(event * 2)", name="d").respond()
    server = create_mock_server({"graph": graph}, name="fn", project="proj")
    response = server.test("/", body=[1], get_body=False)
    assert isinstance(response, Response)
    assert (response.body, response.status_code, response.content_type) == (
        [1, 1],
        200,
        "application/json",
    )
    assert server.context.project == "proj" and server.context.is_mock


def test_silent_returns_the_error_response(engine: str) -> None:
    def missing(x: int) -> int:
        raise NotFoundError("no such thing")

    graph = RootFlowStep(engine=engine)
    graph.to(handler=missing, name="m").respond()
    server = create_mock_server({"graph": graph})
    response = server.test(body=1, silent=True)  # the Response, its status set (MLRun)
    assert isinstance(response, Response) and response.status_code == 404
    assert response.body == {"error": "no such thing"}
    with pytest.raises(NotFoundError):
        server.test(body=1)


def test_error_status_returned_by_a_step_raises_unless_silent() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(handler=lambda x: Response("teapot", status_code=418), name="t").respond()
    server = create_mock_server({"graph": graph})
    with pytest.raises(ServingError, match="418") as info:
        server.test(body=1)
    assert info.value.status_code == 418
    response = server.test(body=1, silent=True)
    assert isinstance(response, Response) and (response.status_code, response.body) == (
        418,
        "teapot",
    )


def test_a_response_made_by_a_step_comes_back_whole() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(handler=lambda x: Response(b"made", status_code=201), name="t").respond()
    server = create_mock_server({"graph": graph})
    for _ in range(2):  # the first call starts the server, the second takes the fast path
        response = server.test(body=1)
        assert isinstance(response, Response) and response.status_code == 201
    plain = RootFlowStep(engine="sync")
    plain.to(handler="(event + 1)", name="inc").respond()
    assert create_mock_server({"graph": plain}).test(body=1) == 2


def test_event_id_method_and_headers_reach_the_steps(engine: str) -> None:
    from servegraph.serving.event import Event

    def describe(event: Event) -> Event:
        event.body = [event.id, event.method, event.headers.get("x-a"), event.path]
        return event

    graph = RootFlowStep(engine=engine)
    graph.to(handler=describe, name="d", full_event=True).respond()
    server = create_mock_server({"graph": graph})
    body = server.test("/p", body=1, method="PUT", headers={"x-a": "1"}, event_id="e-1")
    assert body == ["e-1", "PUT", "1", "/p"]
    server.wait_for_completion()


def test_an_async_flow_of_sync_steps_runs_in_the_calling_thread() -> None:
    """Nothing to await: test() walks it right here, not on the background loop's thread."""
    import threading

    import servegraph as sg

    seen: list[str] = []

    def where(x: int) -> int:
        seen.append(threading.current_thread().name)
        return x + 1

    fn = sg.new_function("here", kind="serving")
    fn.set_topology("flow", engine="async").to(handler=where, name="a").to(
        handler=where, name="b"
    ).respond()
    server = fn.to_mock_server()
    assert server.test(body=1) == 3
    assert seen == [threading.current_thread().name] * 2
    server.wait_for_completion()


def test_create_graph_server_serves_routes_added_afterwards() -> None:
    from servegraph.graph import RouterStep
    from servegraph.serving import create_graph_server
    from tests.serving.steps import Sum

    host = create_graph_server(graph=RouterStep(), parameters={"offset": 10})
    host.graph.add_route("m", class_name=Sum)
    host.init_states(None, namespace=globals())
    host.init_object(globals())  # MLRun's second call: nothing left to do
    assert host.test("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [13]
    assert "kind: router" in host.to_yaml()
    lazy = create_graph_server()  # initialised by the first request
    lazy.graph.add_route("m", class_name=Sum)
    assert lazy.test("/v2/models/m/infer", {"inputs": [[1]]})["outputs"] == [1]
