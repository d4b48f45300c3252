"""SKLearnModelServer: serve a pickled scikit-learn model (``model_path`` to a .pkl/.joblib).

fn.add_model("iris", class_name="SKLearnModelServer", model_path="model.pkl")
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np

from servegraph.errors import BadRequestError, NotFoundError
from servegraph.serving.v2_serving import V2ModelServer


class SKLearnModelServer(V2ModelServer):
    """Loads the model with joblib; ``predict`` returns ``model.predict(inputs)`` as a list."""

    def load(self) -> None:
        """Load ``model_path`` (a file, or a directory holding a .pkl / .joblib file)."""
        if self.model is not None:
            return
        try:
            path, _ = self.get_model(".pkl")
        except NotFoundError:
            path, _ = self.get_model(".joblib")
        self.model = joblib.load(path)

    def predict(self, request: dict[str, Any]) -> Any:
        """Predict on ``request["inputs"]`` (a list of rows)."""
        try:
            return self.model.predict(np.asarray(request["inputs"])).tolist()
        except ValueError as exc:
            raise BadRequestError(
                f"model {self.name!r} cannot predict these inputs: {exc}"
            ) from exc
