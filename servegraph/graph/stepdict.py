"""A dict of named child steps that keeps names and parents in order.

Flows keep their steps and routers their routes in a :class:`StepDict`:
assigning a step (or its dict form) under a key names the step after the key
and makes the container its parent, so ``router.routes["m2"] = TaskStep(...)``
and ``flow.steps = {"a": {...}}`` both build a consistent graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, step_from_dict


class StepDict(dict[str, BaseStep]):
    """``{name: step}`` owned by a flow or router; values may be given as dicts.

    >>> from servegraph.graph import RouterStep
    >>> router = RouterStep()
    >>> router.routes["m1"] = {"class_name": "MyModel"}
    >>> router.routes["m1"].name, router.routes["m1"].parent is router
    ('m1', True)
    """

    def __init__(
        self,
        owner: BaseStep,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        default_kind: str = "task",
        label: str = "step",
        allowed: tuple[type[BaseStep], ...] = (BaseStep,),
    ) -> None:
        super().__init__()
        self.owner = owner
        self.default_kind = default_kind
        self.label = label
        self.allowed = allowed
        if items is not None:
            self.update(items)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle through the constructor, so items are adopted by the owner
        return (
            type(self),
            (self.owner, dict(self), self.default_kind, self.label, self.allowed),
        )

    def _adopt(self, key: str, value: Any) -> BaseStep:
        if not isinstance(key, str) or not key:
            raise GraphError(f"{self.owner._where()}: {self.label} name must be a str, got {key!r}")
        step = step_from_dict(value, name=key, default_kind=self.default_kind)
        if not isinstance(step, self.allowed):
            raise GraphError(
                f"{self.owner._where()}: {self.label} {key!r} cannot be a {step.kind!r} step"
            )
        if step.parent is not None and step.parent is not self.owner:
            raise GraphError(
                f"{self.owner._where()}: {self.label} {key!r} already belongs to "
                f"{step.parent._where()}"
            )
        step.name = key
        step.set_parent(self.owner)
        return step

    def __setitem__(self, key: str, value: BaseStep | Mapping[str, Any]) -> None:
        step = self._adopt(key, value)
        old = self.get(key)
        if old is not None and old is not step:
            old.set_parent(None)
        super().__setitem__(key, step)

    def __delitem__(self, key: str) -> None:
        self[key].set_parent(None)
        super().__delitem__(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> BaseStep:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        if key in self:
            step = self[key]
            del self[key]
            return step
        if default:
            return default[0]
        raise KeyError(key)

    def clear(self) -> None:
        for step in self.values():
            step.set_parent(None)
        super().clear()

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The children's dict forms by name (names are the keys, not repeated)."""
        return {key: step.to_dict(with_name=False) for key, step in self.items()}
