"""servegraph demo: a serving graph end to end, in-process.

Trains two tiny scikit-learn models, builds a flow (preprocess -> ModelRouter
with both models -> postprocess), serves requests through the mock server and
checks the answers. Exits non-zero on any failure.

    python examples/demo.py
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import servegraph as sg
from servegraph.serving import V2ModelServer

X, Y = load_iris(return_X_y=True)


class LinearIris(V2ModelServer):
    """Logistic regression trained at load time."""

    def load(self) -> None:
        self.model = LogisticRegression(max_iter=500).fit(X, Y)

    def predict(self, request: dict[str, Any]) -> Any:
        return self.model.predict(np.asarray(request["inputs"])).tolist()


class TreeIris(V2ModelServer):
    """A depth-3 decision tree trained at load time."""

    def load(self) -> None:
        self.model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)

    def predict(self, request: dict[str, Any]) -> Any:
        return self.model.predict(np.asarray(request["inputs"])).tolist()


def centimetres(body: dict[str, Any]) -> dict[str, Any]:
    """Preprocess: the demo's clients send millimetres (GET requests have no body)."""
    if not isinstance(body, dict) or "inputs" not in body:
        return body
    return {**body, "inputs": [[v / 10 for v in row] for row in body["inputs"]]}


def add_names(body: dict[str, Any]) -> dict[str, Any]:
    """Postprocess: class names beside the class ids."""
    names = ["setosa", "versicolor", "virginica"]
    if isinstance(body, dict) and isinstance(body.get("outputs"), list):
        body["labels"] = [names[i] for i in body["outputs"]]
    return body


def build() -> Any:
    fn = sg.new_function("iris-serving", kind="serving", project="demo")
    graph = fn.set_topology("flow", engine="async")
    graph.to(handler="centimetres", name="pre").to("ModelRouter", name="router").to(
        handler="add_names", name="post"
    ).respond()
    fn.add_model("linear", class_name="LinearIris", router_step="router")
    fn.add_model("tree:v1", class_name="TreeIris", router_step="router")
    return fn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="servegraph end-to-end demo")
    parser.add_argument("--online", default=None, help="online store URL (later demos)")
    parser.add_argument("--stream", default=None, help="tracking stream URL (later demos)")
    parser.parse_args(argv)

    fn = build()
    print(fn.spec.graph.plot())
    server = fn.to_mock_server()
    rows_mm = [[51, 35, 14, 2], [67, 31, 47, 15], [77, 30, 61, 23]]
    expected = [0, 1, 2]
    failures = 0
    for path in ("/v2/models/linear/infer", "/v2/models/tree/versions/v1/infer"):
        response = server.test(path, body={"id": "demo", "inputs": rows_mm})
        print(f"POST {path} -> {response}")
        if response["outputs"] != expected:
            print(f"  FAILED: expected {expected}", file=sys.stderr)
            failures += 1
    print("GET /v2/models/ ->", server.test("/v2/models/", method="GET"))
    missing = server.test("/v2/models/nope/infer", body={"inputs": rows_mm}, silent=True)
    print("POST /v2/models/nope/infer ->", missing)
    if "error" not in missing:
        failures += 1
    server.wait_for_completion()
    print("demo OK" if not failures else f"demo FAILED ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # the demo reports any failure as a non-zero exit
        print(f"demo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
