"""Lossless round trip: every argument of every step, router and model survives
to_dict / from_dict / export, instances included.

Property: for every graph of the corpus below (the step kinds, routers, model
steps and flow shapes the test suite builds, with the helpers of
tests/serving/steps.py), the server built from the exported spec, and the one
built from ``from_dict(to_dict())``, answer each request what the original
answers (body and status).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import servegraph as sg
from servegraph.errors import DeployError, ServegraphError
from servegraph.functions.serving import ServingFunction
from servegraph.graph import TaskStep
from servegraph.graph.init_args import init_args, unplain_args
from servegraph.serving import V2ModelServer, commands
from servegraph.serving.event import Event
from servegraph.serving.routers import ModelRouter, SplitRouter, VotingEnsemble
from tests.serving.steps import Boom, Double, Inc, Label, Sum, Tag, catcher

Request = tuple[str, Any]


class Times(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return [x * self.get_param("multiplier", 1) for x in request["inputs"]]


class Offset:
    def __init__(self, offset: int = 0, scale: float = 1.0, tags: tuple[str, ...] = ()) -> None:
        self.offset, self.scale, self.tags = offset, scale, tags

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "value": body["value"] * self.scale + self.offset, "tags": list(self.tags)}


class WithParams:
    """A class that reports its arguments with get_params (scikit-learn's way)."""

    def __init__(self, alpha: float = 0.0, layers: list[int] | None = None) -> None:
        self._settings = {"alpha": alpha, "layers": layers}

    def get_params(self) -> dict[str, Any]:
        return dict(self._settings)

    def do(self, body: Any) -> Any:
        return {"body": body, "settings": self._settings}


def add_key(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "seen": True}


def split_canary() -> ServingFunction:
    fn = sg.new_function("split", kind="serving")
    fn.set_topology("router", SplitRouter(weights={"stable": 9, "canary": 1}, seed=11))
    fn.add_model("stable", class_name=Label(label="stable"))
    fn.add_model("canary", class_name=Label(label="canary"))
    return fn


def voting() -> ServingFunction:
    fn = sg.new_function("vote", kind="serving")
    fn.set_topology(
        "router", VotingEnsemble(vote_type="regression", weights={"a": 1, "b": 3, "c": 0})
    )
    fn.add_model("a", class_name=Label(label=1.0))
    fn.add_model("b", class_name=Label(label=5.0))
    fn.add_model("c", class_name=Sum, offset=100)
    return fn


def model_instances() -> ServingFunction:
    fn = sg.new_function("inst", kind="serving", parameters={"offset": 2})
    fn.set_topology("router", ModelRouter(url_prefix="/v2/models"))
    fn.add_model("big", class_name=Times(multiplier=100))
    fn.add_model("batched", class_name=Times(multiplier=3, max_batch_size=4))
    fn.add_model("sum:v2", class_name="tests.serving.steps.Sum", model_path="unused.pkl")
    return fn


def flow_shapes() -> ServingFunction:
    fn = sg.new_function("flow", kind="serving")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(Offset(offset=5, scale=2.0, tags=("x", "y")), name="offset").to(
        name="seen", handler="add_key", input_path="inner", result_path="inner_out"
    )
    graph.add_step(Tag(), name="tag", after="offset", full_event=True)
    graph.add_step("Merge", name="merge", after=["seen", "tag"]).respond()
    return fn


def async_chain() -> ServingFunction:
    fn = sg.new_function("chain", kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to(Inc(by=7), name="inc").to(Double(), name="double").to(
        name="expr", handler="(event - 1)"
    ).to(">>", "inproc", path="").to(WithParams(alpha=0.5, layers=[3, 4]), name="params").respond()
    return fn


def error_path() -> ServingFunction:
    fn = sg.new_function("errors", kind="serving")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(Boom(), name="boom").respond()
    graph.add_step(handler=catcher, name="catch", full_event=True)
    graph["boom"].error_handler("catch")
    return fn


CORPUS: dict[str, tuple[Callable[[], ServingFunction], list[Request]]] = {
    "split-9-1": (split_canary, [("/v2/models/infer", {"inputs": [[i]]}) for i in range(40)]),
    "voting": (voting, [("/v2/models/infer", {"inputs": [[1, 2], [3, 4]]})]),
    "model-instances": (
        model_instances,
        [
            ("/v2/models/big/infer", {"inputs": [5]}),
            ("/v2/models/batched/infer", {"inputs": [1, 2]}),
            ("/v2/models/sum/versions/v2/infer", {"inputs": [[1, 2]]}),
            ("/v2/models/nope/infer", {"inputs": [1]}),
        ],
    ),
    "flow-shapes": (flow_shapes, [("/", {"value": 1, "inner": {"a": 1}})]),
    "async-chain": (async_chain, [("/", 1), ("/", 10)]),
    "error-path": (error_path, [("/", 3)]),
}


def _answer(run: Callable[[Event], Any], path: str, body: Any) -> tuple[int, Any]:
    try:
        response = run(Event(body=json.loads(json.dumps(body)), path=path, method="POST"))
    except ServegraphError as exc:
        return exc.status_code, type(exc).__name__
    result = response.body
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k != "id"}
    return response.status_code, result


def _answers(server: Any, requests: list[Request]) -> list[tuple[int, Any]]:
    return [_answer(server.run, path, body) for path, body in requests]


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_exported_and_round_tripped_servers_answer_as_the_original(
    case: str, tmp_path: Path
) -> None:
    build, requests = CORPUS[case]
    original = _answers(build().to_mock_server(namespace=globals()), requests)
    assert all(status < 500 for status, _ in original[:1]), original

    fn = build()
    exported = commands.load_server(fn.export(tmp_path / "fn.yaml", namespace=globals()))
    assert _answers(exported, requests) == original

    copy = ServingFunction.from_dict(json.loads(json.dumps(build().to_dict())))
    assert _answers(copy.to_mock_server(namespace=globals()), requests) == original


def test_split_router_keeps_its_weights_after_export(tmp_path: Path) -> None:
    server = commands.load_server(split_canary().export(tmp_path / "s.yaml", namespace=globals()))
    labels = [
        _answer(server.run, "/v2/models/infer", {"inputs": [[1]]})[1]["outputs"][0]
        for _ in range(400)
    ]
    assert 300 < labels.count("stable") < 400 and labels.count("canary") > 10  # 9:1, not 50/50


def test_model_instance_answers_500_after_a_round_trip() -> None:
    fn = sg.new_function("m", kind="serving")
    fn.add_model("m", class_name=Times(multiplier=100))
    copy = ServingFunction.from_dict(fn.to_dict())
    assert copy.to_mock_server().test("/v2/models/m/infer", body={"inputs": [5]})["outputs"] == [
        500
    ]


def test_voting_ensemble_keeps_weights_and_vote_type() -> None:
    graph = voting().to_dict()["spec"]["graph"]
    assert graph["class_args"]["vote_type"] == "regression"
    assert graph["class_args"]["weights"] == {"a": 1, "b": 3, "c": 0}


def test_init_args_reads_parameters_kwargs_and_get_params() -> None:
    assert init_args(Offset()) == {}
    assert init_args(Offset(offset=2, tags=("a",))) == {"offset": 2, "tags": ["a"]}
    assert init_args(Times(multiplier=7, model_path="m.pkl")) == {
        "model_path": "m.pkl",
        "protocol": "v2",
        "multiplier": 7,
    }
    assert init_args(WithParams(alpha=1.0)) == {"alpha": 1.0, "layers": None}
    step = TaskStep(Offset(offset=1), {"scale": 3.0})
    assert step.to_dict()["class_args"] == {"offset": 1, "scale": 3.0}  # explicit args win


def test_arguments_that_cannot_travel_are_refused_at_export(tmp_path: Path) -> None:
    fn = sg.new_function("bad", kind="serving")
    fn.set_topology("flow").to(Offset(offset=object()), name="offset").respond()  # type: ignore[arg-type]
    assert unplain_args(fn.spec.graph["offset"].class_name) == ["offset"]  # type: ignore[index]
    with pytest.raises(DeployError, match=r"step 'offset'.*\['offset'\].*not plain data"):
        fn.export(tmp_path / "bad.yaml")
    fn = sg.new_function("lam", kind="serving")
    fn.set_topology("flow").to(name="f", handler=lambda body: body).respond()
    with pytest.raises(DeployError, match="lambda"):
        fn.export(tmp_path / "lam.yaml")
