"""The feature store's built-in step class, registered with the graph (``EnrichStep``)."""

from __future__ import annotations

from servegraph.graph.kinds import register

register("EnrichStep", "servegraph.featurestore.enrich:EnrichStep")
