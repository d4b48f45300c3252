"""servegraph.serving: execute serving graphs (engines, events, model servers, routers).

Names are loaded lazily::

    from servegraph.serving import V2ModelServer, GraphServer, MockEvent
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Event": "servegraph.serving.event",
    "MockEvent": "servegraph.serving.event",
    "Response": "servegraph.serving.event",
    "GraphContext": "servegraph.serving.context",
    "GraphServer": "servegraph.serving.server",
    "MockServer": "servegraph.serving.mock",
    "V2ModelServer": "servegraph.serving.v2_serving",
    "ModelRouter": "servegraph.serving.routers",
    "VotingEnsemble": "servegraph.serving.routers",
    "SplitRouter": "servegraph.serving.routers",
    "Merge": "servegraph.serving.merge",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_path = _EXPORTS.get(name)
    if module_path is None:
        raise AttributeError(f"module 'servegraph.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_path), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
