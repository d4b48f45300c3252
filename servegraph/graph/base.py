"""The step interface: common fields, chaining, the kind registry, dict form.

Every step kind (task, router, queue, flow) derives from :class:`BaseStep`.
A subclass declares its ``kind``, the fields its dict form carries
(``_dict_fields``) and, where a field needs it, a conversion hook; the base
class does the rest (``to_dict``/``from_dict``, ``to``, ``respond``,
``error_handler``). Steps live in a flow (or a router's routes) and keep a
reference to that parent, which is what lets ``step.to(...)`` add a step to
the same flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from servegraph.errors import GraphError

if TYPE_CHECKING:
    from servegraph.graph.flow import FlowStep

Handler = str | Callable[..., Any]

# kind -> class; filled by BaseStep.__init_subclass__
_KINDS: dict[str, type[BaseStep]] = {}


def known_kinds() -> list[str]:
    """The step kinds ``from_dict`` accepts."""
    return sorted(_KINDS)


def step_class(kind: str, where: str = "step") -> type[BaseStep]:
    """Return the step class registered for ``kind``."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise GraphError(
            f"{where}: unknown kind {kind!r} (known kinds: {', '.join(known_kinds())})"
        ) from None


def step_from_dict(
    struct: Mapping[str, Any] | BaseStep, name: str | None = None, default_kind: str = "task"
) -> BaseStep:
    """Build a step of the right kind from its dict form (a step is returned as is).

    >>> step_from_dict({"kind": "task", "handler": "json.dumps"}, name="dump").handler
    'json.dumps'
    """
    if isinstance(struct, BaseStep):
        return struct
    where = f"step {name!r}" if name else "step"
    if not isinstance(struct, Mapping):
        raise GraphError(f"{where}: expected a step object or a dict, got {struct!r}")
    kind = struct.get("kind") or default_kind
    return step_class(str(kind), where).from_dict(struct, name=name)


