"""V2ModelServer: operations by path, hooks, errors and the tracker records."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from servegraph.errors import BadRequestError, NotFoundError, NotReadyError, StepError
from servegraph.graph import RootFlowStep, RouterStep
from servegraph.serving import V2ModelServer
from servegraph.serving.context import GraphContext
from servegraph.serving.event import Event, MockTrigger
from servegraph.serving.mock import MockServer, create_mock_server
from tests.serving.steps import Failing, RecordingTracker, Sum


class Scaled(Sum):
    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        return {**request, "inputs": [[v * 10 for v in row] for row in request["inputs"]]}

    def postprocess(self, response: dict[str, Any]) -> dict[str, Any]:
        return {**response, "post": True}

    def explain(self, request: dict[str, Any]) -> Any:
        return {"weights": [1] * len(request["inputs"][0])}

    def op_echo(self, event: Event) -> Any:
        return {"echo": event.body}


class Strict(Sum):
    def validate(self, request: dict[str, Any], operation: str) -> None:
        if len(request["inputs"]) > 2:
            raise BadRequestError("at most 2 rows")


def router_server(*models: tuple[str, Any, dict[str, Any]], tracker: bool = False) -> MockServer:
    router = RouterStep()
    for key, cls, args in models:
        router.add_route(key, class_name=cls, **args)
    spec: dict[str, Any] = {"graph": router, "parameters": {"offset": 0}}
    if tracker:
        spec["tracking"] = {"class": "tests.serving.steps:RecordingTracker", "batch": 5}
    return create_mock_server(spec, name="fn", project="proj", namespace=globals())


def test_infer_and_predict_paths() -> None:
    server = router_server(("m1", Sum, {}), ("m2:v2", Sum, {"offset": 100}))
    body = {"id": "req-1", "inputs": [[1, 2], [3, 4]]}
    assert server.test("/v2/models/m1/infer", body) == {
        "id": "req-1",
        "model_name": "m1",
        "outputs": [3, 7],
    }
    versioned = server.test("/v2/models/m2/versions/v2/predict", {"inputs": [[1]]})
    assert versioned["outputs"] == [101]
    assert versioned["model_version"] == "v2"
    assert versioned["id"]  # an id is generated when the request has none
    # a name without a version reaches the (latest) versioned route
    assert server.test("/v2/models/m2/infer", {"inputs": [[1]]})["model_name"] == "m2"


def test_bare_list_and_json_bytes_bodies() -> None:
    server = router_server(("m1", Sum, {}))
    assert server.test("/v2/models/m1/infer", [[1, 1]])["outputs"] == [2]
    raw = b'{"inputs": [[2, 2]]}'
    assert server.test("/v2/models/m1/infer", raw)["outputs"] == [4]


def test_hooks_explain_and_custom_operation() -> None:
    server = router_server(("m", Scaled, {}))
    response = server.test("/v2/models/m/infer", {"inputs": [[1, 2]]})
    assert response["outputs"] == [30] and response["post"] is True
    assert server.test("/v2/models/m/explain", {"inputs": [[1, 2]]})["outputs"] == {
        "weights": [1, 1]
    }
    assert server.test("/v2/models/m/echo", {"a": 1}) == {"echo": {"a": 1}}


def test_validate_hook_rejects() -> None:
    server = router_server(("m", Strict, {}))
    response = server.test(
        "/v2/models/m/infer", {"inputs": [[1], [2], [3]]}, silent=True, get_body=False
    )
    assert (response.status_code, response.body) == (400, {"error": "at most 2 rows"})


def test_listing_metadata_ready_and_health() -> None:
    server = router_server(("m1", Sum, {}), ("m2", Sum, {}))
    assert server.test("/v2/models/", method="GET") == {"models": ["m1", "m2"]}
    assert server.test("/v2/models/m1", method="GET") == {
        "name": "m1",
        "version": "",
        "versions": [],
        "platform": "servegraph",
        "inputs": [],
        "outputs": [],
    }
    ready = server.test("/v2/models/m1/ready", method="GET", event_id="e7")
    assert (ready.status_code, ready.body) == (200, b"Model m1 is ready (event_id = e7)")
    # GET / and /v2/health go through the graph: the router answers (MLRun)
    health = {"name": "ModelRouter", "version": "v2", "extensions": []}
    assert server.test("/", method="GET") == server.test("/v2/health", method="GET") == health


@pytest.mark.parametrize(
    ("path", "body", "error", "status"),
    [
        ("/v2/models/nope/infer", {"inputs": [[1]]}, NotFoundError, 404),
        ("/v2/models/m1/versions/v9/infer", {"inputs": [[1]]}, NotFoundError, 404),
        ("/v2/models/m1/no_such_op", {"inputs": [[1]]}, NotFoundError, 404),
        ("/v2/models/m1/explain", {"inputs": [[1]]}, NotFoundError, 404),
        ("/v2/models/m1/infer", {"rows": [[1]]}, BadRequestError, 400),
        ("/v2/models/m1/infer", {"inputs": "x"}, BadRequestError, 400),
        ("/v2/models/m1/infer", b"{not json", BadRequestError, 400),
        ("/v2/models/m1/infer", 42, BadRequestError, 400),
    ],
)
def test_request_errors(path: str, body: Any, error: type[Exception], status: int) -> None:
    server = router_server(("m1", Sum, {}))
    with pytest.raises(error) as info:
        server.test(path, body, content_type="application/json")
    assert getattr(info.value, "status_code", None) == status


def test_path_without_model_name_needs_a_single_route() -> None:
    assert router_server(("m1", Sum, {})).test("/", {"inputs": [[5]]})["outputs"] == [5]
    server = router_server(("m1", Sum, {}), ("m2", Sum, {}))
    with pytest.raises(NotFoundError, match="names no model"):
        server.test("/", {"inputs": [[5]]})
    assert server.test("/", {"model": "m2", "inputs": [[5]]})["model_name"] == "m2"


def test_model_failure_is_a_step_error() -> None:
    server = router_server(("bad", Failing, {}))
    with pytest.raises(StepError, match="model exploded"):
        server.test("/v2/models/bad/infer", {"inputs": [[1]]})


def test_model_server_as_a_flow_step_with_paths() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(Sum, name="m", input_path="req", result_path="resp").respond()
    server = create_mock_server({"graph": graph}, namespace=globals())
    body = server.test("/", {"req": {"inputs": [[1, 2]]}, "other": 1})
    assert body["other"] == 1 and body["resp"]["outputs"] == [3]


def test_tracker_gets_one_record_per_request() -> None:
    RecordingTracker.instances.clear()
    server = router_server(("m1", Sum, {}), ("bad", Failing, {}), tracker=True)
    tracker = RecordingTracker.instances[-1]
    assert tracker.batch == 5
    server.test("/v2/models/m1/infer", {"id": "r1", "inputs": [[1, 2]]})
    server.test("/v2/models/bad/infer", {"id": "r2", "inputs": [[3]]}, silent=True)
    server.test("/v2/models/m1", method="GET")  # metadata is not tracked
    assert tracker.started == 1
    ok, failed = tracker.records
    assert ok["model_name"] == "m1" and ok["request_id"] == "r1"
    assert ok["function"] == "fn" and ok["model_version"] is None
    assert ok["inputs"] == [[1, 2]] and ok["outputs"] == [3] and ok["error"] is None
    assert ok["latency_ms"] >= 0 and ok["timestamp"].endswith("+00:00")
    assert ok["endpoint_id"] != failed["endpoint_id"]
    assert failed["error"] == "RuntimeError: model exploded" and failed["outputs"] == []
    server.wait_for_completion()
    assert tracker.closed == 1


def test_failing_tracker_does_not_fail_the_request() -> None:
    class BrokenTracker(RecordingTracker):
        def log(self, record: dict[str, Any]) -> None:
            raise OSError("disk full")

    model = Sum(context=GraphContext(), name="m")
    model.context.tracker = BrokenTracker()
    model.post_init()
    event = model.do_event(Event({"inputs": [[1]]}, path="/v2/models/m/infer"))
    assert event.body["outputs"] == [1]


def test_get_model_from_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"x")
    (tmp_path / "extra.json").write_text("{}")
    model = V2ModelServer(name="m", model_path=str(tmp_path))
    path, extra = model.get_model(".pkl")
    assert path.endswith("model.pkl") and list(extra) == ["extra.json"]
    assert V2ModelServer(model_path=path).get_model() == (path, {})
    with pytest.raises(NotFoundError, match=r"\.onnx"):
        model.get_model(".onnx")
    with pytest.raises(NotFoundError, match="does not exist"):
        V2ModelServer(model_path=str(tmp_path / "nope.pkl")).get_model()


def test_get_param_reads_class_args_then_spec() -> None:
    context = GraphContext(parameters={"a": 1, "b": 2})
    model = V2ModelServer(context=context, name="m:v3", b=20)
    assert (model.get_param("a"), model.get_param("b"), model.get_param("c", 3)) == (1, 20, 3)
    assert (model.name, model.version) == ("m", "v3")


def test_async_load_waits_then_reports_errors() -> None:
    class SlowLoad(Sum):
        def load(self) -> None:
            raise OSError("cannot read model")

    stream = MockTrigger(kind="stream")
    model = SlowLoad(context=GraphContext(), name="m")
    model.post_init("async")
    with pytest.raises(NotReadyError, match="cannot read model"):
        model.do_event(Event({"inputs": [[1]]}, path="/infer", trigger=stream))
    ready = model.do_event(Event(method="GET", path="/ready")).body
    assert (ready.status_code, ready.body) == (408, b"model not ready")
    ok = Sum(context=GraphContext(), name="m")
    ok.post_init("async")
    event = Event({"inputs": [[1]]}, path="/infer", trigger=stream)
    assert ok.do_event(event).body["outputs"] == [1]


def test_while_loading_a_request_fails_at_once_and_a_stream_event_waits() -> None:
    gate = threading.Event()

    class Gated(Sum):
        def load(self) -> None:
            gate.wait(10)
            super().load()

    model = Gated(context=GraphContext(is_mock=True), name="m")
    model.post_init("async")
    try:
        with pytest.raises(NotReadyError, match="still loading"):
            model.do_event(Event({"inputs": [[1]]}, path="/infer"))
        ready = model.do_event(Event(method="GET", path="/ready")).body
        assert ready.status_code == 408
        threading.Timer(0.05, gate.set).start()
        event = Event({"inputs": [[2]]}, path="/", trigger=MockTrigger(kind="kafka"))
        assert model.do_event(event).body["outputs"] == [2]  # waited for the load
    finally:
        gate.set()


def test_the_body_operation_selects_the_operation_of_a_stream_record() -> None:
    server = router_server(("m1", Sum, {}), ("m2", Sum, {}))
    explained = {"model": "m2", "operation": "explain", "inputs": [[1]]}
    with pytest.raises(NotFoundError, match="explain"):  # Sum has no explain: it was chosen
        server.test("/", explained)
    assert server.test("/", {"model": "m2", "inputs": [[1, 2]]})["outputs"] == [3]
    assert (
        server.test("/", {"model": "m2", "operation": "infer", "inputs": [[1]]})["model_name"]
        == "m2"
    )
