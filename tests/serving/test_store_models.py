"""``model_path="store://models/..."`` wherever a model is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import servegraph as sg
from servegraph.errors import GraphError, NotFoundError
from servegraph.functions.context import build_context
from servegraph.serving.v2_serving import V2ModelServer


def _log_model(key: str, threshold: float, tag: str = "") -> dict[str, Any]:
    x = np.array([[v] for v in range(20)], dtype=float)
    y = (x[:, 0] > threshold).astype(int)
    model = LogisticRegression().fit(x, y)
    ctx = build_context("train", {"metadata": {"project": "shop"}})
    return ctx.log_model(key, body=model, model_file="model.pkl", tag=tag)


def test_sklearn_server_loads_a_store_uri_by_tag_and_by_uid() -> None:
    first = _log_model("clf", 4.5, tag="v1")
    _log_model("clf", 14.5, tag="v2")
    fn = sg.new_function("s", kind="serving", project="shop")
    fn.set_topology("router")
    fn.add_model("a", class_name="SKLearnModelServer", model_path="store://models/shop/clf:v1")
    fn.add_model("b", class_name="SKLearnModelServer", model_path="store://models/shop/clf")
    uid = first["metadata"]["hash"]
    fn.add_model("c", class_name="SKLearnModelServer", model_path=f"store://models/shop/clf@{uid}")
    server = fn.to_mock_server()
    body = {"inputs": [[10.0]]}
    assert server.test("/v2/models/a/infer", body=body)["outputs"] == [1]
    assert server.test("/v2/models/b/infer", body=body)["outputs"] == [0]  # latest is v2
    assert server.test("/v2/models/c/infer", body=body)["outputs"] == [1]


def test_unknown_store_model_is_a_clear_error() -> None:
    fn = sg.new_function("s", kind="serving", project="shop")
    fn.set_topology("router")
    fn.add_model("a", class_name="SKLearnModelServer", model_path="store://models/shop/nope")
    with pytest.raises(GraphError, match=r"store://models/shop/nope.*not found"):
        fn.to_mock_server()


class FileModel(V2ModelServer):
    def load(self) -> None:
        path, _ = self.get_model(".pkl")
        self.model_file = path

    def predict(self, request: dict[str, Any]) -> Any:
        return [Path(self.model_file).name]


def test_get_model_resolves_store_uris_to_a_local_file() -> None:
    _log_model("clf", 4.5)
    model = FileModel(name="f", model_path="store://models/shop/clf:latest")
    model.post_init()
    assert Path(model.model_file).is_file()
    assert model.predict({}) == ["model.pkl"]
    with pytest.raises(NotFoundError, match="store://models/shop/missing"):
        FileModel(name="g", model_path="store://models/shop/missing").post_init()
