"""Merge step."""

from __future__ import annotations

from servegraph.serving.merge import Merge


def test_merge_dicts_in_order_and_lists_otherwise() -> None:
    assert Merge().do([{"a": 1, "b": 1}, {"b": 2}]) == {"a": 1, "b": 2}
    assert Merge(max_behind=3).do([1, {"a": 1}]) == [1, {"a": 1}]
