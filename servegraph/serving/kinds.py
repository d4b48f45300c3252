"""Serving's built-in step classes, registered with the graph (see ``servegraph.graph.kinds``).

Imported by the graph on its first lookup of a built-in name; nothing here
imports the classes themselves.
"""

from __future__ import annotations

from servegraph.graph.kinds import register

_ROUTERS = "servegraph.serving.routers"

register(
    "BaseModelRouter",
    f"{_ROUTERS}:BaseModelRouter",
    router=True,
    aliases=("mlrun.serving.routers.BaseModelRouter",),
)
register(
    "ModelRouter",
    f"{_ROUTERS}:ModelRouter",
    router=True,
    aliases=("mlrun.serving.ModelRouter", "mlrun.serving.routers.ModelRouter"),
)
register("SplitRouter", f"{_ROUTERS}:SplitRouter", router=True)
register(
    "VotingEnsemble",
    f"{_ROUTERS}:VotingEnsemble",
    router=True,
    aliases=(
        "servegraph.serving.ensemble.VotingEnsemble",
        "servegraph.serving.VotingEnsemble",
        "mlrun.serving.VotingEnsemble",
        "mlrun.serving.routers.VotingEnsemble",
    ),
)
register(
    "ParallelRun",
    "servegraph.serving.parallel:ParallelRun",
    router=True,
    aliases=("servegraph.serving.routers.ParallelRun", "mlrun.serving.routers.ParallelRun"),
)
for _name in ("EnrichmentModelRouter", "EnrichmentVotingEnsemble"):
    register(
        _name,
        f"servegraph.serving.enrichment:{_name}",
        router=True,
        aliases=(f"servegraph.serving.routers.{_name}", f"mlrun.serving.routers.{_name}"),
    )
register(
    "V2ModelServer",
    "servegraph.serving.v2_serving:V2ModelServer",
    aliases=("mlrun.serving.V2ModelServer", "mlrun.serving.v2_serving.V2ModelServer"),
)
register(
    "Merge",
    "servegraph.serving.merge:Merge",
    aliases=("mlrun.serving.Merge", "mlrun.serving.remote.Merge", "mlrun.serving.merger.Merge"),
)
register(
    "SKLearnModelServer",
    "servegraph.serving.sklearn_server:SKLearnModelServer",
    aliases=(
        "mlrun.frameworks.sklearn.SKLearnModelServer",
        "mlrun.frameworks.sklearn.model_server.SKLearnModelServer",
    ),
)
register(
    "RemoteStep",
    "servegraph.serving.remote:RemoteStep",
    aliases=("$remote", "mlrun.serving.RemoteStep", "mlrun.serving.remote.RemoteStep"),
)
register(
    "BatchHttpRequests",
    "servegraph.serving.remote:BatchHttpRequests",
    aliases=("mlrun.serving.BatchHttpRequests", "mlrun.serving.remote.BatchHttpRequests"),
)
