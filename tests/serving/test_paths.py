"""Dotted body paths."""

from __future__ import annotations

import pytest

from servegraph.errors import BadRequestError
from servegraph.serving.paths import get_path, set_path, split_path


def test_split_get_set() -> None:
    assert split_path("a.b") == ("a", "b") and split_path(None) == ()
    assert get_path({"a": {"b": 1}}, ("a", "b")) == 1
    assert set_path({}, ("x", "y"), 2) == {"x": {"y": 2}}
    assert set_path(5, (), 3) == 3


def test_errors_name_the_path() -> None:
    with pytest.raises(BadRequestError, match=r"a\.c"):
        get_path({"a": {}}, ("a", "c"))
    with pytest.raises(BadRequestError, match="result_path"):
        set_path([1], ("a",), 1)
