"""Queue steps: hand events over to a stream, where another function picks them up."""

from __future__ import annotations

from typing import Any, ClassVar

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep

# class_name spellings that make a queue step in to()/add_step() (MLRun)
QUEUE_CLASS_NAMES = (">>", "$queue")


class QueueStep(BaseStep):
    """Push each event's body to the stream at ``path`` (``redis://``, ``kafka://``,
    ``file://`` or a plain path). Steps after it run where the stream is consumed.
    Without a path (None or ``""``) it is MLRun's in-process queue: events pass on.

    ``**options`` are kept and passed to the stream backend::

        graph.to("prep").to(">>", "q1", path="redis://127.0.0.1:6379/events").to("model")
        QueueStep("q1", path="kafka://broker:9092/topic", shards=4)
    """

    kind: ClassVar[str] = "queue"
    default_shape: ClassVar[str] = "cds"
    _dict_fields: ClassVar[tuple[str, ...]] = (
        *BaseStep._dict_fields,
        "path",
        "shards",
        "retention_in_hours",
        "trigger_args",
        "options",
        "function",
    )

    def __init__(
        self,
        name: str | None = None,
        path: str | None = None,
        after: str | list[str] | None = None,
        shards: int | None = None,
        retention_in_hours: int | None = None,
        trigger_args: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, after)
        self.path = self._check_path(path)
        self.shards = self._check_positive("shards", shards)
        self.retention_in_hours = self._check_positive("retention_in_hours", retention_in_hours)
        self.trigger_args = self._check_dict("trigger_args", trigger_args)
        self.options: dict[str, Any] = dict(options)
        self.function: str | None = None  # the function that pushes (a child's own queue)

    def _check_path(self, path: object) -> str | None:
        if path is not None and not isinstance(path, str):
            raise GraphError(f"{self._where()}: 'path' must be a stream URL, got {path!r}")
        return path or None

    def _check_positive(self, field: str, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise GraphError(f"{self._where()}: {field!r} must be a positive int, got {value!r}")
        return value

    def _check_dict(self, field: str, value: object) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise GraphError(f"{self._where()}: {field!r} must be a dict, got {value!r}")
        return dict(value)

    def __repr__(self) -> str:
        return f"QueueStep(name={self.name!r}, path={self.path!r})"

    def _dump_field(self, field: str) -> Any:
        if field == "options":
            return dict(self.options)
        return super()._dump_field(field)

    def _load_field(self, field: str, value: Any) -> None:
        if field == "path":
            self.path = self._check_path(value)
        elif field in ("shards", "retention_in_hours"):
            setattr(self, field, self._check_positive(field, value))
        elif field == "trigger_args":
            self.trigger_args = self._check_dict(field, value)
        elif field == "options":
            self.options = self._check_dict(field, value) or {}
        else:
            super()._load_field(field, value)
