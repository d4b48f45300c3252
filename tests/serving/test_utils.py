"""StepToDict / RouterToDict: a step instance written as the step dict that rebuilds it."""

from __future__ import annotations

from typing import Any

from servegraph.graph import RootFlowStep
from servegraph.graph.serialize import graph_from_dict
from servegraph.serving.mock import create_mock_server
from servegraph.serving.routers import ModelRouter
from servegraph.serving.utils import RouterToDict, StepToDict, class_path
from servegraph.serving.v2_serving import V2ModelServer


class Scale(StepToDict):
    def __init__(
        self,
        factor: int = 1,
        offset: int | None = None,
        name: str | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> None:
        self.factor, self.offset, self.name, self.context = factor, offset, name, context
        self.kwargs = kwargs

    def do(self, body: int) -> int:
        return body * self.factor + (self.offset or 0) + self.kwargs.get("bonus", 0)


class Fields(StepToDict):
    _dict_fields = ("a",)

    def __init__(self, a: int = 0, b: int = 0) -> None:
        self.a, self.b = a, b


class MyRouter(ModelRouter, RouterToDict):
    def __init__(self, prefix: str = "p", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix


def test_step_to_dict_writes_init_arguments_and_skips_none_and_meta() -> None:
    struct = Scale(factor=3, name="s", bonus=2).to_dict()
    assert struct == {
        "class_name": "tests.serving.test_utils.Scale",
        "name": "s",
        "class_args": {"factor": 3, "bonus": 2},
    }


def test_dict_fields_and_exclude_choose_the_arguments() -> None:
    assert Fields(a=1, b=2).to_dict()["class_args"] == {"a": 1}
    assert Scale(factor=2, offset=1).to_dict(exclude=["offset"])["class_args"] == {"factor": 2}
    assert Scale().to_dict()["name"] == "Scale"


def test_router_to_dict_has_the_router_kind_and_no_routes() -> None:
    struct = MyRouter(prefix="x").to_dict()
    assert struct["kind"] == "router" and "routes" not in struct["class_args"]
    assert struct["class_args"]["prefix"] == "x"


def test_the_dict_rebuilds_a_step_that_answers_the_same(engine: str) -> None:
    step = Scale(factor=3, offset=1, name="s", bonus=10)
    struct = step.to_dict()
    graph = graph_from_dict({"kind": "flow", "engine": engine, "steps": {"s": struct}})
    rebuilt = create_mock_server({"graph": graph}, namespace=globals())
    original = RootFlowStep(engine=engine)
    original.to(step, name="s")
    assert rebuilt.test(body=2) == create_mock_server({"graph": original}).test(body=2) == 17


def test_class_path_of_main_and_builtins_is_the_bare_name() -> None:
    assert class_path(int) == "int"
    assert class_path(Scale) == "tests.serving.test_utils.Scale"


class Doubler(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> list[float]:
        return [x * 2 * float(self.get_param("factor", 1)) for x in request["inputs"]]


def test_v2_model_server_to_dict_rebuilds_the_model() -> None:
    model = Doubler(name="dbl:v3", model_path="/m.pkl", factor=5, result_path="out")
    struct = model.to_dict()
    assert struct == {
        "class_name": "tests.serving.test_utils.Doubler",
        "name": "dbl:v3",
        "class_args": {"model_path": "/m.pkl", "factor": 5, "protocol": "v2", "result_path": "out"},
    }
    rebuilt = Doubler(name=struct["name"], **struct["class_args"])
    assert (rebuilt.name, rebuilt.version, rebuilt.get_param("factor")) == ("dbl", "v3", 5)


def test_set_metric_goes_into_every_tracking_record() -> None:
    from servegraph.serving.event import Event
    from servegraph.serving.model_tracking import tracking_record

    model = Doubler(name="dbl")
    plain = tracking_record(model, Event(body={}), {"inputs": [1]}, [2], 0.0, "t", None)
    assert "metrics" not in plain
    model.set_metric("drift_score", 0.25)
    record = tracking_record(model, Event(body={}), {"inputs": [1]}, [2], 0.0, "t", None)
    assert record["metrics"] == {"drift_score": 0.25}
