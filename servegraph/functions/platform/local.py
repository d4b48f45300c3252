"""``fn.deploy(local=True)`` and ``fn.invoke`` over HTTP: the Python side of the local platform.

url = fn.deploy(local=True)             # exported, started as its own process
fn.invoke("/v2/models/m/infer", {"inputs": [[1, 2]]})   # an HTTP request to it
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from servegraph.errors import (
    BadRequestError,
    MethodNotAllowedError,
    NotFoundError,
    NotReadyError,
    ServingError,
    StepTimeoutError,
    UnsupportedMediaTypeError,
    UpstreamError,
)
from servegraph.functions.platform.launcher import Deployment, start

ERRORS: dict[int, type[ServingError]] = {
    400: BadRequestError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    415: UnsupportedMediaTypeError,
    502: UpstreamError,
    503: NotReadyError,
    504: StepTimeoutError,
}


def deploy_local(
    function: Any,
    *,
    namespace: Mapping[str, Any] | None = None,
    host: str = "127.0.0.1",
    stream: str | None = None,
) -> str:
    """Export ``function`` (its code resolved in ``namespace``) and each of its child
    functions (``add_child_function``), start them on the local platform (children
    consume their queues) and return the function's URL."""
    children = list(getattr(function.spec, "function_refs", None) or {})
    with tempfile.TemporaryDirectory(prefix="servegraph-deploy-") as folder:
        for child in children:  # consumers first: the root's first push finds them reading
            target = Path(folder) / f"{child}.yaml"
            spec = Path(function.export(target, namespace=namespace, function=child))
            start(Deployment(child, spec), host=host, stream=stream)
        target = Path(folder) / "function.yaml"
        spec = Path(function.export(target, namespace=namespace))
        record = start(Deployment(function.name, spec), host=host, stream=stream)
    return record.url


def http_invoke(
    url: str,
    path: str = "/",
    body: Any = None,
    method: str | None = None,
    headers: Mapping[str, Any] | None = None,
    timeout: float = 60.0,
) -> Any:
    """Send a request to a deployed function; return the decoded body (JSON, text or bytes).

    An error answer raises the ServegraphError of its status, with the server's message.
    """
    data: bytes | None
    sent = {str(k): str(v) for k, v in (headers or {}).items()}
    if body is None or isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(
        url.rstrip("/") + "/" + path.lstrip("/"),
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers=sent,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return _decode(resp.read(), resp.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        answer = _decode(exc.read(), exc.headers.get("Content-Type", ""))
        message = answer.get("error") if isinstance(answer, dict) else answer
        raise ERRORS.get(exc.code, ServingError)(f"{exc.code} from {url}: {message}") from exc
    except urllib.error.URLError as exc:
        raise UpstreamError(f"function at {url} cannot be reached: {exc.reason}") from exc


def _decode(raw: bytes, content_type: str) -> Any:
    if "json" in content_type:
        return json.loads(raw or b"null")
    if content_type.startswith("text/"):
        return raw.decode(errors="replace")
    return raw
