"""SetEventMetadata: set the event's id and key from fields of its body."""

from __future__ import annotations

import uuid
from typing import Any

from servegraph.errors import BadRequestError


class SetEventMetadata:
    """Set ``event.id`` / ``event.key`` from body paths (``"a.b"`` for nested dicts).

    In a serving graph it works on the whole event; in a feature-set graph it
    passes rows on unchanged (ingestion keys rows by the entity columns).

    Parameters:
        id_path: path of the id in the body.
        key_path: path of the key in the body.
        random_id: give the event a new random id.
    """

    def __init__(
        self,
        id_path: str | None = None,
        key_path: str | None = None,
        random_id: bool | None = None,
        name: str | None = None,
        context: Any = None,
    ) -> None:
        self.id_path = id_path
        self.key_path = key_path
        self.random_id = random_id
        self.name = name or type(self).__name__
        self.context = context

    def do_event(self, event: Any) -> Any:
        """Set the metadata of a serving event; the body is unchanged."""
        if self.id_path:
            event.id = str(self._get(event.body, self.id_path))
        if self.key_path:
            event.key = str(self._get(event.body, self.key_path))
        if self.random_id:
            event.id = uuid.uuid4().hex
        return event

    def do(self, body: Any) -> Any:
        """A feature-set row passes unchanged."""
        return body

    def _get(self, body: Any, path: str) -> Any:
        value = body
        for part in path.split("."):
            try:
                value = value[part]
            except (KeyError, TypeError, IndexError):
                raise BadRequestError(
                    f"step {self.name!r} (SetEventMetadata): the body has no {path!r}"
                ) from None
        return value
