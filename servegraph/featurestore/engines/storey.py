"""The storey engine: every row through storey's flow (the engine of streams)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import storey

from ..feature_set import FeatureSet
from ..pipeline import WARMUP, Transform, row_steps
from ..progress import progress_step
from .base import IngestEngine, order_columns


def _append(acc: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    if WARMUP not in body:
        acc.append(body)
    return acc


class StoreyEngine(IngestEngine):
    """DataframeSource -> the graph's steps as storey Maps -> AggregateByKey, one row at a time."""

    name = "storey"

    def run(
        self,
        fset: FeatureSet,
        df: pd.DataFrame,
        transforms: list[Transform],
        history: pd.DataFrame | None,
        overwrite: bool,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        steps = row_steps(fset, transforms)
        if not steps:
            return df.reset_index(drop=True)
        keys = fset.entity_names
        frames = [df] if history is None or not fset.aggregations else [history, df]
        source = storey.DataframeSource(frames, key_field=keys[0] if len(keys) == 1 else keys)
        with progress_step(len(df), f"ingesting {fset.name}", progress) as tick:
            flow = [source, *([tick] if tick is not None else []), *steps]
            rows = storey.build_flow([*flow, storey.Reduce([], _append)]).run().await_termination()
        return order_columns(fset, pd.DataFrame(rows), df.columns)
