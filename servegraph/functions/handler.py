"""Load a run's code and call its handler with the context, parameters and inputs."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from servegraph.errors import RunError

CONTEXT_NAMES = ("context", "ctx")


def load_module(command: str) -> ModuleType:
    """Import a Python file (by path) or a module (by dotted name)."""
    path = Path(command)
    if command.endswith(".py") or path.exists():
        if not path.is_file():
            raise RunError(f"The code file {command!r} does not exist.")
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        name = f"sg_code_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise RunError(f"The code file {command!r} cannot be imported.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module
    try:
        return importlib.import_module(command)
    except ImportError as exc:
        raise RunError(f"The code {command!r} is neither a file nor a module: {exc}") from exc


def load_handler(command: str, handler: str) -> Callable[..., Any]:
    """Return the function ``handler`` (``name`` in ``command``, or ``module.name``)."""
    if not command:
        module_path, _, name = handler.rpartition(".")
        if not module_path:
            raise RunError(f"The handler {handler!r} needs code (a file or 'module.function').")
        command, handler = module_path, name
    module = load_module(command)
    fn = getattr(module, handler, None)
    if not callable(fn):
        raise RunError(f"The handler {handler!r} is not a function in {command!r}.")
    return fn  # type: ignore[no-any-return]


def call_handler(fn: Callable[..., Any], context: Any) -> Any:
    """Call ``fn`` passing the context, matching parameters and inputs by argument name."""
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    inputs = context.inputs
    params = context.parameters
    for i, (name, param) in enumerate(inspect.signature(fn).parameters.items()):
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            for key in params:
                kwargs.setdefault(key, params[key])
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        elif i == 0 and name in CONTEXT_NAMES:
            kwargs[name] = context
        elif name in inputs:
            kwargs[name] = context.get_input(name)
        elif name in params:
            kwargs[name] = context.get_param(name)
        elif param.default is not inspect.Parameter.empty:
            kwargs[name] = context.get_param(name, param.default)
        else:
            missing.append(name)
    if missing:
        raise RunError(
            f"The handler {getattr(fn, '__name__', fn)!r} needs {_names(missing)} "
            "(no default): give it as a parameter (-p KEY=VALUE, params=) or an input."
        )
    return fn(**kwargs)


def _names(missing: list[str]) -> str:
    quoted = ", ".join(repr(m) for m in missing)
    return f"the argument {quoted}" if len(missing) == 1 else f"the arguments {quoted}"


def log_return(context: Any, value: Any) -> None:
    """Record a handler's return value: a dict as results, anything else as ``return``."""
    if value is None:
        return
    if isinstance(value, dict):
        context.log_results(value)
    elif isinstance(value, str | int | float | bool | list):
        context.log_result("return", value)
