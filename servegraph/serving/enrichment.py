"""Routers that look up online features before routing (MLRun's enrichment routers).

The request's ``inputs`` are entity rows (dicts of entity values, or bare values
for single-entity vectors); the router replaces them by the rows of the feature
vector, imputed per ``impute_policy``, and then routes as its parent does::

    fn.set_topology("router", EnrichmentModelRouter(feature_vector_uri="churn-vec",
                                                    impute_policy={"*": "$mean"}))
    server.test("/v2/models/m/infer", body={"inputs": [{"customer_id": 7}]})

The feature service lives in the feature store, which serving does not import:
it is named by path (``FEATURE_SERVICE``) and loaded when the router starts.
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import GraphError
from servegraph.graph.resolve import import_object
from servegraph.serving.base import Route
from servegraph.serving.ensemble import VotingEnsemble
from servegraph.serving.event import Event
from servegraph.serving.routers import ModelRouter
from servegraph.serving.v2_protocol import parse_path

FEATURE_SERVICE = "servegraph.featurestore.online:get_online_feature_service"
ENRICHED_OPERATIONS = ("", "infer", "predict", "explain")


class FeatureRows(list[Any]):
    """Inputs already replaced by feature rows (so a second dispatch does not look them up)."""


class _Enrichment:
    """What both routers share: the feature service and the rewrite of ``inputs``."""

    _service: Any = None

    def __init__(
        self,
        *args: Any,
        feature_vector_uri: str = "",
        impute_policy: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not feature_vector_uri:
            raise GraphError(
                f"{type(self).__name__} needs a 'feature_vector_uri'. Got {feature_vector_uri!r}."
            )
        self.feature_vector_uri = feature_vector_uri
        self.impute_policy = dict(impute_policy or {})

    @property
    def service(self) -> Any:
        """The online feature service of the vector (opened on first use)."""
        if self._service is None:
            factory = import_object(FEATURE_SERVICE, "feature service")
            self._service = factory(self.feature_vector_uri, self.impute_policy or None)
        return self._service

    def _rows(self, event: Event) -> list[Any] | None:
        """The entity rows of an inference request, or None when nothing is to enrich."""
        body = event.body
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or isinstance(inputs, FeatureRows):
            return None
        op = parse_path(event.path).operation or ""
        return inputs if op in ENRICHED_OPERATIONS else None

    def _enrich(self, event: Event) -> None:
        rows = self._rows(event)
        if rows:
            event.body["inputs"] = FeatureRows(self.service.get(rows, as_list=True))

    async def _aenrich(self, event: Event) -> None:
        rows = self._rows(event)
        if rows:
            event.body["inputs"] = FeatureRows(await self.service.aget(rows, as_list=True))

    async def _close_service(self) -> None:
        if self._service is not None:
            service, self._service = self._service, None
            await service.aclose()


class EnrichmentModelRouter(_Enrichment, ModelRouter):
    """A ModelRouter whose requests carry entity keys; models get the feature rows.

    Parameters (besides ModelRouter's):
        feature_vector_uri: the feature vector's name or URI.
        impute_policy: ``{feature or "*": value | "$mean" | "$min" | ...}`` for missing values.
    """

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        self._enrich(event)
        return super().do_event(event)

    async def do_event_async(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        await self._aenrich(event)
        route = self._route(event)
        if route is None:
            return super().do_event(event)  # listings and metadata: nothing to enrich
        return route.run(event) if route.arun is None else await route.arun(event)

    def _route(self, event: Event) -> Route | None:
        """The route ModelRouter's dispatch picks, or None for a listing."""
        parsed = parse_path(event.path)
        if parsed.version is None and parsed.name in self.routes:
            return self.routes[parsed.name]  # type: ignore[index]
        name, version, op = self.target(event.path)
        if name is None or name == self.name:
            if name is None and not op and event.method == "GET":
                return None
            return self.select_default(event)
        return self.find_route(name, version, op)

    async def close(self) -> None:
        """Close the feature service."""
        await self._close_service()


class EnrichmentVotingEnsemble(_Enrichment, VotingEnsemble):
    """A VotingEnsemble whose requests carry entity keys (see :class:`EnrichmentModelRouter`)."""

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        self._enrich(event)
        return super().do_event(event)

    async def do_event_async(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        await self._aenrich(event)
        return await VotingEnsemble.do_event_async(self, event)

    def close(self) -> Any:
        """Shut the members' executor down; the returned coroutine closes the feature service."""
        super().close()
        return self._close_service()
