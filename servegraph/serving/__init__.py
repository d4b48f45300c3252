"""servegraph.serving: execute serving graphs (engines, events, model servers, routers).

Names are loaded lazily::

    from servegraph.serving import V2ModelServer, GraphServer, MockEvent
"""

from __future__ import annotations

from servegraph._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Event": "servegraph.serving.event",
    "MockEvent": "servegraph.serving.event",
    "MockTrigger": "servegraph.serving.event",
    "Response": "servegraph.serving.event",
    "GraphContext": "servegraph.serving.context",
    "GraphServer": "servegraph.serving.server",
    "MockServer": "servegraph.serving.mock",
    "create_graph_server": "servegraph.serving.mock",
    "V2ModelServer": "servegraph.serving.v2_serving",
    "ModelRouter": "servegraph.serving.routers",
    "VotingEnsemble": "servegraph.serving.ensemble",
    "SplitRouter": "servegraph.serving.routers",
    "Merge": "servegraph.serving.merge",
    "EnrichmentModelRouter": "servegraph.serving.enrichment",
    "EnrichmentVotingEnsemble": "servegraph.serving.enrichment",
    "RemoteStep": "servegraph.serving.remote",
    "ParallelRun": "servegraph.serving.parallel",
    "ParallelRunnerModes": "servegraph.serving.parallel",
    "BatchHttpRequests": "servegraph.serving.remote",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("servegraph.serving", _EXPORTS, globals())
