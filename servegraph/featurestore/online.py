"""The online feature service: the latest features of entities, one store round trip per get.

svc = get_online_feature_service("churn-vec", impute_policy={"*": "$mean"})
svc.get([{"customer_id": 7}])        # [{"amount_sum_1h": 12.5, ...}]
svc.get([7], as_list=True)            # [[12.5, ...]]
svc.close()
"""

from __future__ import annotations

import json
from typing import Any

from servegraph.errors import EntityError

from .impute import ImputePolicy
from .targets import OnlineStore
from .targets.base import RowKey
from .vector import FeatureVector, get_feature_vector
from .writer import entity_key


class _Part:
    """One feature set of the vector, pre-computed for fast requests."""

    def __init__(
        self, fset_key: str, entities: list[str], names: list[str], columns: list[str], store: int
    ) -> None:
        self.fset_key = fset_key
        self.entities = entities
        self.names = names
        self.columns = columns
        self.store = store


class OnlineFeatureService:
    """Serves a feature vector from the online stores of its feature sets.

    ``get(entity_rows)`` takes dicts of entity values (or bare values when each
    feature set has one entity) and returns one dict (or list, ``as_list``) per row;
    ``aget`` is the same without blocking the event loop.
    """

    def __init__(
        self, vector: FeatureVector | str, impute_policy: dict[str, Any] | None = None
    ) -> None:
        self.vector = get_feature_vector(vector)
        parts = self.vector.parts()
        self._stores: list[OnlineStore] = []
        store_index: dict[str, int] = {}
        self._parts: list[_Part] = []
        for part in parts:
            target = part.fset.online_target()
            spec = json.dumps(target.to_dict(), sort_keys=True)
            if spec not in store_index:
                store_index[spec] = len(self._stores)
                self._stores.append(target.open())
            self._parts.append(
                _Part(
                    part.fset.key,
                    part.fset.entity_names,
                    part.names,
                    [c for _, c in part.features],
                    store_index[spec],
                )
            )
        self.columns = [c for p in self._parts for c in p.columns]
        self._fill: dict[str, Any] = {}
        if impute_policy:
            self._fill = ImputePolicy(impute_policy).resolve(
                [(n, c, part.fset.stats) for part in parts for n, c in part.features]
            )

    def _requests(self, entity_rows: list[Any]) -> list[tuple[list[RowKey], list[list[str]]]]:
        per_store: list[tuple[list[RowKey], list[list[str]]]] = [([], []) for _ in self._stores]
        for row in entity_rows:
            for part in self._parts:
                if isinstance(row, dict):
                    try:
                        values = [row[e] for e in part.entities]
                    except KeyError as exc:
                        raise EntityError(
                            f"The entity row {row!r} lacks the entity {exc.args[0]!r} of feature "
                            f"set {part.fset_key!r}."
                        ) from None
                elif len(part.entities) == 1:
                    values = [row]
                else:
                    raise EntityError(
                        f"Feature set {part.fset_key!r} has entities {part.entities}; pass entity "
                        f"rows as dicts. Got {row!r}."
                    )
                keys, names = per_store[part.store]
                keys.append((part.fset_key, entity_key(values)))
                names.append(part.names)
        return per_store

    def _assemble(
        self, n_rows: int, results: list[list[dict[str, Any] | None]], as_list: bool
    ) -> list[Any]:
        cursors = [0] * len(self._stores)
        out: list[Any] = []
        fill = self._fill
        for _ in range(n_rows):
            record: dict[str, Any] = {}
            for part in self._parts:
                found = results[part.store][cursors[part.store]]
                cursors[part.store] += 1
                for name, column in zip(part.names, part.columns, strict=True):
                    value = None if found is None else found.get(name)
                    if value is None and column in fill:
                        value = fill[column]
                    record[column] = value
            out.append(list(record.values()) if as_list else record)
        return out

    def get(self, entity_rows: list[Any], as_list: bool = False) -> list[Any]:
        """Features of each entity row; one round trip per online store."""
        requests = self._requests(entity_rows)
        results = [
            store.read(keys, names) if keys else []
            for store, (keys, names) in zip(self._stores, requests, strict=True)
        ]
        return self._assemble(len(entity_rows), results, as_list)

    async def aget(self, entity_rows: list[Any], as_list: bool = False) -> list[Any]:
        """``get`` for event loops (redis.asyncio for Redis)."""
        requests = self._requests(entity_rows)
        results = [
            await store.aread(keys, names) if keys else []
            for store, (keys, names) in zip(self._stores, requests, strict=True)
        ]
        return self._assemble(len(entity_rows), results, as_list)

    def close(self) -> None:
        for store in self._stores:
            store.close()

    async def aclose(self) -> None:
        for store in self._stores:
            await store.aclose()


def get_online_feature_service(
    vector: FeatureVector | str, impute_policy: dict[str, Any] | None = None
) -> OnlineFeatureService:
    """An :class:`OnlineFeatureService` for a vector (object, name or URI); ``close()`` it."""
    return OnlineFeatureService(vector, impute_policy)
