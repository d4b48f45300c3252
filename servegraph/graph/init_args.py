"""The constructor arguments of a step object, read back as scikit-learn's ``get_params`` does.

A step given as an instance (``SplitRouter(weights={"a": 9, "b": 1})``,
``Model(multiplier=100)``) is written in the graph's dict form as its class
path plus these arguments, so the spec rebuilds the same object:

- every keyword parameter of the ``__init__`` methods along the class's MRO
  whose value, read from the attribute of the same name (or ``_name``),
  differs from the parameter's default;
- what ``**kwargs`` collected, kept by the object as ``_params``, ``kwargs``
  or ``_kwargs``;
- a ``get_params()`` method, when the class has one, replaces both.

Only plain data travels (None, bool, numbers, str, lists and dicts of those);
:func:`unplain_args` names the arguments left out, for export to refuse them.

>>> class Scale:
...     def __init__(self, factor=1, offset=0, context=None):
...         self.factor, self.offset, self.context = factor, offset, context
>>> init_args(Scale(factor=3))
{'factor': 3}
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

# arguments the graph passes itself, and attributes that are not arguments
SKIPPED = frozenset({"self", "context", "name", "routes", "kwargs"})
EXTRA_ATTRS = ("_params", "kwargs", "_kwargs")


def is_plain(value: object) -> bool:
    """Whether ``value`` can be written to a spec (JSON/YAML) and read back equal.

    >>> is_plain({"a": [1, 2.5, None, "x"]}), is_plain(object())
    (True, False)
    """
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(is_plain(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False


def _parameters(cls: type[Any]) -> tuple[dict[str, inspect.Parameter], bool]:
    params: dict[str, inspect.Parameter] = {}
    var_keyword = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            signature = inspect.signature(init)
        except (TypeError, ValueError):
            continue
        for name, param in signature.parameters.items():
            if param.kind is param.VAR_KEYWORD:
                var_keyword = True
            elif param.kind is not param.VAR_POSITIONAL and name not in SKIPPED:
                params.setdefault(name, param)
    return params, var_keyword


def _same(value: object, default: object) -> bool:
    try:
        return bool(value is default or (type(value) is type(default) and value == default))
    except Exception:  # arrays and other values without a plain truth value
        return False


def all_init_args(obj: object) -> dict[str, Any]:
    """Every constructor argument of ``obj`` found (see the module docstring), plain or not."""
    get_params = getattr(obj, "get_params", None)
    if callable(get_params):
        found = get_params()
        if isinstance(found, Mapping):
            return dict(found)
    params, var_keyword = _parameters(type(obj))
    args: dict[str, Any] = {}
    for name, param in params.items():
        for attr in (name, f"_{name}"):
            if attr in getattr(obj, "__dict__", {}) or hasattr(type(obj), attr):
                value = getattr(obj, attr)
                if not callable(value) or isinstance(value, type):
                    if param.default is param.empty or not _same(value, param.default):
                        args[name] = value
                    break
    if var_keyword:
        for attr in EXTRA_ATTRS:
            extra = getattr(obj, attr, None)
            if isinstance(extra, Mapping):
                args.update((k, v) for k, v in extra.items() if k not in SKIPPED)
                break
    batcher = getattr(obj, "_batcher", None)  # model steps pop their batching arguments
    if batcher is not None and hasattr(batcher, "max_batch_size"):
        args["max_batch_size"] = batcher.max_batch_size
        args["max_batch_wait_ms"] = batcher.max_batch_wait_ms
    if args.get("model_path") is not None:
        args.pop("model", None)  # the model loaded from model_path, not an argument
    return args


def own_name(obj: object, step_name: str | None) -> dict[str, Any]:
    """``{"name": ...}`` when the object's own name (``name[:version]``) is not the step's
    and its constructor takes a name, so the rebuilt object keeps it; else ``{}``."""
    if "name" not in getattr(obj, "__dict__", {}):
        return {}
    name = obj.name  # type: ignore[attr-defined]
    version = getattr(obj, "version", None)
    # a model step splits "name:version" into its name and version
    if (
        hasattr(obj, "model_path")
        and isinstance(name, str)
        and isinstance(version, str)
        and version
    ):
        name = f"{name}:{version}"
    if name == step_name or not is_plain(name):
        return {}
    for klass in type(obj).__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not object:
            try:
                params = inspect.signature(init).parameters
            except (TypeError, ValueError):
                return {}
            if "name" in params:
                return {"name": name}
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                return {}
    return {}


def init_args(obj: object) -> dict[str, Any]:
    """The plain constructor arguments of a step object (see the module docstring)."""
    return {k: _lists(v) for k, v in all_init_args(obj).items() if is_plain(v)}


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _lists(v) for k, v in value.items()}
    return value


def unplain_args(obj: object) -> list[str]:
    """Names of the constructor arguments of ``obj`` that cannot travel in a spec."""
    return sorted(k for k, v in all_init_args(obj).items() if not is_plain(v))