def _as_name_list(value: object, where: str, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise GraphError(f"{where}: '{field}' must be a step name or a list of names, got {value!r}")


class BaseStep:
    """Common part of every step: name, inlets (``after``), error path, responder.

    Steps are rarely built directly; use a flow's builder methods::

        graph = RootFlowStep()
        graph.to(name="double", handler="(event * 2)").respond()
    """

    kind: ClassVar[str] = "step"
    default_shape: ClassVar[str] = "ellipse"
    # fields of the dict form, in output order ("kind" is always first)
    _dict_fields: ClassVar[tuple[str, ...]] = (
        "kind",
        "comment",
        "after",
        "shape",
        "on_error",
        "responder",
        "timeout",
    )
    # other spellings of the kind accepted by from_dict (MLRun's root flow is "root")
    _kind_aliases: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _KINDS[cls.kind] = cls

    def __init__(
        self,
        name: str | None = None,
        after: str | list[str] | None = None,
        shape: str | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise GraphError(f"step name must be a str, got {name!r}")
        self.name = name
        self.after: list[str] = _as_name_list(after, self._where(), "after")
        self.shape = shape
        self.on_error: str | None = None
        self.responder: bool = False
        self.function: str | None = None
        self.full_event: bool | None = None
        self.input_path: str | None = None
        self.result_path: str | None = None
        self.comment: str | None = None
        # seconds the engines allow the step per event (None: no limit)
        self.timeout: float | None = None
        self._parent: BaseStep | None = None

    # -- identity -------------------------------------------------------------

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _where(self) -> str:
        return f"step {self.name!r}" if self.name else f"{self.kind} step"

    @property
    def parent(self) -> BaseStep | None:
        """The flow or router holding this step (None for a graph root)."""
        return self._parent

    def set_parent(self, parent: BaseStep | None) -> None:
        """Attach the step to its container (done by the containers themselves)."""
        self._parent = parent

    @property
    def fullname(self) -> str:
        """Dotted path of the step from the graph root, e.g. ``"flow1.enrich"``."""
        name = self.name or ""
        parent = self._parent
        if parent is not None and parent._parent is not None and parent.name:
            return f"{parent.fullname}.{name}"
        return name

    def get_shape(self) -> str:
        """The shape used when plotting (``graph_shape`` or the kind's default)."""
        return self.shape or self.default_shape

    def get_children(self) -> list[BaseStep]:
        """Steps nested in this one (flow steps, router routes)."""
        return []

    # -- builder ------------------------------------------------------------------

    def after_step(self, *after: str | BaseStep, append: bool = True) -> Self:
        """Add inlets: this step runs after each named step (MLRun ``after_step``)."""
        if not append:
            self.after = []
        for item in after:
            name = item.name if isinstance(item, BaseStep) else item
            if not isinstance(name, str) or not name:
                raise GraphError(f"{self._where()}: bad 'after' target {item!r}")
            if name not in self.after:
                self.after.append(name)
        return self

    def respond(self) -> Self:
        """Mark this step's output as the graph's response (one responder per flow)."""
        flow = self._flow()
        if flow is not None:
            others = [
                step.name for step in flow.steps.values() if step.responder and step is not self
            ]
            if others:
                raise GraphError(
                    f"{self._where()}: cannot respond, flow already has responder {others[0]!r}"
                )
        self.responder = True
        return self

    def to(
        self,
        class_name: object = None,
        name: str | None = None,
        handler: Handler | None = None,
        graph_shape: str | None = None,
        function: str | None = None,
        full_event: bool | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> BaseStep:
        """Add a step after this one in the same flow and return it (chainable).

        On a flow, the new step is a start step of that flow. ``class_name`` is a
        class, instance, dotted path or built-in name (``"*"`` or ``"*Class"``
        makes a router, ``">>"`` a queue with ``path=``); ``handler`` a function,
        name, dotted path or ``"(event + 1)"``::

            graph.to("Preprocess", name="prep").to(name="double", handler="(event * 2)")

        >>> from servegraph.graph import RootFlowStep
        >>> graph = RootFlowStep()
        >>> graph.to(name="inc", handler="(event + 1)").to(name="dbl", handler="(event * 2)").after
        ['inc']
        """
        flow, after = self._chain_target()
        return flow.add_step(
            class_name,
            name,
            handler,
            after=after,
            graph_shape=graph_shape,
            function=function,
            full_event=full_event,
            input_path=input_path,
            result_path=result_path,
            **class_args,
        )

    def _chain_target(self) -> tuple[FlowStep, str | None]:
        """The flow and the ``after`` of a step added by ``.to()``: next to me in my flow."""
        flow = self._flow()
        if flow is None or self._parent is not flow:
            raise GraphError(
                f"{self._where()}: .to() needs a step inside a flow; "
                "add it with graph.add_step() or graph.to() first"
            )
        return flow, self.name

    def error_handler(
        self,
        name: str | None = None,
        class_name: object = None,
        handler: Handler | None = None,
        function: str | None = None,
        full_event: bool | None = None,
        *,
        before: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> Self:
        """Route this step's failures to a handler step; returns this step (MLRun).

        The handler receives the event with ``error`` and ``origin_state`` set.
        On the graph itself it catches failures of any step without its own handler.
        ``before`` names a step the flow continues to after the handler ran.
        With only ``name``, an existing step of that name becomes the handler,
        otherwise ``name`` is taken as the handler function's name::

            graph.to(name="parse", handler="parse").error_handler("catcher", handler="log_it")
        """
        from servegraph.graph.error_handler import attach_error_handler

        flow = cast("FlowStep", self) if self._is_flow() else self._flow()
        if flow is None:
            raise GraphError(f"{self._where()}: error_handler() needs a step inside a flow")
        self.on_error = attach_error_handler(
            flow,
            self,
            name,
            class_name,
            handler,
            function=function,
            full_event=full_event,
            before=before,
            input_path=input_path,
            result_path=result_path,
            class_args=class_args,
        )
        return self

    # -- containers ------------------------------------------------------------------

    def _is_flow(self) -> bool:
        return False

    def _flow(self) -> FlowStep | None:
        """The nearest flow holding this step (routes look through their router)."""
        parent = self._parent
        while parent is not None and not parent._is_flow():
            parent = parent._parent
        return parent  # type: ignore[return-value]

    # -- dict form ------------------------------------------------------------------

    def to_dict(self, with_name: bool = True) -> dict[str, Any]:
        """The plain dict form, MLRun-compatible; empty and None fields are omitted.

        >>> from servegraph.graph import TaskStep
        >>> TaskStep("mod.Class", {"a": 1}, name="s").to_dict()
        {'kind': 'task', 'class_name': 'mod.Class', 'class_args': {'a': 1}, 'name': 's'}
        """
        out: dict[str, Any] = {}
        for field in self._dict_fields:
            value = self._dump_field(field)
            if value is None or (value is False and field == "responder"):
                continue
            if isinstance(value, dict | list | str) and not value:
                continue
            out[field] = value
        if with_name and self.name:
            out["name"] = self.name
        return out

    def validate(
        self,
        resolve: bool = False,
        namespace: Any = None,
        require_responder: bool = False,
    ) -> None:
        """Raise GraphError naming the step for a graph that cannot run.

        Checks names, ``after``/``on_error`` targets, cycles, start steps, the
        responder, tasks without class or handler, and (``resolve=True``) that
        every class and handler resolves in ``namespace`` (a dict such as the
        caller's ``globals()``, a module, or a list of those)::

            graph.validate(resolve=True, namespace=globals())
        """
        from servegraph.graph.validate import validate_step

        validate_step(
            self, resolve=resolve, namespace=namespace, require_responder=require_responder
        )

    def plot(
        self, filename: str | None = None, format: str | None = None, rankdir: str = "LR"
    ) -> str:
        """Render the graph and return the Mermaid (default), Graphviz DOT or HTML text.

        ``format`` is ``"mermaid"``, ``"dot"``, ``"html"`` or an image format
        (``"png"``, ``"svg"``, ``"pdf"``...; needs the Graphviz ``dot`` program);
        without it the filename's extension decides. ``rankdir`` is LR, RL, TB or BT::

            print(graph.plot())                  # Mermaid text
            graph.plot("graph.html")             # a page that renders it
        """
        from servegraph.graph.plot import plot

        return plot(self, filename=filename, format=format, rankdir=rankdir)

    def to_yaml(self) -> str:
        """The dict form as YAML text (``from_yaml`` reads it back)."""
        from servegraph.graph.serialize import to_yaml

        return to_yaml(self)

    def _dump_field(self, field: str) -> Any:
        if field == "kind":
            return self.kind
        if field == "after":
            return list(self.after)
        return getattr(self, field)

    @classmethod
    def from_dict(cls, struct: Mapping[str, Any], name: str | None = None) -> Self:
        """Build the step from its dict form; unknown fields raise GraphError.

        ``name`` (the key the step is stored under) wins over a ``"name"`` field.
        """
        step = cls()
        step.name = name or struct.get("name")
        where = step._where()
        kind = struct.get("kind")
        if kind is not None and kind != cls.kind and kind not in cls._kind_aliases:
            raise GraphError(f"{where}: kind {kind!r} does not match {cls.__name__}")
        for field, value in struct.items():
            if field in ("kind", "name"):
                continue
            if field not in cls._dict_fields:
                allowed = ", ".join(f for f in cls._dict_fields if f != "kind")
                raise GraphError(
                    f"{where}: unknown field {field!r} for kind {cls.kind!r} (known: {allowed})"
                )
            step._load_field(field, value)
        return step

    def _load_field(self, field: str, value: Any) -> None:
        where = self._where()
        if field == "after":
            self.after = _as_name_list(value, where, "after")
        elif field in ("responder",):
            if not isinstance(value, bool):
                raise GraphError(f"{where}: 'responder' must be a bool, got {value!r}")
            self.responder = value
        elif field == "full_event":
            if value is not None and not isinstance(value, bool):
                raise GraphError(f"{where}: 'full_event' must be a bool, got {value!r}")
            self.full_event = value
        elif field in ("comment", "shape", "on_error", "function", "input_path", "result_path"):
            if value is not None and not isinstance(value, str):
                raise GraphError(f"{where}: {field!r} must be a str, got {value!r}")
            setattr(self, field, value)
        else:
            setattr(self, field, value)
