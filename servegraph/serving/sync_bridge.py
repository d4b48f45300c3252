"""Run a coroutine to completion from sync code, on one background event loop.

Used when the sync engine meets an async step (or a queue step): the coroutine
runs on a private loop in a daemon thread, so it works whether or not the
calling thread already runs a loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pool: ThreadPoolExecutor | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="servegraph-sync-bridge", daemon=True
            ).start()
            _loop = loop
        return _loop


def run_coroutine(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the background loop and wait for its result.

    Raises RuntimeError when called from the background loop itself (it would deadlock).
    """
    loop = _background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError("a sync step cannot wait for a coroutine on its own loop; use run_async")
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def thread_pool() -> ThreadPoolExecutor:
    """The shared pool that runs sync steps that have a timeout."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(thread_name_prefix="servegraph-step")
        return _pool
