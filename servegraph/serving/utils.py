"""Mix-ins that serialise a step object to the graph's step dict (MLRun's names).

A class step given as an instance (``graph.to(MyStep(factor=3))``) is written
with the arguments its ``__init__`` takes, read back from attributes of the same
name, so the exported graph rebuilds the same object::

    class Scale(StepToDict):
        def __init__(self, factor=1, name=None):
            self.factor, self.name = factor, name

    Scale(factor=3, name="s").to_dict()
    # {'class_name': 'mymodule.Scale', 'name': 's', 'class_args': {'factor': 3}}
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

# arguments that belong to the step, not to the class (the graph sets them)
META_KEYS = frozenset({"context", "name", "input_path", "result_path", "full_event", "kwargs"})


class StepToDict:
    """``to_dict()`` from the ``__init__`` signature (see the module docstring).

    A class may list the fields to write in ``_dict_fields``; extra keyword
    arguments kept in ``self.kwargs`` or ``self._kwargs`` are written too.
    """

    _STEP_KIND: str | None = None

    def to_dict(
        self,
        fields: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        strip: bool = False,
    ) -> dict[str, Any]:
        """The step dict: ``class_name``, ``name``, ``class_args`` (and kind, paths)."""
        names = list(fields or getattr(self, "_dict_fields", None) or _init_parameters(self))
        skip = set(exclude or ()) | META_KEYS
        args = {
            key: getattr(self, key)
            for key in names
            if key not in skip and getattr(self, key, None) is not None
        }
        extra = getattr(self, "kwargs", None) or getattr(self, "_kwargs", None)
        if "kwargs" in names and isinstance(extra, dict):
            args.update((k, v) for k, v in extra.items() if k not in skip)
        struct: dict[str, Any] = {
            "class_name": class_path(type(self)),
            "name": getattr(self, "name", None) or type(self).__name__,
            "class_args": args,
        }
        if self._STEP_KIND:
            struct["kind"] = self._STEP_KIND
        for key in ("input_path", "result_path"):
            value = getattr(self, f"_{key}", None)
            if value is not None:
                struct[key] = value
        if getattr(self, "_full_event", None):
            struct["full_event"] = True
        return struct


class RouterToDict(StepToDict):
    """``to_dict()`` of a router class: its arguments without the routes (kind ``router``)."""

    _STEP_KIND = "router"

    def to_dict(
        self,
        fields: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        strip: bool = False,
    ) -> dict[str, Any]:
        return super().to_dict(fields, [*(exclude or ()), "routes"], strip)


def model_step_dict(model: Any) -> dict[str, Any]:
    """The step dict of a V2ModelServer: ``name[:version]``, model_path and its extra arguments."""
    args: dict[str, Any] = {"model_path": model.model_path, **model._params}
    args["protocol"] = model.protocol
    for key in ("input_path", "result_path"):
        args[key] = getattr(model, key)
    return {
        "class_name": class_path(type(model)),
        "name": f"{model.name}:{model.version}" if model.version else model.name,
        "class_args": {k: v for k, v in args.items() if v is not None},
    }


def class_path(cls: type[Any]) -> str:
    """``module.QualName`` of a class (just the name for ``__main__`` and builtins)."""
    if cls.__module__ in ("__main__", "builtins"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _init_parameters(obj: object) -> list[str]:
    try:
        params = inspect.signature(type(obj).__init__).parameters
    except (TypeError, ValueError):
        return []
    return [
        name for name, p in params.items() if name != "self" and p.kind not in (p.VAR_POSITIONAL,)
    ]
