"""Feature sets: entities, features, a transformation graph, aggregations and targets.

>>> fset = FeatureSet("orders", entities=["customer_id"], timestamp_key="time")
>>> _ = fset.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
>>> fset.feature_names()
['amount_sum_1h', 'amount_count_1h']
>>> fset.uri
'store://feature-sets/default/orders:latest'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from servegraph.errors import EntityError, FeatureNotFoundError, FeatureStoreError
from servegraph.graph import RootFlowStep
from servegraph.names import check_name

from .aggregation import Aggregation
from .catalog import DEFAULT_PROJECT, DEFAULT_TAG, Catalog, make_uri, parse_uri
from .model import Entity, Feature
from .targets import BaseTarget, OfflineTarget, OnlineTarget, default_targets, target_from_dict

KIND = "feature-sets"
ENGINES = ("storey", "pandas")


class FeatureSet:
    """A group of features of the same entities, computed by one ingestion pipeline.

    Parameters: ``name``; ``entities`` (names or :class:`Entity`); ``timestamp_key``
    (the event-time column; needed for aggregations and point-in-time joins);
    ``engine`` (``"storey"``: the graph's steps get one row dict each; ``"pandas"``:
    they get the whole DataFrame); ``description``; ``project``; ``tag``.

    Build the transformation graph with ``fset.graph.to(...)`` and add windowed
    aggregations with :meth:`add_aggregation`; then ``ingest(fset, df)``.
    """

    def __init__(
        self,
        name: str,
        entities: list[Entity | str] | None = None,
        timestamp_key: str | None = None,
        engine: str = "storey",
        description: str = "",
        project: str = DEFAULT_PROJECT,
        tag: str = DEFAULT_TAG,
        features: list[Feature] | None = None,
    ) -> None:
        check_name("feature set", name)
        check_name("project", project)
        if engine not in ENGINES:
            raise FeatureStoreError(
                f"The 'engine' parameter of FeatureSet must be one of {ENGINES}. "
                f"Got {engine!r} instead."
            )
        if not entities:
            raise EntityError(f"FeatureSet {name!r} needs at least one entity. Got {entities!r}.")
        self.name = name
        self.project = project
        self.tag = tag
        self.entities = [e if isinstance(e, Entity) else Entity(str(e)) for e in entities]
        self.timestamp_key = timestamp_key
        self.engine = engine
        self.description = description
        self.features: list[Feature] = list(features or [])
        self.aggregations: list[Aggregation] = []
        self.targets: list[BaseTarget] = []
        self.stats: dict[str, dict[str, Any]] = {}
        self._graph: RootFlowStep | None = None

    # -- model -------------------------------------------------------------
    @property
    def key(self) -> str:
        """``project/name``: the feature set's key in the stores."""
        return f"{self.project}/{self.name}"

    @property
    def uri(self) -> str:
        return make_uri(KIND, self.project, self.name, self.tag)

    @property
    def entity_names(self) -> list[str]:
        return [e.name for e in self.entities]

    @property
    def graph(self) -> RootFlowStep:
        """The transformation graph (a servegraph.graph root flow); build it with ``.to()``."""
        if self._graph is None:
            self._graph = RootFlowStep()
        return self._graph

    def has_graph(self) -> bool:
        return self._graph is not None and len(self._graph.steps) > 0

    def add_aggregation(
        self,
        column: str,
        operations: list[str],
        windows: list[str] | str,
        period: str | None = None,
        name: str | None = None,
    ) -> FeatureSet:
        """Aggregate ``column`` per entity over sliding (``period`` set) or fixed windows.

        ``operations`` among count, sum, sqr, avg, min, max, std, var, first, last;
        ``windows`` like ``["1h", "1d"]``. Features are ``{name}_{op}_{window}``.
        Sliding windows move by whole periods (storey): an event's ``1h`` window with
        ``period="10m"`` covers the six 10-minute buckets ending with the event's own
        bucket; a smaller period gives a finer window edge.
        """
        if self.timestamp_key is None:
            raise EntityError(
                f"FeatureSet {self.name!r} needs a 'timestamp_key' for windowed aggregations."
            )
        agg = Aggregation(
            column,
            list(operations),
            [windows] if isinstance(windows, str) else list(windows),
            period,
            name or column,
        )
        taken = set(self.feature_names())
        clash = [f for f in agg.feature_names() if f in taken]
        if clash:
            raise FeatureStoreError(f"Aggregation {agg.name!r} duplicates features {clash}.")
        self.aggregations.append(agg)
        return self

    def set_targets(self, targets: list[BaseTarget] | None = None) -> None:
        """Targets to write at ingestion (default: Parquet + the configured online store)."""
        self.targets = list(targets) if targets else default_targets()

    def get_targets(self) -> list[BaseTarget]:
        if not self.targets:
            self.set_targets()
        return self.targets

    def offline_target(self) -> OfflineTarget:
        for target in self.get_targets():
            if isinstance(target, OfflineTarget):
                return target
        raise FeatureStoreError(f"FeatureSet {self.name!r} has no offline target.")

    def online_target(self) -> OnlineTarget:
        for target in self.get_targets():
            if isinstance(target, OnlineTarget):
                return target
        raise FeatureStoreError(f"FeatureSet {self.name!r} has no online target.")

    def feature_names(self) -> list[str]:
        """Declared or inferred features, then aggregation features (no duplicates)."""
        names = [f.name for f in self.features]
        for agg in self.aggregations:
            names += [n for n in agg.feature_names() if n not in names]
        return names

    def check_features(self, names: list[str]) -> None:
        known = set(self.feature_names())
        missing = [n for n in names if n not in known]
        if missing:
            raise FeatureNotFoundError(
                f"Feature(s) {missing} are not in feature set {self.uri}; it has {sorted(known)}."
            )

    def get_stats_table(self) -> pd.DataFrame:
        """The reference statistics (``compute_stats`` format) as a table, one row per column."""
        return pd.DataFrame.from_dict(self.stats, orient="index")

    # -- persistence -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "entities": [e.to_dict() for e in self.entities],
            "features": [f.to_dict() for f in self.features],
            "timestamp_key": self.timestamp_key,
            "engine": self.engine,
            "description": self.description,
            "aggregations": [a.to_dict() for a in self.aggregations],
            "targets": [t.to_dict() for t in self.get_targets()],
        }
        if self._graph is not None and self.has_graph():
            spec["graph"] = self._graph.to_dict()
        return {
            "kind": "FeatureSet",
            "metadata": {"name": self.name, "project": self.project, "tag": self.tag},
            "spec": spec,
            "status": {"stats": self.stats},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSet:
        meta, spec = data["metadata"], data["spec"]
        fset = cls(
            meta["name"],
            entities=[Entity(**e) for e in spec["entities"]],
            timestamp_key=spec.get("timestamp_key"),
            engine=spec.get("engine", "storey"),
            description=spec.get("description", ""),
            project=meta.get("project", DEFAULT_PROJECT),
            tag=meta.get("tag", DEFAULT_TAG),
            features=[Feature(**f) for f in spec.get("features", [])],
        )
        fset.aggregations = [Aggregation(**a) for a in spec.get("aggregations", [])]
        fset.targets = [target_from_dict(t) for t in spec.get("targets", [])]
        fset.stats = data.get("status", {}).get("stats", {})
        if spec.get("graph"):
            fset._graph = RootFlowStep.from_dict(spec["graph"])
        return fset

    def save(self) -> str:
        """Store in the catalog; return the URI."""
        return Catalog().save(KIND, self.project, self.name, self.tag, self.to_dict())


def get_feature_set(name_or_uri: str | FeatureSet, project: str | None = None) -> FeatureSet:
    """Load a feature set from the catalog by name, ``name:tag`` or ``store://`` URI."""
    if isinstance(name_or_uri, FeatureSet):
        return name_or_uri
    proj, name, tag = parse_uri(name_or_uri, KIND, project)
    return FeatureSet.from_dict(Catalog().load(KIND, proj, name, tag))
