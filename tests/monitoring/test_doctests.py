"""The examples in the monitoring modules' docstrings run (metrics: metrics/test_base.py)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "servegraph.monitoring.alerts.notifiers",
    "servegraph.monitoring.alerts.notifiers.file",
    "servegraph.monitoring.alerts.notifiers.log",
    "servegraph.monitoring.alerts.notifiers.webhook",
    "servegraph.monitoring.alerts.rules",
    "servegraph.monitoring.datastore",
    "servegraph.monitoring.db",
    "servegraph.monitoring.drift",
    "servegraph.monitoring.records",
    "servegraph.monitoring.retrain",
    "servegraph.monitoring.schedule",
    "servegraph.monitoring.settings",
    "servegraph.monitoring.spill",
    "servegraph.monitoring.tracking",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
