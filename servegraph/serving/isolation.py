"""Each model's sync code on its own small executor, bounded, with a timeout.

On the async engine (``serve``), a model step whose ``do_event`` is sync does
not run on the event loop: it runs on the model's own thread pool
(``model_workers`` threads, default 4), at most ``max_in_flight`` requests
(default 256) running or waiting per model, and ``timeout`` seconds each (the
step's ``timeout``, else ``SERVEGRAPH_MODEL_TIMEOUT``, default 60). So a
hanging or slow model exhausts only its own slots: its next requests get a
503 (``OverloadedError``) at once, a request that outlives the timeout a 504,
and every other model and the health checks keep answering. A model class
that declares ``blocking = False`` (its ``predict`` never waits on I/O or locks
and is quick) runs inline on the loop instead: no thread hop.

>>> guard = ModelGuard("m", workers=1, max_in_flight=2, timeout=1.0)
>>> import asyncio
>>> asyncio.run(guard.run(lambda event: event + 1, 41))
42
>>> guard.close()
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from servegraph.errors import ConfigError, OverloadedError, StepTimeoutError

T = TypeVar("T")

DEFAULT_WORKERS = 4
DEFAULT_MAX_IN_FLIGHT = 256
TIMEOUT_ENV = "SERVEGRAPH_MODEL_TIMEOUT"
DEFAULT_TIMEOUT = 60.0


def default_timeout() -> float:
    """The model-step timeout when the step sets none (``SERVEGRAPH_MODEL_TIMEOUT``)."""
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV} must be a positive number of seconds. Got {raw!r}.")
    return value


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"The '{name}' parameter of a model step must be a positive int. Got {value!r}."
        )
    return value


class ModelGuard:
    """One model's executor, in-flight bound and timeout; see the module docstring."""

    def __init__(
        self,
        name: str,
        workers: int = DEFAULT_WORKERS,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        timeout: float | None = None,
    ) -> None:
        self.name = name
        self.workers = _positive("model_workers", workers)
        self.max_in_flight = _positive("max_in_flight", max_in_flight)
        self.timeout = timeout if timeout is not None else default_timeout()
        self.in_flight = 0  # submitted and not finished (a timed-out call still counts)
        self._executor: ThreadPoolExecutor | None = None

    def _done(self, _future: Future[Any]) -> None:
        self.in_flight -= 1  # runs in the worker thread: int ops are atomic under the GIL

    async def run(self, fn: Callable[[Any], T], arg: Any) -> T:
        """``fn(arg)`` on this model's threads; 503 when full, 504 after the timeout."""
        if self.in_flight >= self.max_in_flight:
            raise OverloadedError(
                f"model {self.name!r} has {self.in_flight} requests in flight "
                f"(max_in_flight={self.max_in_flight}); retry later"
            )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, f"servegraph-model-{self.name}")
        self.in_flight += 1
        try:
            future = self._executor.submit(fn, arg)
        except BaseException:
            self.in_flight -= 1
            raise
        future.add_done_callback(self._done)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            raise StepTimeoutError(
                f"model {self.name!r} did not answer within {self.timeout:g}s"
            ) from None

    def close(self) -> None:
        """Stop taking work; threads still running a call finish it in the background."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
