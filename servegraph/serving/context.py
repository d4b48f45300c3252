"""The context every step receives: logger, parameters, secrets, scratch space."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from servegraph.serving.event import Response


@runtime_checkable
class Tracker(Protocol):
    """Receives one record per model request (see the serving contract).

    ``log`` must not block; ``start`` and ``close`` run with the server. A
    tracker may also have ``register_endpoint(endpoint: dict)``: each model step
    calls it once at init with ``{"id", "project", "function", "model_name",
    "model_version", "model_uri"}`` so monitoring knows the endpoint before its
    first record.
    """

    def log(self, record: dict[str, Any]) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class GraphContext:
    """What steps see of the server they run in (``Response`` builds a response, as
    Nuclio's context does).

    >>> ctx = GraphContext(name="fn", project="p", parameters={"a": 1})
    >>> ctx.get_param("a"), ctx.get_param("b", 2)
    (1, 2)

    Parameters:
        name: the function name.
        project: the project the function belongs to.
        parameters: the serving spec's parameters (``get_param``).
        secrets: explicit secrets; ``get_secret`` falls back to the environment.
        logger: defaults to the ``servegraph.serving`` logger.
    """

    Response: ClassVar[type[Response]] = Response

    def __init__(
        self,
        name: str = "",
        project: str = "",
        parameters: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        logger: Any = None,
        server: Any = None,
        is_mock: bool = False,
        verbose: bool = False,
    ) -> None:
        self.name = name
        self.project = project
        self.parameters: dict[str, Any] = dict(parameters or {})
        self._secrets: dict[str, str] = dict(secrets or {})
        self.logger = logger or logging.getLogger("servegraph.serving")
        self.server = server
        self.is_mock = is_mock
        self.verbose = verbose
        self.root: Any = None
        self.visits: dict[str, Any] = {}
        self.tracker: Tracker | None = None
        self.current_function: str | None = None
        self.root_function: str | None = None  # the function of steps that name none

    def get_param(self, key: str, default: Any = None) -> Any:
        """A serving-spec parameter, or ``default``."""
        return self.parameters.get(key, default)

    def get_secret(self, key: str, default: str | None = None) -> str | None:
        """A secret given to the context, else the environment variable, else ``default``."""
        if key in self._secrets:
            return self._secrets[key]
        return os.environ.get(key, default)

    def __repr__(self) -> str:
        return f"GraphContext(name={self.name!r}, project={self.project!r})"
