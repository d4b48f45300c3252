"""SKLearnModelServer with a real (tiny) scikit-learn model."""

from __future__ import annotations

from pathlib import Path

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from servegraph.errors import BadRequestError
from servegraph.graph import RouterStep
from servegraph.serving.mock import create_mock_server


def test_sklearn_model_served_from_a_pickle(tmp_path: Path) -> None:
    model = LogisticRegression().fit([[0.0], [1.0], [9.0], [10.0]], [0, 0, 1, 1])
    joblib.dump(model, tmp_path / "model.pkl")
    router = RouterStep()
    router.add_route("lr", class_name="SKLearnModelServer", model_path=str(tmp_path))
    server = create_mock_server({"graph": router})
    assert server.test("/v2/models/lr/infer", {"inputs": [[0.5], [9.5]]})["outputs"] == [0, 1]
    with pytest.raises(BadRequestError, match="lr"):
        server.test("/v2/models/lr/infer", {"inputs": [[1.0, 2.0]]})


def _fitted() -> LogisticRegression:
    x = [[0.0, 1.0], [1.0, 0.0], [9.0, 9.0], [10.0, 8.0]]
    return LogisticRegression().fit(x, ["low", "low", "high", "high"])


def test_model_path_may_be_an_fsspec_url_and_a_plain_pickle(tmp_path: Path) -> None:
    import pickle

    import fsspec

    from servegraph.serving.sklearn_server import SKLearnModelServer

    with fsspec.open("memory://models/churn/model.joblib", "wb") as handle:
        joblib.dump(_fitted(), handle)
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(_fitted()))
    for path in ("memory://models/churn", "memory://models/churn/model.joblib",
                 str(tmp_path / "plain.pkl")):  # fmt: skip
        server = SKLearnModelServer(name="m", model_path=path)
        server.post_init()
        assert server.predict({"inputs": [[0.0, 0.5], [9.5, 9.0]]}).tolist() == ["low", "high"]


def test_metadata_and_predict_proba() -> None:
    from servegraph.serving.sklearn_server import SKLearnModelServer

    server = SKLearnModelServer(name="m", model=_fitted(), method="predict_proba")
    meta = server.metadata()
    assert meta["platform"] == "sklearn"
    assert meta["inputs"] == [{"name": "inputs", "datatype": "FP64", "shape": [-1, 2]}]
    assert meta["outputs"] == [{"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]}]
    probabilities = server.predict({"inputs": [[0.0, 0.0]]})
    assert probabilities.shape == (1, 2) and abs(probabilities.sum() - 1) < 1e-9
    labels = SKLearnModelServer(name="m", model=_fitted()).metadata()["outputs"]
    assert labels == [{"name": "outputs", "datatype": "BYTES", "shape": [-1]}]


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        ("missing", "Cannot load the model"),
        ("two_files", "must hold one model file"),
        ("not_a_model", "Cannot load the model"),
    ],
)
def test_bad_model_paths_raise_graph_error(tmp_path: Path, setup: str, match: str) -> None:
    from servegraph.errors import GraphError
    from servegraph.serving.sklearn_server import SKLearnModelServer

    path = tmp_path / "models"
    path.mkdir()
    if setup == "missing":
        path = path / "nope.pkl"
    elif setup == "two_files":
        (path / "a.pkl").write_bytes(b"x")
        (path / "b.pkl").write_bytes(b"y")
    else:
        path = path / "model.pkl"
        path.write_text("not a pickle")
    with pytest.raises(GraphError, match=match):
        SKLearnModelServer(name="m", model_path=str(path)).load()
    with pytest.raises(GraphError, match="'method'"):
        SKLearnModelServer(name="m", method="transform")
