"""Request counters of one served model version (for /metrics, the index and canaries).

``wrap(run)`` returns a runner that counts requests, errors by status and
latency, and how many requests are running on the version right now (the
repository waits for that to reach 0 before closing a retired version).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from servegraph.serving.event import Event

Runner = Callable[[Event], Event]
AsyncRunner = Callable[[Event], Awaitable[Event]]


class VersionStats:
    """Counters of one version; ``latencies`` keeps the last ``window`` request times (s)."""

    def __init__(self, window: int = 1000) -> None:
        self.requests = 0
        self.server_errors = 0
        self.in_flight = 0
        self.latency_total = 0.0
        self.statuses: Counter[int] = Counter()
        self.latencies: deque[float] = deque(maxlen=window)

    def observe(self, seconds: float, status: int) -> None:
        """Record one finished request."""
        self.requests += 1
        self.latency_total += seconds
        self.latencies.append(seconds)
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors += 1

    def snapshot(self) -> tuple[int, int, float]:
        """(requests, server errors, total latency) now, to measure from."""
        return self.requests, self.server_errors, self.latency_total

    def wrap(self, run: Runner) -> Runner:
        """A runner that records every call of ``run`` here."""

        def counted(event: Event) -> Event:
            self.in_flight += 1
            start = perf_counter()
            status = 200
            try:
                return run(event)
            except Exception as exc:
                status = _status(exc)
                raise
            finally:
                self.in_flight -= 1
                self.observe(perf_counter() - start, status)

        counted._versioned = True  # type: ignore[attr-defined]
        counted._stats = self  # type: ignore[attr-defined]
        return counted

    def wrap_async(self, arun: AsyncRunner | None) -> AsyncRunner | None:
        """The async twin of :meth:`wrap` (None stays None)."""
        if arun is None:
            return None

        async def counted(event: Event) -> Event:
            self.in_flight += 1
            start = perf_counter()
            status = 200
            try:
                return await arun(event)
            except Exception as exc:
                status = _status(exc)
                raise
            finally:
                self.in_flight -= 1
                self.observe(perf_counter() - start, status)

        return counted


def stats_of(run: Any) -> VersionStats | None:
    """The stats a wrapped runner records into (None for other runners)."""
    stats = getattr(run, "_stats", None)
    return stats if isinstance(stats, VersionStats) else None


def _status(exc: BaseException) -> int:
    status = getattr(exc, "status_code", 500)
    return status if isinstance(status, int) else 500


__all__ = ["VersionStats", "stats_of"]
