"""Step 3 (and 7): the training handler, run as a tracked run.

``fn = code_to_function("train", "train.py", kind="local", handler="train")``
then ``fn.run(params=..., inputs={"dataset": url})``. The handler joins the
feature vector onto the labelled transactions point in time (each row gets
the customer's features as they were at the transaction's time), trains a
random forest, and logs the training set and the model with
its training-set statistics (the reference the monitoring job compares with).

This file is loaded by path by the run, so it imports only servegraph and
libraries.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

import servegraph.featurestore as fstore


def train(
    context: Any,
    dataset: Any,
    vector: str,
    request_features: list[str],
    label_column: str = "is_fraud",
    model_key: str = "fraud",
    model_version: str = "v1",
    since: str | None = None,
    test_fraction: float = 0.2,
) -> None:
    """Train the fraud model on ``dataset`` (labelled transactions) enriched by ``vector``.

    ``since`` skips the transactions before that time (while the aggregation
    windows of the feature store were still filling up).
    """
    transactions = dataset.as_df()
    if since is not None:
        transactions = transactions[transactions["time"] >= pd.Timestamp(since)]
    rows = transactions[["customer_id", "time", *request_features, label_column]]
    joined = fstore.get_offline_features(vector, rows, entity_timestamp_column="time")
    vector_columns = [c for c in joined.columns if c not in rows.columns]
    features = [*request_features, *vector_columns]
    training_set = joined[[*features, label_column]]
    context.log_dataset("training-set", training_set, tag=model_version)

    split = int(len(training_set) * (1 - test_fraction))  # rows are in time order
    train_part, test_part = training_set.iloc[:split], training_set.iloc[split:]
    model = RandomForestClassifier(n_estimators=60, max_depth=10, random_state=0)
    model.fit(train_part[features].to_numpy(), train_part[label_column].to_numpy())

    truth = test_part[label_column]
    predicted = model.predict(test_part[features].to_numpy())
    metrics = {
        "accuracy": accuracy_score(truth, predicted),
        "precision": precision_score(truth, predicted, zero_division=0),
        "recall": recall_score(truth, predicted, zero_division=0),
        "auc": roc_auc_score(truth, model.predict_proba(test_part[features].to_numpy())[:, 1]),
    }
    context.log_results({k: round(float(v), 4) for k, v in metrics.items()})
    context.log_model(
        model_key,
        body=model,
        metrics=metrics,
        framework="sklearn",
        training_set=training_set,
        label_column=label_column,
        parameters={"feature_vector": vector, "features": features},
        tag=model_version,
    )
