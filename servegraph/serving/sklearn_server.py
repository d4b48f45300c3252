"""SKLearnModelServer: serve any estimator with ``predict`` / ``predict_proba``.

    fn.add_model("iris", class_name="SKLearnModelServer", model_path="s3://b/iris/model.pkl")

The model file (joblib or pickle) is read from ``model_path``: a
``store://models/{project}/{key}[:tag][@uid]`` URI, a local path or any
fsspec URL (``s3://``, ``gs://``, ``memory://``, ...); a directory is
searched for ``model.joblib``, ``model.pkl`` or the single ``*.pkl`` /
``*.joblib`` file in it. XGBoost and LightGBM's scikit-learn estimators work
through the same class.
"""

from __future__ import annotations

import pickle
from typing import Any

import fsspec
import joblib
import numpy as np

from servegraph.errors import BadRequestError, GraphError, ServegraphError
from servegraph.serving.store_models import resolve_model_path
from servegraph.serving.v2_serving import V2ModelServer

MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle")


def _find_model_file(fs: Any, path: str) -> str:
    if not fs.isdir(path):
        return path
    names = {p.rsplit("/", 1)[-1]: p for p in fs.ls(path, detail=False)}
    for preferred in ("model.joblib", "model.pkl"):
        if preferred in names:
            return str(names[preferred])
    candidates = [p for n, p in names.items() if n.endswith(MODEL_SUFFIXES)]
    if len(candidates) != 1:
        raise GraphError(
            f"The 'model_path' directory {path!r} must hold one model file "
            f"({', '.join(MODEL_SUFFIXES)}). Found {sorted(names)}."
        )
    return str(candidates[0])


def load_estimator(model_path: str) -> Any:
    """Load a joblib or pickle model file from a local path or fsspec URL.

    >>> model = load_estimator("s3://bucket/models/churn/model.pkl")  # doctest: +SKIP
    """
    try:
        fs, path = fsspec.core.url_to_fs(resolve_model_path(model_path))
        path = _find_model_file(fs, path)
        with fs.open(path, "rb") as handle:
            try:
                return joblib.load(handle)
            except (pickle.UnpicklingError, KeyError, ValueError, IndexError, EOFError):
                handle.seek(0)
                return pickle.load(handle)
    except GraphError:
        raise
    except ServegraphError as exc:  # e.g. an unknown store:// model (404 from the store)
        raise GraphError(f"Cannot load the model of 'model_path' {model_path!r}: {exc}") from exc
    except Exception as exc:
        raise GraphError(
            f"Cannot load the model of 'model_path' {model_path!r}: {type(exc).__name__}: {exc}"
        ) from exc


def _datatype(dtype: Any) -> str:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    return "BYTES"


def estimator_metadata(model: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return OIP ``inputs`` / ``outputs`` metadata read from a fitted estimator."""
    n_features = getattr(model, "n_features_in_", None)
    inputs: list[dict[str, Any]] = []
    if isinstance(n_features, int):
        entry: dict[str, Any] = {"name": "inputs", "datatype": "FP64", "shape": [-1, n_features]}
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            entry["parameters"] = {"feature_names": [str(n) for n in names]}
        inputs.append(entry)
    classes = getattr(model, "classes_", None)
    n_outputs = getattr(model, "n_outputs_", 1)
    shape = [-1] if not isinstance(n_outputs, int) or n_outputs == 1 else [-1, n_outputs]
    if classes is not None and not isinstance(classes, list):
        datatype = _datatype(np.asarray(classes).dtype)
    else:
        datatype = "FP64"
    outputs: list[dict[str, Any]] = [{"name": "outputs", "datatype": datatype, "shape": shape}]
    if classes is not None and hasattr(model, "predict_proba"):
        outputs.append(
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(np.asarray(classes))]}
        )
    return inputs, outputs


class SKLearnModelServer(V2ModelServer):
    """Serve a fitted estimator: ``predict`` (or ``predict_proba``) on the request's rows.

    Parameters (besides V2ModelServer's):
        model_path: joblib/pickle file or directory, local or any fsspec URL.
        model: an estimator object (then nothing is loaded).
        method: ``"predict"`` (default) or ``"predict_proba"``.

    >>> server = SKLearnModelServer(name="iris", model=fitted_estimator)  # doctest: +SKIP
    """

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        model_path: str | None = None,
        model: Any = None,
        method: str = "predict",
        **kwargs: Any,
    ) -> None:
        if method not in ("predict", "predict_proba"):
            raise GraphError(
                f"The 'method' parameter of SKLearnModelServer must be 'predict' or "
                f"'predict_proba'. Got {method!r} instead."
            )
        super().__init__(context=context, name=name, model_path=model_path, model=model, **kwargs)
        self.method = method

    def load(self) -> None:
        """Load the estimator from ``model_path`` (unless ``model`` was given)."""
        if self.model is not None:
            return
        if not self.model_path:
            raise GraphError(f"SKLearnModelServer {self.name!r} needs 'model_path' or 'model'.")
        self.model = load_estimator(self.model_path)

    def predict(self, request: dict[str, Any]) -> Any:
        """Return the estimator's predictions for ``request["inputs"]`` (rows)."""
        try:
            rows = np.asarray(request["inputs"])
            return getattr(self.model, self.method)(rows)
        except (ValueError, TypeError) as exc:
            raise BadRequestError(
                f"model {self.name!r} cannot {self.method} these inputs: {exc}"
            ) from exc

    def metadata(self) -> dict[str, Any]:
        """V2 metadata with inputs/outputs read from the estimator (once loaded)."""
        meta = super().metadata()
        meta["platform"] = "sklearn"
        if self.model is not None:
            inputs, outputs = estimator_metadata(self.model)
            if self.method == "predict_proba":
                outputs = outputs[1:] or outputs
            meta["inputs"], meta["outputs"] = inputs, outputs[:1]
        return meta
