"""The base of the feature steps: one ``do(body)`` for a row dict or a DataFrame."""

from __future__ import annotations

from typing import Any

import pandas as pd

from servegraph.errors import BadRequestError


class FeatureStep:
    """Template: subclasses implement ``_do_row(dict)`` and ``_do_frame(DataFrame)``.

    Parameters:
        name: the step's name (the graph sets it).
        context: the graph context, when run in a serving graph.
    """

    #: the ingestion engines may hand the step a whole DataFrame (vectorized)
    accepts_frames = True

    def __init__(self, name: str | None = None, context: Any = None) -> None:
        self.name = name or type(self).__name__
        self.context = context

    def do(self, body: Any) -> Any:
        """Transform one row (dict) or a batch (DataFrame)."""
        if isinstance(body, pd.DataFrame):
            return self._do_frame(body)
        if isinstance(body, dict):
            return self._do_row(body)
        raise BadRequestError(
            f"step {self.name!r} ({type(self).__name__}) takes a dict of features or a "
            f"DataFrame. Got {type(body).__name__} instead."
        )

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError


def missing_feature(step: FeatureStep, feature: str) -> BadRequestError:
    """The error for a feature the data lacks, naming the step and the feature."""
    return BadRequestError(
        f"step {step.name!r} ({type(step).__name__}): the data has no feature {feature!r}"
    )
