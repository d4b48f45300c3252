"""Graph steps that call HTTP services: :class:`RemoteStep` and :class:`BatchHttpRequests`.

MLRun's names and parameters; both run on a pooled aiohttp client
(:class:`~servegraph.serving.http_client.HttpPool`) with timeouts and retries::

    graph = fn.set_topology("flow", engine="async")
    graph.to(RemoteStep(name="echo", url="http://127.0.0.1:8080/echo", input_path="req",
                        result_path="resp", timeout=2, retries=2)).respond()

A failed call answers 502 (the upstream's 4xx, or every attempt failed) or 504
(the last attempt timed out), naming the step and the URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from servegraph.errors import GraphError
from servegraph.serving.event import Event
from servegraph.serving.http_client import HttpPool
from servegraph.serving.paths import get_path, set_path, split_path
from servegraph.serving.utils import StepToDict

EVENT_ID_HEADER = "X-Request-Id"
EVENT_PATH_HEADER = "X-Event-Path"


class _HttpStep(StepToDict):
    """What both steps share: URL and body rules, the pool, the answer's decoding."""

    def __init__(
        self,
        url: str | None = None,
        subpath: str | None = None,
        method: str | None = None,
        headers: Mapping[str, str] | None = None,
        url_expression: str | None = None,
        body_expression: str | None = None,
        return_json: bool = True,
        input_path: str | None = None,
        result_path: str | None = None,
        max_in_flight: int | None = None,
        retries: int | None = None,
        backoff_factor: float | None = None,
        timeout: float | None = None,
        name: str | None = None,
        context: Any = None,
    ) -> None:
        self.url = url
        self.subpath = subpath
        self.method = method
        self.headers = dict(headers) if headers is not None else None
        self.url_expression = url_expression
        self.body_expression = body_expression
        self.return_json = return_json
        self.input_path = input_path
        self.result_path = result_path
        self.max_in_flight = max_in_flight
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.timeout = timeout
        self.name = name or type(self).__name__
        self.context = context
        if url and url_expression:
            raise GraphError(f"step {self.name!r}: give url or url_expression, not both")
        self._endpoint = _endpoint(url, subpath) if url else ""
        self._append_path = subpath == "$path"
        self._url_fn = _expression(url_expression, self.name, {"endpoint": self._endpoint})
        self._body_fn = _expression(body_expression, self.name, {})
        self._input_path, self._result_path = input_path, result_path  # to_dict writes them
        self._input = split_path(input_path)
        self._result = split_path(result_path)
        self._pool = HttpPool(
            timeout=timeout,
            retries=3 if retries is None else retries,
            backoff_factor=0.5 if backoff_factor is None else backoff_factor,
            max_in_flight=max_in_flight or 8,
            name=self.name,
        )

    def _url(self, event: Event, body: Any) -> str:
        if self._url_fn is not None:
            return str(self._url_fn(body))
        if not self._endpoint:
            raise GraphError(f"step {self.name!r} has no url and no url_expression")
        if self._append_path:
            return f"{self._endpoint}/{event.path.lstrip('/')}"
        return self._endpoint

    def _encode(self, method: str, body: Any, headers: dict[str, str]) -> Any:
        if method == "GET" or body is None:
            return None
        if self._body_fn is not None:
            body = self._body_fn(body)
        if isinstance(body, str | bytes):
            return body
        headers["Content-Type"] = "application/json"
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)

    async def _call(self, event: Event, body: Any, url: str) -> Any:
        method = (self.method or event.method or "POST").upper()
        headers = dict(self.headers or {})
        headers[EVENT_ID_HEADER] = str(event.id)
        if event.path and event.path != "/":
            headers[EVENT_PATH_HEADER] = event.path
        data = self._encode(method, body, headers)
        _, answer, answer_headers = await self._pool.request(method, url, headers, data)
        return self._decode(answer, answer_headers)

    def _decode(self, data: bytes, headers: Mapping[str, str]) -> Any:
        content_type = headers.get("Content-Type", "").lower()
        if self.return_json or content_type.startswith("application/json"):
            return orjson.loads(data) if data else None
        return data

    def _take(self, event: Event) -> Any:
        return get_path(event.body, self._input) if self._input else event.body

    def _put(self, event: Event, result: Any) -> Event:
        event.body = set_path(event.body, self._result, result) if self._result else result
        return event

    async def close(self) -> None:
        """Close the connection pool (the server's close hooks call this)."""
        await self._pool.close()


class RemoteStep(_HttpStep):
    """Call an HTTP service with the event (or its ``input_path``) and take its answer.

    Parameters:
        url: the service URL (``http://`` is assumed when no scheme is given).
        subpath: appended to ``url``; ``"$path"`` appends the event's path.
        method: HTTP method; default the event's method (POST with a body, GET without).
        headers: extra request headers.
        url_expression: Python expression of ``event`` (the body) giving the URL,
            e.g. ``"event['url']"``; ``endpoint`` names ``url``.
        body_expression: expression giving the request body from the body.
        return_json: decode the answer as JSON (also done when it says it is JSON).
        input_path, result_path: where in the body to read the request / write the answer.
        max_in_flight: requests in flight at once; retries, backoff_factor, timeout: see
            :class:`~servegraph.serving.http_client.HttpPool`.

    >>> RemoteStep(url="127.0.0.1:8080", subpath="v1/echo")._endpoint
    'http://127.0.0.1:8080/v1/echo'
    """

    async def do_event(self, event: Event) -> Event:
        body = self._take(event)
        return self._put(event, await self._call(event, body, self._url(event, body)))


class BatchHttpRequests(_HttpStep):
    """Send one request per element of the body (a list) concurrently; answer the list.

    Takes :class:`RemoteStep`'s parameters; ``url_expression`` and
    ``body_expression`` are applied to each element::

        graph.to(BatchHttpRequests(url_expression="event['url']",
                                   body_expression="event['data']",
                                   input_path="req", result_path="resp")).respond()
        server.test(body={"req": [{"url": u1, "data": 1}, {"url": u2, "data": 2}]})
    """

    async def do_event(self, event: Event) -> Event:
        items = self._take(event)
        if not isinstance(items, list | tuple):
            raise GraphError(
                f"step {self.name!r}: BatchHttpRequests needs a list of requests"
                f"{' at ' + repr(self.input_path) if self.input_path else ''}, "
                f"got {type(items).__name__}"
            )
        calls = [self._call(event, item, self._url(event, item)) for item in items]
        return self._put(event, list(await asyncio.gather(*calls)))


def _endpoint(url: str, subpath: str | None) -> str:
    endpoint = url if "://" in url else f"http://{url}"
    endpoint = endpoint.rstrip("/")
    if subpath and subpath != "$path":
        endpoint = f"{endpoint}/{subpath.lstrip('/')}"
    return endpoint


def _expression(
    expression: str | None, name: str, names: dict[str, Any]
) -> Callable[[Any], Any] | None:
    if not expression:
        return None
    try:
        fn: Callable[[Any], Any] = eval(f"lambda event: ({expression})", dict(names), {})
    except SyntaxError as exc:
        raise GraphError(f"step {name!r}: bad expression {expression!r}: {exc.msg}") from exc
    return fn
