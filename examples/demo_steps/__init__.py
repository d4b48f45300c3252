"""The steps of the servegraph demo (``examples/demo.py``), one module per step.

1. :mod:`.data`: customers and card transactions with a fraud label
2. :mod:`.features`: feature sets with windowed aggregations, ingested
3. :mod:`.train`: the training handler, run as a tracked run
4. :mod:`.serving`: enrich -> prep -> router -> model -> post-process, over HTTP
5. :mod:`.traffic`: requests like the training data, then shifted ones
6. :mod:`.monitor`: the monitoring job, the drift table, the alert
7. :mod:`.retrain`: the retraining run started by the alert, served as v2
8. :mod:`.lineage`: model version -> training run -> feature vector -> data set
"""

from __future__ import annotations


class DemoError(Exception):
    """A step of the demo did not produce what it should; the message says what."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`DemoError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise DemoError(message)
