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
