"""How a request body reaches the graph: JSON decoded when declared so or undeclared.

curl's ``-d`` sends ``application/x-www-form-urlencoded``; on the model paths
(``/v2/models/...``, JSON by protocol) a body that parses as JSON is read as
JSON whatever its declared type. Elsewhere a body declared as another type
(``text/plain``) reaches the flow as sent, as in MLRun. A body left as
bytes that a step then cannot use becomes a 415 naming the content type,
instead of a 500 blaming the step.
"""

from __future__ import annotations

import json

from servegraph.errors import BadRequestError, ServingError, UnsupportedMediaTypeError
from servegraph.serving.event import Event
from servegraph.serving.v2_protocol import BINARY_HEADER, decode_body

JSON_TYPES = ("application/json", "text/json")
_JSON_START = ("{", "[", b"{", b"[")


def decode_event_body(event: Event) -> None:
    """Replace a bytes/str JSON body by its value (400 on bad JSON declared as JSON)."""
    body = event.body
    if type(body) is not bytes and type(body) is not str:
        return
    if BINARY_HEADER in event.headers:  # binary tensors: V2ModelServer decodes
        return
    content_type = event.content_type
    if content_type in JSON_TYPES or (content_type is None and body[:1] in _JSON_START):
        event.body = decode_body(body)
        return
    if content_type is None or content_type.startswith("multipart/"):
        return
    if not event.path.startswith("/v2/models"):
        return  # outside the model protocol a declared non-JSON type is kept (MLRun)
    if body.lstrip()[:1] in _JSON_START:
        try:
            event.body = json.loads(body)
        except (ValueError, RecursionError):
            pass  # not JSON: the graph gets the bytes as sent


def raw_body_type(event: Event) -> str | None:
    """The declared content type when the body stays undecoded bytes/str, else None."""
    body = event.body
    if (type(body) is bytes or type(body) is str) and event.content_type:
        if BINARY_HEADER not in event.headers:  # binary tensors are bytes by design
            return event.content_type
    return None


def unsupported_body(content_type: str | None, exc: ServingError) -> ServingError:
    """The 415 for a body the graph could not use as sent (a step failed on it, or not JSON).

    Other bad requests (raised on purpose by a step reading the bytes), and any error of
    a body that was not raw bytes (``content_type`` None), keep their error.
    """
    if content_type is None:
        return exc
    if isinstance(exc, BadRequestError) and not isinstance(exc.__cause__, json.JSONDecodeError):
        return exc
    return UnsupportedMediaTypeError(
        f"The request body was sent as Content-Type {content_type!r} and is not JSON; "
        f"the graph could not use it as sent ({exc}). "
        "Send a JSON body (Content-Type: application/json)."
    )
