"""Build a step from the builder arguments of ``to()`` / ``add_step()`` (MLRun rules).

- a step object as ``class_name`` is used as is;
- ``">>"`` or ``"$queue"`` makes a :class:`QueueStep` (``name`` and ``path=`` required);
- ``"*"`` or ``"*Class"``, or a router class (``ModelRouter``, ``VotingEnsemble``...),
  makes a :class:`RouterStep`;
- any other ``class_name`` or a ``handler`` makes a :class:`TaskStep`.

Without ``name``, the name comes from the class (its name as written, or the
class's ``__name__``) or the handler; a derived name already taken gets a
numeric suffix (``Echo``, ``Echo_1``...), while a taken explicit name is an error.
"""

from __future__ import annotations

import inspect
from collections.abc import Container
from typing import Any

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, Handler
from servegraph.graph.queue import QUEUE_CLASS_NAMES, QueueStep
from servegraph.graph.resolve import is_router_class
from servegraph.graph.router import RouterStep
from servegraph.graph.task import TaskStep


def derived_name(class_name: object, handler: Handler | None) -> str | None:
    """The default step name for a class or handler (None when there is neither).

    >>> derived_name("mypkg.Echo", None), derived_name(None, "(event + 1)")
    ('mypkg.Echo', '(event + 1)')
    """
    if isinstance(class_name, BaseStep):
        return class_name.name or derived_name(getattr(class_name, "class_name", None), None)
    if isinstance(class_name, str):
        return class_name.lstrip("*") or ("router" if class_name.startswith("*") else None)
    if isinstance(class_name, type):
        return class_name.__name__
    if class_name is not None:
        return type(class_name).__name__
    if isinstance(handler, str):
        return handler
    if handler is not None:
        return str(getattr(handler, "__name__", None) or type(handler).__name__)
    return None


def unique_name(base: str, taken: Container[str]) -> str:
    """``base``, or ``base_1``, ``base_2``... whichever is not taken yet."""
    if base not in taken:
        return base
    index = 1
    while f"{base}_{index}" in taken:
        index += 1
    return f"{base}_{index}"


def step_from_params(
    class_name: object = None,
    name: str | None = None,
    handler: Handler | None = None,
    *,
    graph_shape: str | None = None,
    function: str | None = None,
    full_event: bool | None = None,
    input_path: str | None = None,
    result_path: str | None = None,
    class_args: dict[str, Any] | None = None,
    taken: Container[str] = (),
) -> tuple[str, BaseStep]:
    """Return ``(name, step)`` for builder arguments; see the module docstring."""
    class_args = dict(class_args or {})
    if name is not None and (not isinstance(name, str) or not name):
        raise GraphError(f"step name must be a non-empty str, got {name!r}")
    where = f"step {name!r}" if name else "new step"
    if name is not None and name in taken:
        raise GraphError(f"{where}: a step named {name!r} already exists")
    step: BaseStep
    if isinstance(class_name, BaseStep):
        if class_name.parent is not None:
            raise GraphError(
                f"{where}: the step object already belongs to {class_name.parent._where()}"
            )
        if handler is not None or class_args:
            raise GraphError(f"{where}: a step object takes no handler or class args")
        step = class_name
        for field, value in (
            ("function", function),
            ("full_event", full_event),
            ("input_path", input_path),
            ("result_path", result_path),
        ):
            if value is not None:
                setattr(step, field, value)
    elif isinstance(class_name, str) and class_name in QUEUE_CLASS_NAMES:
        if not name:
            raise GraphError(f"queue step ({class_name!r}): a name is required")
        if "path" not in class_args:
            raise GraphError(f"queue step {name!r}: path=<stream url or None> is required")
        step = QueueStep(name, **class_args)
        step.function = function
    elif isinstance(class_name, str) and class_name.startswith("*"):
        step = RouterStep(
            class_name[1:] or None,
            class_args,
            handler=handler,
            function=function,
            full_event=full_event,
            input_path=input_path,
            result_path=result_path,
        )
    elif class_name is not None or handler is not None:
        if inspect.isroutine(class_name):
            raise GraphError(
                f"{where}: class_name {class_name!r} is a function; pass it as handler="
            )
        kind = RouterStep if is_router_class(class_name) else TaskStep
        step = kind(
            class_name,
            class_args,
            handler=handler,
            function=function,
            full_event=full_event,
            input_path=input_path,
            result_path=result_path,
        )
    else:
        raise GraphError(f"{where}: class_name or handler must be given")
    if graph_shape is not None:
        step.shape = graph_shape
    if name is None:
        base = derived_name(class_name, handler)
        if base is None:
            raise GraphError("new step: name or class_name must be given")
        name = unique_name(base, taken)
    return name, step
