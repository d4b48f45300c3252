"""The serving function: topology, models, tracking, mock server, mock deploy, spec."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import servegraph as sg
from servegraph.errors import DeployError, GraphError
from servegraph.functions.deploy import deploy_function
from servegraph.functions.serving import ServingFunction
from servegraph.functions.serving_options import TRACKER_CLASS
from servegraph.graph import RootFlowStep, RouterStep
from servegraph.serving import V2ModelServer
from servegraph.serving.routers import VotingEnsemble
from tests.serving.steps import RecordingTracker


class Adder(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) for row in request["inputs"]]


def preprocess(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "inputs": [[v + 1 for v in row] for row in body["inputs"]]}


def test_new_function_dispatches_to_serving() -> None:
    fn = sg.new_function("srv", kind="serving", project="proj")
    assert isinstance(fn, ServingFunction)
    assert (fn.name, fn.project, fn.uri) == ("srv", "proj", "proj/srv")


def test_router_topology_with_models_through_the_mock_server() -> None:
    fn = sg.new_function("srv", kind="serving", project="proj")
    fn.add_model("m1", class_name="Adder")  # class name from this module's globals
    fn.add_model("m1:v2", class_name=Adder, model_path="/models/m1")
    server = fn.to_mock_server()
    assert server.test("/v2/models/m1/infer", {"inputs": [[1, 2]]})["outputs"] == [3]
    assert (
        server.test("/v2/models/m1/versions/v2/infer", {"inputs": [[1]]})["model_version"] == "v2"
    )
    assert server.context.project == "proj" and server.context.name == "srv"
    route = fn.spec.graph.routes["m1:v2"]  # type: ignore[union-attr]
    assert route.class_args == {"model_path": "/models/m1"}


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_flow_topology_with_router_step(engine: str) -> None:
    fn = sg.new_function("flowy", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    assert isinstance(graph, RootFlowStep) and graph.engine == engine
    graph.to(handler="preprocess", name="pre").to("ModelRouter", name="router").respond()
    fn.add_model("m", class_name=Adder, router_step="router")
    server = fn.to_mock_server()
    assert server.test("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [5]


def test_router_topology_takes_an_ensemble_instance_positionally() -> None:
    fn = sg.new_function("ens", kind="serving")
    fn.set_topology("router", VotingEnsemble(vote_type="regression"))
    fn.add_model("a", class_name=Adder)
    fn.add_model("b", class_name=Adder)
    server = fn.to_mock_server()
    assert server.test("/v2/models/VotingEnsemble/infer", {"inputs": [[1, 3]]})["outputs"] == [4.0]


def test_set_topology_rules() -> None:
    fn = sg.new_function("t", kind="serving")
    graph = fn.set_topology("flow")
    assert graph.engine == "async"
    with pytest.raises(GraphError, match="exist_ok"):
        fn.set_topology("flow")
    graph.to(name="inc", handler="(event + 1)")
    replaced = fn.set_topology("flow", exist_ok=True)
    assert replaced is not graph and not replaced.steps  # a new, empty graph (MLRun)
    assert fn.spec.graph is replaced
    assert isinstance(fn.set_topology("router", exist_ok=True), RouterStep)
    with pytest.raises(GraphError, match="topology"):
        sg.new_function("x", kind="serving").set_topology("star")
    with pytest.raises(GraphError, match="engine"):
        sg.new_function("x", kind="serving").set_topology("router", engine="async")
    with pytest.raises(GraphError, match="engine"):
        sg.new_function("x", kind="serving").set_topology("flow", engine="fast")


def test_add_model_errors() -> None:
    fn = sg.new_function("t", kind="serving")
    with pytest.raises(GraphError, match="class_name"):
        fn.add_model("m")
    with pytest.raises(GraphError, match="model_url"):
        fn.add_model("m", class_name=Adder, model_url="http://x")
    flow_fn = sg.new_function("f", kind="serving")
    graph = flow_fn.set_topology("flow")
    graph.to(handler="preprocess", name="pre")
    with pytest.raises(GraphError, match="0 routers"):
        flow_fn.add_model("m", class_name=Adder)
    with pytest.raises(GraphError, match="not a router"):
        flow_fn.add_model("m", class_name=Adder, router_step="pre")


def test_set_tracking_fills_the_spec_and_mock_tracks_only_when_asked() -> None:
    fn = sg.new_function("t", kind="serving", project="p")
    fn.add_model("m", class_name=Adder)
    fn.set_tracking(stream_path="redis://localhost/s", batch=10, sample=0.5)
    assert fn.spec.tracking == {
        "class": TRACKER_CLASS,
        "stream_path": "redis://localhost/s",
        "batch": 10,
        "sample": 0.5,
        "stream_args": None,
    }
    assert fn.serving_spec()["tracking"]["class"] == TRACKER_CLASS
    fn.spec.tracking["class"] = "tests.serving.steps:RecordingTracker"
    untracked = fn.to_mock_server()
    assert untracked.context.tracker is None
    tracked = fn.to_mock_server(track_models=True)
    tracker = tracked.context.tracker
    assert isinstance(tracker, RecordingTracker) and tracker.stream_path == "redis://localhost/s"
    tracked.test("/v2/models/m/infer", {"inputs": [[1, 1]]})
    tracked.wait_for_completion()
    assert [r["outputs"] for r in tracker.records] == [[2]] and tracker.closed == 1
    with pytest.raises(GraphError, match="batch"):
        fn.set_tracking(batch=0)
    with pytest.raises(GraphError, match="sample"):
        fn.set_tracking(sample=-1)


def test_mock_deploy_and_invoke() -> None:
    fn = sg.new_function("d", kind="serving")
    fn.add_model("m", class_name="Adder")
    with pytest.raises(DeployError, match="not deployed"):
        fn.invoke("/v2/models/m/infer", {"inputs": [[1]]})
    assert sg.deploy_function(fn, mock=True) is fn
    assert fn.invoke("/v2/models/m/infer", body={"inputs": [[2, 2]]})["outputs"] == [4]
    assert fn.invoke("/v2/models/", method="GET") == {"models": ["m"]}
    with pytest.raises(DeployError, match="serving function"):
        deploy_function("not a function", mock=True)  # type: ignore[arg-type]


class ClosingAdder(Adder):
    closed = 0

    def close(self) -> Any:
        ClosingAdder.closed += 1
        return super().close()


def test_mock_redeploy_closes_the_previous_mock_server() -> None:
    ClosingAdder.closed = 0
    fn = sg.new_function("d3", kind="serving")
    fn.add_model("m", class_name="ClosingAdder")
    deploy_function(fn, mock=True)
    first = fn._mock_server
    deploy_function(fn, mock=True)
    assert fn._mock_server is not first and ClosingAdder.closed == 1  # old hooks ran
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [3]


def test_mock_deploy_with_models_and_env() -> None:
    fn = sg.new_function("d2", kind="serving")
    deploy_function(fn, models=[{"key": "m", "class_name": "Adder"}], env={"A": "1"}, mock=True)
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [3]
    assert fn.spec.env == {"A": "1"}
    with pytest.raises(DeployError, match="models"):
        deploy_function(fn, models=[{"class_name": "Adder"}], mock=True)


def test_mlconf_decides_mock_deployment_and_invoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sg.mlconf, "mock_nuclio_deployment", "1")
    monkeypatch.delenv("SERVEGRAPH_NUCLIO_DASHBOARD", raising=False)
    fn = sg.new_function("conf", kind="serving")
    fn.add_model("m", ".", class_name=Adder(name="m"))
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [3]  # no deploy
    assert (
        fn._mock_server is not None
        and fn._mock_server.graph.routes["m"].class_name.model_path == "."
    )
    with pytest.raises(DeployError, match="no deployed address"):
        fn.invoke("/v2/models/m/infer", {"inputs": [[1]]}, mock=False)
    fn._set_as_mock(False)
    assert fn._mock_server is None
    monkeypatch.setattr(sg.mlconf, "mock_nuclio_deployment", "")
    with pytest.raises(DeployError):  # no mock, no Nuclio dashboard: a real deploy fails
        sg.deploy_function(fn)
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[2, 2]]}, mock=True)["outputs"] == [4]
    monkeypatch.setattr(sg.mlconf, "mock_nuclio_deployment", "auto")
    monkeypatch.setattr(sg.mlconf, "nuclio_version", "")
    fn._set_as_mock(False)
    sg.deploy_function(fn)  # auto: no Nuclio configured, so in-process
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[5]]})["outputs"] == [5]
    monkeypatch.setattr(sg.mlconf, "nuclio_version", "1.13.0")
    assert not sg.mlconf.use_mock(None, dashboard="")


def test_project_deploys_a_function_in_process() -> None:
    project = sg.new_project("mock-proj", save=False)
    fn = sg.new_function("pfn", kind="serving")
    fn.add_model("m", class_name="Adder")
    assert project.deploy_function(fn, mock=True) is fn
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[1, 1]]})["outputs"] == [2]
    assert fn.project == "mock-proj"


def test_dict_and_yaml_round_trip(tmp_path: Path) -> None:
    fn = ServingFunction("rt", project="p", tag="v1", parameters={"a": 1})
    graph = fn.set_topology("flow", engine="sync")
    graph.to(handler="preprocess", name="pre").to("ModelRouter", name="router").respond()
    fn.add_model("m", class_name="tests.functions.test_serving_function.Adder")
    fn.set_env("X", "1")
    fn.set_tracking(batch=5)
    struct = fn.to_dict()
    assert struct["metadata"] == {"name": "rt", "project": "p", "tag": "v1"}
    text = fn.to_yaml(tmp_path / "fn.yaml")
    again = ServingFunction.from_dict(yaml.safe_load(text))
    assert again.to_dict() == struct and again.uri == "p/rt:v1"
    server = again.to_mock_server()
    assert server.test("/v2/models/m/infer", {"inputs": [[1]]})["outputs"] == [2]
    assert (tmp_path / "fn.yaml").read_text() == text


def test_unknown_constructor_and_mock_arguments() -> None:
    with pytest.raises(GraphError, match="colour"):
        ServingFunction("x", colour="red")
    fn = sg.new_function("x", kind="serving")
    fn.add_model("m", class_name=Adder)
    with pytest.raises(GraphError, match="bogus"):
        fn.to_mock_server(bogus=1)
    assert fn.to_mock_server(parameters={"k": 2}).context.get_param("k") == 2


def test_export_and_deploy_delegate_to_the_nuclio_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    calls: list[Any] = []
    spec_module = types.ModuleType("servegraph.serving.nuclio_spec")
    spec_module.build_nuclio_spec = lambda fn_dict: {"spec": {"fn": fn_dict["metadata"]["name"]}}  # type: ignore[attr-defined]
    deploy_module = types.ModuleType("servegraph.serving.nuclio_deploy")
    deploy_module.deploy = lambda spec, dashboard: (
        calls.append((spec, dashboard)) or "http://fn:8080"
    )  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "servegraph.serving.nuclio_spec", spec_module)
    monkeypatch.setitem(sys.modules, "servegraph.serving.nuclio_deploy", deploy_module)
    fn = sg.new_function("nu", kind="serving")
    fn.add_model("m", class_name=Adder)
    path = fn.export(tmp_path / "function.yaml")
    assert yaml.safe_load(Path(path).read_text()) == {"spec": {"fn": "nu"}}
    assert fn.deploy(dashboard="http://dash:8070") == "http://fn:8080"
    assert calls == [({"spec": {"fn": "nu"}}, "http://dash:8070")]
    assert fn.status_address == "http://fn:8080"


def test_add_trigger_writes_nuclio_trigger_sections(tmp_path: Path) -> None:
    from servegraph.cli import build_parser
    from servegraph.serving import stream_source

    fn = sg.new_function("trig", kind="serving")
    fn.set_topology("router").add_route("m", class_name="tests.serving.steps.Sum")
    fn.add_trigger("requests", "kafka://b1:9092/requests")
    fn.add_trigger("nightly", {"kind": "cron", "attributes": {"interval": "1h"}})
    path = fn.export(tmp_path / "fn.yaml")
    triggers = yaml.safe_load(Path(path).read_text())["spec"]["triggers"]
    assert set(triggers) == {"http", "requests", "nightly"}
    assert triggers["nightly"] == {"kind": "cron", "attributes": {"interval": "1h"}}
    # the section reads what `servegraph serve SPEC --source URL` reads
    args = build_parser().parse_args(["serve", path, "--source", "kafka://b1:9092/requests"])
    kafka = triggers["requests"]
    assert kafka["kind"] == "kafka-cluster" and kafka["maxWorkers"] == args.concurrency
    assert kafka["attributes"]["brokers"] == ["b1:9092"]
    assert kafka["attributes"]["topics"] == ["requests"]
    assert kafka["attributes"]["consumerGroup"] == stream_source.DEFAULT_GROUP
    again = ServingFunction.from_dict(fn.to_dict())
    assert again.spec.triggers == fn.spec.triggers  # the round trip keeps them


@pytest.mark.parametrize(
    ("name", "spec", "match"),
    [
        ("", {"kind": "cron"}, "'name' parameter of add_trigger"),
        ("t", 42, "'spec' parameter of add_trigger"),
        ("t", {"attributes": {}}, "'kind'"),
        ("t", "redis://localhost:6379/s", "kafka://"),
    ],
)
def test_add_trigger_rejects_bad_specs(name: str, spec: Any, match: str) -> None:
    fn = sg.new_function("trig", kind="serving")
    with pytest.raises(DeployError, match=match):
        fn.add_trigger(name, spec)
