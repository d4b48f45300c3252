"""Model paths and V2 request/response shapes."""

from __future__ import annotations

import pytest

from servegraph.errors import BadRequestError
from servegraph.serving.v2_protocol import ModelPath, make_response, parse_path, parse_request


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", (None, None, "")),
        ("", (None, None, "")),
        ("/v2/models", (None, None, "")),
        ("/v2/models/m", ("m", None, "")),
        ("/v2/models/m/infer", ("m", None, "infer")),
        ("/v2/models/m/versions/1/ready", ("m", "1", "ready")),
        ("/v2/models/m/versions/1", ("m", "1", "")),
        ("/m/explain", ("m", None, "explain")),
    ],
)
def test_parse_path(path: str, expected: tuple[str | None, str | None, str]) -> None:
    assert parse_path(path) == ModelPath(*expected)


def test_parse_request_forms() -> None:
    assert parse_request({"inputs": [1], "id": "x"}) == {"inputs": [1], "id": "x"}
    assert parse_request([[1]]) == {"inputs": [[1]]}
    assert parse_request(b'{"inputs": [[2]]}') == {"inputs": [[2]]}
    with pytest.raises(BadRequestError, match="inputs"):
        parse_request({"data": 1})
    with pytest.raises(BadRequestError, match="int"):
        parse_request(3)


def test_make_response_adds_the_version_only_when_set() -> None:
    assert make_response("i", "m", [1]) == {"id": "i", "model_name": "m", "outputs": [1]}
    assert make_response("i", "m", [1], "v1")["model_version"] == "v1"
