"""EnrichStep: a serving-graph step that adds an entity's online features to the event body.

    graph.to(name="enrich", class_name="servegraph.featurestore.EnrichStep",
             feature_vector="churn-vec", key="customer_id", impute_policy={"*": "$mean"})

The body must be a dict holding the key column(s); the features are added to it.

A body field named like a feature of the vector is a conflict, settled by
``on_conflict``: ``"overwrite"`` (default, as storey's and MLRun's enrichment do:
the stored feature replaces the request's value), ``"keep"`` (the request's value
wins; the feature is not added), or ``"error"`` (BadRequestError naming the fields).
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import BadRequestError, EntityError

from .online import OnlineFeatureService
from .vector import FeatureVector

ON_CONFLICT = ("overwrite", "keep", "error")


class EnrichStep:
    """Graph step (``do(body)`` is async) enriching dict bodies from a feature vector."""

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        feature_vector: FeatureVector | str = "",
        key: str | list[str] = "",
        impute_policy: dict[str, Any] | None = None,
        on_conflict: str = "overwrite",
    ) -> None:
        if not feature_vector:
            raise EntityError(
                f"EnrichStep {name!r} needs a 'feature_vector'. Got {feature_vector!r}."
            )
        if not key:
            raise EntityError(f"EnrichStep {name!r} needs a 'key' (entity column). Got {key!r}.")
        if on_conflict not in ON_CONFLICT:
            raise EntityError(
                f"EnrichStep {name!r}: 'on_conflict' must be one of {list(ON_CONFLICT)}. "
                f"Got {on_conflict!r}."
            )
        self.on_conflict = on_conflict
        self.context = context
        self.name = name
        self.feature_vector = feature_vector
        self.key = [key] if isinstance(key, str) else list(key)
        self.impute_policy = impute_policy
        self._service: OnlineFeatureService | None = None

    @property
    def service(self) -> OnlineFeatureService:
        """The online feature service, opened on first use."""
        if self._service is None:
            self._service = OnlineFeatureService(self.feature_vector, self.impute_policy)
        return self._service

    def _entity_row(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise EntityError(
                f"EnrichStep {self.name!r} needs a dict body with {self.key}; got "
                f"{type(body).__name__}."
            )
        missing = [k for k in self.key if k not in body]
        if missing:
            raise EntityError(f"EnrichStep {self.name!r}: the body lacks the key(s) {missing}.")
        return {k: body[k] for k in self.key}

    async def do(self, body: Any) -> Any:
        """Add the features of ``body``'s entity to ``body`` and return it."""
        row = self._entity_row(body)
        features: dict[str, Any] = (await self.service.aget([row]))[0]
        if self.on_conflict != "overwrite":
            clashes = [name for name in features if name in body]
            if clashes and self.on_conflict == "error":
                raise BadRequestError(
                    f"EnrichStep {self.name!r}: the body already has the feature field(s) "
                    f"{clashes} (on_conflict='error')."
                )
            for name in clashes:
                del features[name]
        body.update(features)
        return body

    async def close(self) -> None:
        if self._service is not None:
            await self._service.aclose()
            self._service = None
