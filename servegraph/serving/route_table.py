"""Helpers of the model repository: reading a router's route table, rebuilding a model step.

A route table maps ``name`` (the default version) and ``name:version`` keys to
routes; a :class:`~servegraph.serving.canary.SplitRoute` under ``name`` splits
the name's traffic between versions.
"""

from __future__ import annotations

import inspect
from typing import Any

from servegraph.errors import GraphError
from servegraph.serving.base import Route
from servegraph.serving.canary import SplitRoute

_INIT_SKIP = frozenset({"self", "context", "name", "model", "model_path", "kwargs"})


async def awaited(awaitable: Any) -> None:
    await awaitable


def close_call(route: Route) -> Any:
    close = getattr(route.object, "close", None)
    return close() if callable(close) else None


def split_key(key: str, route: Any) -> tuple[str, str]:
    name, _, version = key.partition(":")
    return name, version or version_of(route)


def version_of(route: Any) -> str:
    return str(getattr(getattr(route, "object", None), "version", "") or "")


def default_route(routes: dict[str, Route], name: str) -> Route | None:
    """The route ``/v2/models/{name}`` goes to (the stable one of a split)."""
    route = routes.get(name)
    if isinstance(route, SplitRoute):
        return route.stable
    if route is None:
        versions = sorted(k for k in routes if k.startswith(name + ":"))
        route = routes[versions[-1]] if versions else None
    return route


def default_object(router: Any, name: str) -> Any:
    route = default_route(router.routes, name)
    return route.object if route is not None else None


def class_args(obj: Any) -> dict[str, Any]:
    """The constructor arguments that rebuild ``obj`` (a model step) with another model_path."""
    args: dict[str, Any] = dict(getattr(obj, "_params", {}) or {})
    try:
        params = inspect.signature(type(obj).__init__).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    for pname, param in params.items():
        if pname in _INIT_SKIP or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if hasattr(obj, pname):
            args.setdefault(pname, getattr(obj, pname))
    batcher = getattr(obj, "_batcher", None)
    if batcher is not None:  # micro-batching settings were popped from the class args
        args["max_batch_size"] = batcher.max_batch_size
        args["max_batch_wait_ms"] = batcher.max_batch_wait_ms
    args["model_path"] = getattr(obj, "model_path", None)
    return {k: v for k, v in args.items() if v is not None}


def check_weights(name: str, weights: Any) -> None:
    if (
        not isinstance(weights, dict)
        or not weights
        or any(not isinstance(w, int | float) or w < 0 for w in weights.values())
        or sum(weights.values()) <= 0
    ):
        raise GraphError(
            f"The 'weights' of {name!r} must map versions (or route keys) to non-negative "
            f"numbers with a positive sum. Got {weights!r} instead."
        )


__all__ = [
    "awaited",
    "check_weights",
    "class_args",
    "close_call",
    "default_object",
    "default_route",
    "split_key",
    "version_of",
]
