"""A pooled HTTP client for graph steps: one aiohttp session per event loop, retries, timeouts.

Steps that call other services (:mod:`servegraph.serving.remote`) share this
logic: a connection pool that lives as long as the step, a bound on requests in
flight, retries with exponential backoff on connection errors, timeouts and 5xx
answers, and errors that name the URL.

    pool = HttpPool(timeout=2.0, retries=2, backoff_factor=0.1)
    status, body, headers = await pool.request("POST", "http://127.0.0.1:8080/x", {}, b"{}")
    await pool.close()
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from typing import Any

import aiohttp

from servegraph.errors import GraphError, StepTimeoutError, UpstreamError

BACKOFF_MAX = 30.0  # seconds: the longest wait between two attempts
_RETRYABLE = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


class _LoopState:
    """The session and the in-flight bound of one event loop."""

    def __init__(self, max_in_flight: int) -> None:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max_in_flight))
        self.slots = asyncio.Semaphore(max_in_flight)


class HttpPool:
    """Pooled requests with retries (see the module docstring).

    Parameters:
        timeout: seconds for one attempt (connect + answer); ``None`` waits forever.
        retries: extra attempts after a connection error, timeout or 5xx answer.
        backoff_factor: the wait before retry ``n`` is ``backoff_factor * 2 ** (n - 1)``.
        max_in_flight: requests sent at once by this step on one loop; more wait their turn.
        name: the step's name, used in error messages.
    """

    def __init__(
        self,
        timeout: float | None = None,
        retries: int = 3,
        backoff_factor: float = 0.5,
        max_in_flight: int = 8,
        name: str = "",
    ) -> None:
        _check_number("timeout", timeout, allow_none=True)
        _check_number("backoff_factor", backoff_factor)
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise GraphError(f"The 'retries' parameter must be an int >= 0. Got {retries!r}.")
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise GraphError(
                f"The 'max_in_flight' parameter must be a positive int. Got {max_in_flight!r}."
            )
        self.timeout = timeout
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.max_in_flight = max_in_flight
        self.name = name
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState(self.max_in_flight)
        return state

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], data: Any = None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send one request (with retries); return status, body and headers of the answer.

        Raises UpstreamError (502) for a 4xx answer or when every attempt failed, and
        StepTimeoutError (504) when the last attempt timed out.
        """
        state = self._state()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with (
                    state.slots,
                    state.session.request(
                        method, url, headers=dict(headers), data=data, timeout=timeout
                    ) as resp,
                ):
                    body = await resp.read()
                    if resp.status < 500:
                        if resp.status >= 400:
                            raise UpstreamError(self._message(url, f"answered {resp.status}", body))
                        return resp.status, body, resp.headers
                    failure: BaseException = UpstreamError(
                        self._message(url, f"answered {resp.status}", body)
                    )
            except _RETRYABLE as exc:
                failure = exc
            if attempt > self.retries:
                break
            await asyncio.sleep(min(BACKOFF_MAX, self.backoff_factor * 2 ** (attempt - 1)))
        tries = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
        if isinstance(failure, asyncio.TimeoutError):
            raise StepTimeoutError(
                f"{self._who()}: {method} {url} timed out ({self.timeout}s) {tries}"
            ) from failure
        if isinstance(failure, UpstreamError):
            raise UpstreamError(f"{failure} {tries}") from None
        raise UpstreamError(
            f"{self._who()}: cannot reach {url} {tries}: {type(failure).__name__}: {failure}"
        ) from failure

    def _who(self) -> str:
        return f"step {self.name!r}" if self.name else "remote call"

    def _message(self, url: str, what: str, body: bytes) -> str:
        text = body[:200].decode("utf-8", "replace")
        return f"{self._who()}: {url} {what}: {text}"

    async def close(self) -> None:
        """Close the sessions: the current loop's directly, the others' on their loops."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        states = list(self._loops.items())
        self._loops.clear()
        for loop, state in states:
            if loop is current:
                await state.session.close()
            elif loop.is_running():
                future = asyncio.run_coroutine_threadsafe(state.session.close(), loop)
                await asyncio.wrap_future(future)
            elif not loop.is_closed():
                loop.run_until_complete(state.session.close())


def _check_number(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise GraphError(f"The {name!r} parameter must be a number >= 0. Got {value!r}.")
