"""GraphContext: parameters, secrets, scratch space."""

from __future__ import annotations

import pytest

from servegraph.serving.context import GraphContext


def test_params_secrets_and_visits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_SECRET", "from-env")
    context = GraphContext(name="fn", project="p", parameters={"a": 1}, secrets={"k": "v"})
    assert context.get_param("a") == 1 and context.get_param("b", 2) == 2
    assert context.get_secret("k") == "v"
    assert context.get_secret("SG_TEST_SECRET") == "from-env"
    assert context.get_secret("SG_NOT_SET", "d") == "d"
    context.visits["x"] = 1
    assert context.tracker is None and context.visits == {"x": 1}
    assert context.logger.name == "servegraph.serving"
