"""Create function objects by kind: ``new_function(name, kind=...)``.

Each kind maps to the class that implements it, named by import path so this
module imports none of them until asked.
"""

from __future__ import annotations

import importlib
from typing import Any

from servegraph.errors import RunError

# kind -> "module:Class"
KINDS: dict[str, str] = {
    "serving": "servegraph.functions.serving:ServingFunction",
}


def function_class(kind: str) -> type[Any]:
    """Return the class that implements functions of ``kind``."""
    try:
        target = KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise RunError(
            f"The 'kind' parameter of new_function must be one of {known}. Got {kind!r} instead."
        ) from None
    module_path, _, class_name = target.partition(":")
    cls: type[Any] = getattr(importlib.import_module(module_path), class_name)
    return cls


def new_function(name: str = "", kind: str = "job", project: str = "", **kwargs: Any) -> Any:
    """Create a function object of the given kind.

    >>> fn = new_function("churn", kind="serving")   # doctest: +SKIP
    """
    return function_class(kind)(name=name, project=project, **kwargs)
