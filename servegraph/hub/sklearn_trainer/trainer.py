"""Train a scikit-learn classifier and log its metrics and the model.

Parameters: ``label_column``, ``model_class`` (dotted path, default
``sklearn.ensemble.RandomForestClassifier``), ``model_params`` (dict),
``test_size``, ``random_state``. Results: ``accuracy``, ``f1`` (macro) on the
held-out split. The model is logged with the training set, so its spec carries
the reference statistics monitoring compares live data with.
"""

from __future__ import annotations

import importlib
from typing import Any

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from servegraph.errors import RunError


def _model_class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise RunError(
            f"The 'model_class' must be a dotted path to an estimator class. Got {path!r} ({exc})."
        ) from exc


def train(
    context: Any,
    dataset: Any,
    label_column: str = "label",
    model_class: str = "sklearn.ensemble.RandomForestClassifier",
    model_params: dict[str, Any] | None = None,
    test_size: float = 0.2,
    random_state: int = 0,
) -> None:
    """Fit ``model_class`` on the ``dataset`` input and log ``accuracy``, ``f1`` and ``model``."""
    df = dataset.as_df()
    if label_column not in df.columns:
        raise RunError(
            f"The 'label_column' {label_column!r} is not a column of the dataset "
            f"({list(df.columns)})."
        )
    features = df.drop(columns=[label_column])
    train_x, test_x, train_y, test_y = train_test_split(
        features, df[label_column], test_size=test_size, random_state=random_state
    )
    model = _model_class(model_class)(**(model_params or {}))
    model.fit(train_x, train_y)
    predicted = model.predict(test_x)
    metrics = {
        "accuracy": float(accuracy_score(test_y, predicted)),
        "f1": float(f1_score(test_y, predicted, average="macro")),
    }
    context.log_results(metrics)
    training_set = train_x.assign(**{label_column: train_y})
    context.log_model(
        "model",
        body=model,
        model_file="model.pkl",
        metrics=metrics,
        framework="sklearn",
        training_set=training_set,
        label_column=label_column,
        parameters={"model_class": model_class, **(model_params or {})},
    )
