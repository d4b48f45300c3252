"""The feature store's built-in step classes, registered with the graph (``EnrichStep``, the
feature steps of ``servegraph.featurestore.steps`` under their MLRun spellings too)."""

from __future__ import annotations

from servegraph.graph.kinds import register

register("EnrichStep", "servegraph.featurestore.enrich:EnrichStep")

for _name in (
    "OneHotEncoder",
    "Imputer",
    "MapValues",
    "DateExtractor",
    "DropFeatures",
    "SetEventMetadata",
):
    register(
        _name,
        f"servegraph.featurestore.steps:{_name}",
        aliases=(f"mlrun.feature_store.steps.{_name}", f"storey.{_name}"),
    )
