"""Lazy exports for package ``__init__`` modules: names import their module on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package exporting ``exports``.

    ``exports`` maps a public name to the module defining it; ``namespace`` is the
    package's ``globals()``, where a resolved name is cached. A name that is not
    exported but is a submodule of the package is imported and returned, as a
    regular package attribute would be (``servegraph.serving.routers``).

    >>> ns: dict[str, Any] = {}
    >>> getattr_, dir_ = lazy_exports("pkg", {"dumps": "json"}, ns)
    >>> getattr_("dumps")({"a": 1}), "dumps" in ns
    ('{"a": 1}', True)
    """

    def __getattr__(name: str) -> Any:
        module_path = exports.get(name)
        if module_path is None:
            if not name.startswith("_"):
                try:
                    return importlib.import_module(f"{package}.{name}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{package}.{name}":
                        raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_path), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
