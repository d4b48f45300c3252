"""Canary traffic of one model name: a weighted split between versions, and its policy.

A :class:`SplitRoute` stands in a router's route table under the model name:
``/v2/models/{name}/...`` requests go to one of its versions by weight. With a
:class:`CanaryPolicy`, once the canary has served ``min_requests`` requests its
server-error rate and mean latency are compared with the stable version's over
the same period: no worse (latency within ``latency_tolerance`` times the
stable's) promotes the canary, anything else rolls it back.

    policy = CanaryPolicy(weight=10, min_requests=200)
    server.load_model("fraud", "store://models/shop/fraud:v2", version="v2", canary=policy)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from servegraph.errors import GraphError
from servegraph.serving.base import Route
from servegraph.serving.event import Event
from servegraph.serving.version_stats import VersionStats, stats_of


@dataclass(frozen=True)
class CanaryPolicy:
    """When a canary is promoted or rolled back.

    weight: percent of the name's requests sent to the canary (0 < weight < 100).
    min_requests: canary requests before deciding (0: never decide; promote by hand).
    latency_tolerance: the canary's mean latency may be this many times the stable's.
    """

    weight: float = 10.0
    min_requests: int = 100
    latency_tolerance: float = 1.5

    def __post_init__(self) -> None:
        if not isinstance(self.weight, int | float) or not 0 < self.weight < 100:
            raise GraphError(
                f"The 'canary_weight' must be a number between 0 and 100 (percent). "
                f"Got {self.weight!r} instead."
            )
        if not isinstance(self.min_requests, int) or self.min_requests < 0:
            raise GraphError(
                f"The 'min_requests' of a canary must be an int >= 0. Got {self.min_requests!r}."
            )
        if not isinstance(self.latency_tolerance, int | float) or self.latency_tolerance < 1:
            raise GraphError(
                f"The 'latency_tolerance' of a canary must be a number >= 1. "
                f"Got {self.latency_tolerance!r} instead."
            )

    def decide(
        self, canary: tuple[int, int, float], stable: tuple[int, int, float]
    ) -> tuple[bool, str] | None:
        """(promote?, reason) from (requests, server errors, latency sum) deltas, or None yet.

        >>> CanaryPolicy(min_requests=2).decide((2, 0, 0.02), (18, 0, 0.18))
        (True, 'canary: 0 errors in 2 requests, mean 10.0 ms; stable: 0 in 18, mean 10.0 ms')
        >>> CanaryPolicy(min_requests=2).decide((2, 1, 0.02), (18, 0, 0.18))[0]
        False
        """
        n, errors, total = canary
        if self.min_requests == 0 or n < self.min_requests:
            return None
        sn, serrors, stotal = stable
        rate, srate = errors / n, (serrors / sn if sn else 0.0)
        mean, smean = total / n, (stotal / sn if sn else 0.0)
        reason = (
            f"canary: {errors} errors in {n} requests, mean {mean * 1e3:.1f} ms; "
            f"stable: {serrors} in {sn}, mean {smean * 1e3:.1f} ms"
        )
        slow = sn > 0 and mean > smean * self.latency_tolerance
        return (rate <= srate and not slow), reason


Decision = Callable[["SplitRoute", bool, str], None]


class SplitRoute(Route):
    """A route that sends each event to one of a model's versions by weight."""

    def __init__(
        self,
        name: str,
        versions: dict[str, tuple[Route, float]],
        policy: CanaryPolicy | None = None,
        on_decision: Decision | None = None,
        seed: int | None = None,
    ) -> None:
        self.versions = {v: rw for v, rw in versions.items() if rw[1] > 0}
        if not self.versions:
            raise GraphError(f"the traffic split of {name!r} needs a version with a weight > 0")
        self.policy = policy
        self.on_decision = on_decision
        self.decided = False
        self._random = random.Random(seed)
        self._keys = list(self.versions)
        total, self._cumulative = 0.0, []
        for _, weight in self.versions.values():
            total += weight
            self._cumulative.append(total)
        routes = [r for r, _ in self.versions.values()]
        self.stable: Route = routes[0]
        self.canary_version = self._keys[-1]
        self._start = {v: _snapshot(r) for v, (r, _) in self.versions.items()}
        has_async = any(r.arun is not None for r in routes)
        super().__init__(name, None, self._run, self._arun if has_async else None)

    def single(self) -> Route | None:
        """The one route when only one version has weight (then no split is needed)."""
        return self.stable if len(self.versions) == 1 else None

    def weight_of(self, route: Route) -> float:
        """The percent of traffic ``route`` gets."""
        total = self._cumulative[-1]
        return next((100 * w / total for r, w in self.versions.values() if r is route), 0.0)

    def without(self, route: Route) -> Route:
        """This split minus ``route`` (the remaining route when one is left)."""
        rest = {v: rw for v, rw in self.versions.items() if rw[0] is not route}
        if len(rest) == 1:
            return next(iter(rest.values()))[0]
        return SplitRoute(self.name, rest)

    def _pick(self) -> tuple[str, Route]:
        point = self._random.random() * self._cumulative[-1]
        for key, bound in zip(self._keys, self._cumulative, strict=True):
            if point < bound:
                return key, self.versions[key][0]
        return self._keys[-1], self.versions[self._keys[-1]][0]

    def _run(self, event: Event) -> Event:
        key, route = self._pick()
        try:
            return route.run(event)
        finally:
            if key == self.canary_version and self.policy is not None:
                self._check()

    async def _arun(self, event: Event) -> Event:
        key, route = self._pick()
        try:
            return route.run(event) if route.arun is None else await route.arun(event)
        finally:
            if key == self.canary_version and self.policy is not None:
                self._check()

    def _check(self) -> None:
        if self.decided or self.policy is None:
            return
        canary_route = self.versions[self.canary_version][0]
        stable_version = self._keys[0]
        deltas = {
            v: _delta(_snapshot(r), self._start[v])
            for v, r in ((self.canary_version, canary_route), (stable_version, self.stable))
        }
        decision = self.policy.decide(deltas[self.canary_version], deltas[stable_version])
        if decision is None:
            return
        self.decided = True
        if self.on_decision is not None:
            self.on_decision(self, *decision)


def _snapshot(route: Route) -> tuple[int, int, float]:
    stats: VersionStats | None = stats_of(route.run)
    return stats.snapshot() if stats is not None else (0, 0, 0.0)


def _delta(now: tuple[int, int, float], start: tuple[int, int, float]) -> tuple[int, int, float]:
    return now[0] - start[0], now[1] - start[1], now[2] - start[2]


__all__ = ["CanaryPolicy", "SplitRoute"]
