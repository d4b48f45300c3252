"""Routers: ModelRouter, VotingEnsemble (votes, weights, executors) and SplitRouter."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from servegraph.errors import BadRequestError, GraphError, NotFoundError
from servegraph.graph import RouterStep
from servegraph.serving.mock import MockServer, create_mock_server
from servegraph.serving.parallel import ParallelRunnerModes
from servegraph.serving.routers import SplitRouter, VotingEnsemble
from servegraph.serving.v2_serving import V2ModelServer
from tests.serving.steps import Label, Sum


def serve(router: Any, **routes: tuple[Any, dict[str, Any]]) -> MockServer:
    if not isinstance(router, str):
        router.name = "ens"  # an instance keeps its own name (default: its class name)
    step = RouterStep(class_name=router, name="ens")
    for key, (cls, args) in routes.items():
        step.add_route(key, class_name=cls, **args)
    return create_mock_server({"graph": step}, namespace=globals())


def test_model_router_routes_by_name_and_lists() -> None:
    server = serve("ModelRouter", a=(Sum, {}), b=(Label, {"label": "x"}))
    assert server.test("/v2/models/a/infer", {"inputs": [[1, 2]]})["outputs"] == [3]
    assert server.test("/v2/models/b/infer", {"inputs": [[1, 2]]})["outputs"] == ["x"]
    assert server.test("/v2/models/", method="GET") == {"models": ["a", "b"]}


@pytest.mark.parametrize("executor_type", ["array", "thread", None])
def test_classification_vote_with_weights(executor_type: str | None) -> None:
    labels = {"a": (Label, {"label": 1}), "b": (Label, {"label": 2}), "c": (Label, {"label": 2})}
    plain = serve(VotingEnsemble(vote_type="classification", executor_type=executor_type), **labels)
    body = {"id": "r", "inputs": [[0], [0]]}
    assert plain.test("/v2/models/ens/infer", body) == {
        "id": "r",
        "model_name": "ens",
        "outputs": [2, 2],
    }
    weighted = serve(VotingEnsemble(vote_type="classification", weights={"a": 5}), **labels)
    assert weighted.test("/v2/models/ens/infer", body)["outputs"] == [1, 1]
    plain.wait_for_completion()


def test_regression_vote_is_the_weighted_mean() -> None:
    server = serve(
        VotingEnsemble(vote_type="regression", weights={"a": 3, "b": 1}),
        a=(Label, {"label": 1.0}),
        b=(Label, {"label": 5.0}),
    )
    assert server.test("/v2/models/ens/infer", {"inputs": [[0]]})["outputs"] == [2.0]


def test_vote_type_is_inferred_from_outputs() -> None:
    floats = serve(VotingEnsemble(), a=(Label, {"label": 1.5}), b=(Label, {"label": 2.5}))
    assert floats.test("/v2/models/infer", {"inputs": [[0]]})["outputs"] == [2.0]
    ints = serve(
        VotingEnsemble(), a=(Label, {"label": 3}), b=(Label, {"label": 3}), c=(Label, {"label": 4})
    )
    assert ints.test("/", {"inputs": [[0]]})["outputs"] == [3]


def test_ensemble_lists_members_and_reaches_one_member() -> None:
    server = serve(VotingEnsemble(), a=(Label, {"label": 1}), b=(Label, {"label": 2}))
    # MLRun's listing: the members, the ensemble itself, and the weights
    listing = {"models": ["a", "b", "ens"], "weights": None}
    assert server.test("/v2/models/", method="GET") == listing
    assert server.test("/v2/models/b/infer", {"inputs": [[0]]})["outputs"] == [2]
    assert server.test("/v2/models/ens", method="GET") == {
        "name": "ens",
        "version": "v1",
        "inputs": [],
        "outputs": [],
    }
    with pytest.raises(NotFoundError):
        server.test("/v2/models/ens/explain", {"inputs": [[0]]})


def test_ensemble_of_batching_members_votes_lists_and_reaches_one() -> None:
    batching = {"max_batch_size": 8, "max_batch_wait_ms": 1}
    server = serve(
        VotingEnsemble(),
        a=(Label, {"label": 1, **batching}),
        b=(Label, {"label": 1, **batching}),
        c=(Label, {"label": 2, **batching}),
    )
    body = server.test("/v2/models/ens/infer", {"id": "r1", "inputs": [[0], [1]]})
    assert body["outputs"] == [1, 1] and body["id"] == "r1"
    assert server.test("/v2/models/c/infer", {"inputs": [[0]]})["outputs"] == [2]
    assert server.test("/v2/models/", method="GET")["models"] == ["a", "b", "c", "ens"]
    assert server.test("/v2/models/ens", method="GET")["name"] == "ens"
    server.wait_for_completion()


def test_prediction_column_format() -> None:
    server = serve(
        VotingEnsemble(format_response_with_col_name_flag=True, prediction_col_name="label"),
        a=(Label, {"label": 7}),
    )
    assert server.test("/v2/models/ens/infer", {"inputs": [[0]]})["outputs"] == {"label": [7]}


class Column(V2ModelServer):
    """Answers ``{"predictions": [value per row]}`` (MLRun's prediction_col_name form)."""

    def predict(self, request: dict[str, Any]) -> Any:
        return {"predictions": [self.get_param("value") for _ in request["inputs"]]}


class Rows(V2ModelServer):
    """Answers a list of ``width`` values per row, each ``value`` times the column index+1."""

    def predict(self, request: dict[str, Any]) -> Any:
        width, value = self.get_param("width", 2), self.get_param("value")
        return [[value * (i + 1) for i in range(width)] for _ in request["inputs"]]


def test_members_answering_a_prediction_column_are_unwrapped() -> None:
    ensemble = VotingEnsemble(vote_type="regression", prediction_col_name="predictions")
    server = serve(ensemble, a=(Column, {"value": 10}), b=(Column, {"value": 30}))
    assert server.test("/v2/models/ens/infer", {"inputs": [[0], [0]]})["outputs"] == [20.0, 20.0]
    flagged = VotingEnsemble(
        prediction_col_name="predictions", format_response_with_col_name_flag=True
    )
    server = serve(
        flagged, a=(Column, {"value": 1}), b=(Column, {"value": 1}), c=(Column, {"value": 2})
    )
    assert server.test("/v2/models/infer", {"inputs": [[0]]})["outputs"] == {"predictions": [1]}
    missing = serve(VotingEnsemble(prediction_col_name="label"), a=(Column, {"value": 1}))
    with pytest.raises(BadRequestError, match="'label'"):
        missing.test("/v2/models/ens/infer", {"inputs": [[0]]})


def test_rows_of_lists_are_voted_element_by_element() -> None:
    regression = VotingEnsemble(vote_type="regression")
    server = serve(regression, a=(Rows, {"value": 1.0}), b=(Rows, {"value": 3.0}))
    out = server.test("/v2/models/ens/infer", {"inputs": [[0], [0], [0]]})["outputs"]
    assert out == [[2.0, 4.0]] * 3
    classes = VotingEnsemble(vote_type="classification")
    server = serve(classes, a=(Rows, {"value": 1}), b=(Rows, {"value": 1}), c=(Rows, {"value": 5}))
    assert server.test("/v2/models/ens/infer", {"inputs": [[0]]})["outputs"] == [[1, 2]]


def test_a_member_missing_from_the_weights_weighs_nothing() -> None:
    ensemble = VotingEnsemble(vote_type="regression", weights={"a": 1, "b": 1})
    server = serve(
        ensemble, a=(Label, {"label": 1.0}), b=(Label, {"label": 3.0}), c=(Label, {"label": 100.0})
    )
    assert server.test("/v2/models/ens/infer", {"inputs": [[0]]})["outputs"] == [2.0]
    listing = server.test("/v2/models/", method="GET")
    assert listing["weights"] == {"a": 1, "b": 1}
    with pytest.raises(GraphError, match="positive weight"):
        serve(VotingEnsemble(weights={"a": 0}), a=(Label, {}))


def test_members_run_in_threads_by_default() -> None:
    assert VotingEnsemble().executor_type == "thread"
    assert VotingEnsemble(executor_type=ParallelRunnerModes.array).executor_type == "array"


def test_process_executor_votes_in_worker_processes() -> None:
    server = serve(
        VotingEnsemble(executor_type="process", vote_type="regression"),
        a=(Sum, {}),
        b=(Label, {"label": 1.0}),
    )
    try:
        assert server.test("/v2/models/ens/infer", {"inputs": [[1, 2]]})["outputs"] == [2.0]
    finally:
        server.wait_for_completion()


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"vote_type": "median"}, "vote_type"), ({"executor_type": "gpu"}, "executor_type")],
)
def test_ensemble_rejects_bad_parameters(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(GraphError, match=parameter):
        VotingEnsemble(**kwargs)


def test_ensemble_weights_must_name_members() -> None:
    with pytest.raises(GraphError, match="zzz"):
        serve(VotingEnsemble(weights={"zzz": 1}), a=(Label, {}))


def test_split_router_sends_by_weight_and_by_path() -> None:
    server = serve(
        SplitRouter(weights={"stable": 3, "canary": 1}, seed=7),
        stable=(Label, {"label": "s"}),
        canary=(Label, {"label": "c"}),
    )
    answers = Counter(server.test("/", {"inputs": [[0]]})["outputs"][0] for _ in range(400))
    assert set(answers) == {"s", "c"} and answers["s"] > answers["c"]
    router = server.plan.nodes[0].object  # type: ignore[union-attr]
    assert sum(router.counts.values()) == 400
    assert server.test("/v2/models/canary/infer", {"inputs": [[0]]})["outputs"] == ["c"]


def test_split_router_is_sticky_by_key_field() -> None:
    server = serve(
        SplitRouter(weights={"a": 1, "b": 1}, key_field="user"),
        a=(Label, {"label": "a"}),
        b=(Label, {"label": "b"}),
    )
    first = {u: server.test("/", {"user": u, "inputs": [[0]]})["outputs"] for u in range(20)}
    again = {u: server.test("/", {"user": u, "inputs": [[0]]})["outputs"] for u in range(20)}
    assert first == again and len({tuple(v) for v in first.values()}) == 2
    with pytest.raises(BadRequestError, match="user"):
        server.test("/", {"inputs": [[0]]})


@pytest.mark.parametrize("weights", [{"a": -1}, {"zzz": 1}, {"a": 0}])
def test_split_router_rejects_bad_weights(weights: dict[str, float]) -> None:
    with pytest.raises(GraphError, match="SplitRouter"):
        serve(SplitRouter(weights=weights), a=(Label, {}))


def test_arguments_set_on_a_router_step_given_as_an_instance_rebuild_it() -> None:
    import servegraph as sg
    from servegraph.serving.ensemble import VotingEnsemble

    fn = sg.new_function("weights", kind="serving")
    graph = fn.set_topology("router", VotingEnsemble(vote_type="regression", weights={"a": 1}))
    graph.add_route("a", handler="(event)")
    first = fn.to_mock_server().test("/v2/models/", method="GET")
    graph.class_args["weights"] = {"a": 0.5}
    second = fn.to_mock_server().test("/v2/models/", method="GET")
    assert (first["weights"], second["weights"]) == ({"a": 1}, {"a": 0.5})
