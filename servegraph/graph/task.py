"""Task steps: run a class's ``do()`` or a handler function on each event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, Handler
from servegraph.graph.init_args import init_args, own_name
from servegraph.graph.resolve import object_path

# fields of the task dict form, in MLRun's order
TASK_FIELDS: tuple[str, ...] = (
    "kind",
    "class_name",
    "class_args",
    "handler",
    "skip_context",
    "after",
    "function",
    "comment",
    "shape",
    "full_event",
    "on_error",
    "responder",
    "input_path",
    "result_path",
    "timeout",
    # written by newer MLRun versions; kept as given for the round trip
    "model_endpoint_creation_strategy",
    "endpoint_type",
)


class TaskStep(BaseStep):
    """A step that calls a class (``do(body)``, or ``do(event)`` with ``full_event``)
    or a handler function.

    ``class_name`` may be a class, an instance (used as is), a dotted path, a
    namespace name or a built-in name; ``handler`` a function, a name, a dotted
    path or an expression such as ``"(event + 1)"``::

        step = TaskStep("mypkg.Scale", {"factor": 2}, name="scale")
        step = TaskStep(handler="(event * 2)", name="double")
    """

    kind: ClassVar[str] = "task"
    default_shape: ClassVar[str] = "box"
    _dict_fields: ClassVar[tuple[str, ...]] = TASK_FIELDS

    def __init__(
        self,
        class_name: object = None,
        class_args: Mapping[str, Any] | None = None,
        handler: Handler | None = None,
        name: str | None = None,
        after: str | list[str] | None = None,
        full_event: bool | None = None,
        function: str | None = None,
        responder: bool | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
    ) -> None:
        super().__init__(name, after)
        self.class_name: object = class_name
        self.class_args: dict[str, Any] = self._check_class_args(class_args)
        if handler is not None and not isinstance(handler, str) and not callable(handler):
            raise GraphError(
                f"{self._where()}: 'handler' must be a function or a name, got {handler!r}"
            )
        self.handler: Handler | None = handler
        self.skip_context: bool | None = None
        self.full_event = full_event
        self.function = function
        self.responder = bool(responder)
        self.input_path = input_path
        self.result_path = result_path
        self.model_endpoint_creation_strategy: Any = None
        self.endpoint_type: Any = None

    def _check_class_args(self, class_args: object) -> dict[str, Any]:
        if class_args is None:
            return {}
        if not isinstance(class_args, Mapping) or not all(isinstance(k, str) for k in class_args):
            raise GraphError(
                f"{self._where()}: 'class_args' must be a dict of str keys, got {class_args!r}"
            )
        return dict(class_args)

    def __repr__(self) -> str:
        target = self.handler if self.class_name is None else self.class_name
        return f"{type(self).__name__}(name={self.name!r}, {target!r})"

    @property
    def class_path(self) -> str | None:
        """``class_name`` as written in the dict form: the string, or the dotted path
        of a class or an instance's class."""
        if self.class_name is None or isinstance(self.class_name, str):
            return self.class_name
        return object_path(self.class_name)

    @property
    def handler_path(self) -> str | None:
        """``handler`` as written in the dict form: the string or the function's path."""
        if self.handler is None or isinstance(self.handler, str):
            return self.handler
        return object_path(self.handler)

    def _dump_field(self, field: str) -> Any:
        if field == "class_name":
            return self.class_path
        if field == "handler":
            return self.handler_path
        if field == "class_args":
            if self.class_name is None or isinstance(self.class_name, str | type):
                return dict(self.class_args)
            # an instance: its constructor arguments, so the dict rebuilds the same object
            obj = self.class_name
            return {**own_name(obj, self.name), **init_args(obj), **self.class_args}
        return super()._dump_field(field)

    def _load_field(self, field: str, value: Any) -> None:
        where = self._where()
        if field == "class_args":
            self.class_args = self._check_class_args(value)
        elif field in ("class_name", "handler"):
            if value is not None and not isinstance(value, str):
                raise GraphError(f"{where}: {field!r} must be a str, got {value!r}")
            setattr(self, field, value)
        elif field == "skip_context":
            if value is not None and not isinstance(value, bool):
                raise GraphError(f"{where}: 'skip_context' must be a bool, got {value!r}")
            self.skip_context = value
        else:
            super()._load_field(field, value)
