"""Turn the names a graph holds into classes, handlers and instances.

Pure helpers used by the engines when a graph is loaded: nothing here imports
a serving module until a built-in name is asked for.

- :func:`resolve_class`: a class, an instance (its class), a name in the
  caller's namespace, a built-in name (``"ModelRouter"``), a dotted path
  (``"pkg.mod.Class"`` or ``"pkg.mod:Class"``); MLRun paths such as
  ``"mlrun.serving.ModelRouter"`` map to the built-ins.
- :func:`resolve_handler`: a function, a namespace name, a dotted path, or a
  parenthesised expression over ``event`` such as ``"(event + 1)"``.
- :func:`construct`: instantiate with the parameters the constructor accepts.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from servegraph.errors import GraphError
from servegraph.graph import kinds

# the built-in names are registered by the layers that define them (graph/kinds.py)
BUILTIN_CLASSES = kinds.CLASSES
MLRUN_ALIASES = kinds.ALIASES

Namespace = Mapping[str, Any] | ModuleType | Iterable[Mapping[str, Any] | ModuleType]


def _namespaces(namespace: Namespace | None) -> list[Mapping[str, Any]]:
    if namespace is None:
        return []
    if isinstance(namespace, ModuleType):
        return [vars(namespace)]
    if isinstance(namespace, Mapping):
        return [namespace]
    found: list[Mapping[str, Any]] = []
    items: Iterable[Mapping[str, Any] | ModuleType] = namespace
    for item in items:
        found.extend(_namespaces(item))
    return found


def _lookup(name: str, namespace: Namespace | None) -> tuple[bool, Any]:
    for scope in _namespaces(namespace):
        if name in scope:
            return True, scope[name]
    return False, None


def object_path(obj: object) -> str:
    """Dotted import path of a class, function, or an instance's class.

    >>> object_path(dict), object_path(GraphError("x"))
    ('builtins.dict', 'servegraph.errors.GraphError')
    """
    target = obj if isinstance(obj, type) or inspect.isroutine(obj) else type(obj)
    module = getattr(target, "__module__", None) or "builtins"
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    return f"{module}.{qualname}"


def import_object(path: str, what: str = "object") -> Any:
    """Import ``"pkg.mod.Name"`` or ``"pkg.mod:Name"`` (nested attributes allowed)."""
    candidates: list[tuple[str, list[str]]]
    if ":" in path:
        module_path, _, attr_path = path.partition(":")
        candidates = [(module_path, attr_path.split("."))]
    else:
        parts = path.split(".")
        candidates = [(".".join(parts[:i]), parts[i:]) for i in range(len(parts) - 1, 0, -1)]
    if not path or not candidates or any(not part for part in path.replace(":", ".").split(".")):
        raise GraphError(f"cannot resolve {what} {path!r}: not a name or dotted path")
    for module_path, attrs in candidates:
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            # the module itself is missing: try a shorter prefix; a missing
            # dependency of an existing module is the user's real error
            if exc.name is not None and module_path.startswith(exc.name):
                continue
            raise GraphError(f"cannot resolve {what} {path!r}: {exc}") from exc
        except Exception as exc:
            raise GraphError(
                f"cannot resolve {what} {path!r}: importing {module_path!r} failed: {exc!r}"
            ) from exc
        value: Any = module
        try:
            for attr in attrs:
                value = getattr(value, attr)
        except AttributeError:
            raise GraphError(
                f"cannot resolve {what} {path!r}: module {module_path!r} has no {'.'.join(attrs)!r}"
            ) from None
        return value
    raise GraphError(f"cannot resolve {what} {path!r}: no module found for it")


def builtin_name(class_name: str) -> str | None:
    """The built-in name a string stands for (``"mlrun.serving.ModelRouter"`` too), if any."""
    return kinds.builtin_name(class_name)


def is_router_class(class_name: object) -> bool:
    """Whether steps of this class are routers (see :func:`servegraph.graph.kinds.is_router`).

    >>> is_router_class("ModelRouter"), is_router_class("mlrun.serving.VotingEnsemble")
    (True, True)
    >>> is_router_class("mypkg.Model")
    False
    """
    return kinds.is_router(class_name)


def resolve_class(class_name: object, namespace: Namespace | None = None) -> type[Any]:
    """Return the class a step's ``class_name`` stands for.

    ``namespace`` is a dict (e.g. the caller's ``globals()``), a module, or a
    list of those; it is searched before the built-in names and dotted paths.

    >>> resolve_class("collections.OrderedDict").__name__
    'OrderedDict'
    >>> resolve_class("Echo", {"Echo": int})
    <class 'int'>
    """
    if isinstance(class_name, type):
        return class_name
    if class_name is None or (isinstance(class_name, str) and not class_name.strip()):
        raise GraphError(f"cannot resolve class {class_name!r}: no class name given")
    if not isinstance(class_name, str):
        if inspect.isroutine(class_name) or inspect.ismodule(class_name):
            raise GraphError(f"cannot resolve class {class_name!r}: not a class or an instance")
        return type(class_name)
    found, value = _lookup(class_name, namespace)
    if not found:
        builtin = builtin_name(class_name)
        if builtin is not None:
            value = import_object(BUILTIN_CLASSES[builtin], "class")
        elif "." in class_name or ":" in class_name:
            value = import_object(class_name, "class")
        else:
            raise GraphError(
                f"cannot resolve class {class_name!r}: not in the namespace, not a built-in "
                f"({', '.join(BUILTIN_CLASSES)}) and not a dotted path"
            )
    if not isinstance(value, type):
        raise GraphError(f"cannot resolve class {class_name!r}: it names {value!r}, not a class")
    return value


def _compile_expression(expression: str, namespace: Namespace | None) -> Callable[..., Any]:
    scope: dict[str, Any] = {}
    for mapping in reversed(_namespaces(namespace)):
        scope.update(mapping)
    scope.setdefault("__builtins__", builtins)
    try:
        code = compile(f"lambda event: {expression}", f"<handler {expression}>", "eval")
    except SyntaxError as exc:
        raise GraphError(
            f"cannot resolve handler {expression!r}: bad expression: {exc.msg}"
        ) from None
    func: Callable[..., Any] = eval(code, scope)  # the graph author's own expression
    return func


def resolve_handler(handler: object, namespace: Namespace | None = None) -> Callable[..., Any]:
    """Return the function a step's ``handler`` stands for.

    >>> resolve_handler("(event + 1)")(41)
    42
    >>> resolve_handler("json.dumps")([1])
    '[1]'
    """
    if handler is None or (isinstance(handler, str) and not handler.strip()):
        raise GraphError(f"cannot resolve handler {handler!r}: no handler given")
    if not isinstance(handler, str):
        if callable(handler):
            return handler
        raise GraphError(f"cannot resolve handler {handler!r}: not a function or a name")
    text = handler.strip()
    if text.startswith("(") and text.endswith(")"):
        return _compile_expression(text, namespace)
    found, value = _lookup(text, namespace)
    if not found:
        if "." in text or ":" in text:
            value = import_object(text, "handler")
        elif hasattr(builtins, text):
            value = getattr(builtins, text)
        else:
            raise GraphError(
                f"cannot resolve handler {handler!r}: not in the namespace and not a dotted path"
            )
    if not callable(value):
        raise GraphError(f"cannot resolve handler {handler!r}: it names {value!r}, not a function")
    return value  # type: ignore[no-any-return]


def accepted_parameters(func: Callable[..., Any]) -> tuple[set[str], bool]:
    """Keyword parameter names ``func`` accepts, and whether it takes ``**kwargs``."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return set(), True  # builtins without a signature: pass everything
    names: set[str] = set()
    var_keyword = False
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = True
        elif param.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            names.add(param.name)
    return names, var_keyword


def construct(
    cls: type[Any],
    class_args: Mapping[str, Any] | None = None,
    context: Any = None,
    name: str | None = None,
    *,
    namespace: Namespace | None = None,
) -> object:
    """Instantiate ``cls`` for a step, MLRun-style.

    ``context`` and ``name`` are passed only when the constructor accepts them
    (or takes ``**kwargs``). Class args are all passed; one the constructor
    does not accept raises GraphError naming it. A class arg whose key starts
    with ``_`` is a handler reference, resolved and passed without the ``_``.

    >>> class Scale:
    ...     def __init__(self, factor, context=None):
    ...         self.factor, self.context = factor, context
    >>> construct(Scale, {"factor": 2}, context="ctx", name="s").context
    'ctx'
    """
    label = f"step {name!r}" if name else f"class {cls.__name__}"
    accepted, var_keyword = accepted_parameters(cls)
    kwargs: dict[str, Any] = {}
    for key, value in (class_args or {}).items():
        if key.startswith("_") and len(key) > 1:
            key, value = key[1:], resolve_handler(value, namespace)
        if not var_keyword and key not in accepted:
            known = ", ".join(sorted(accepted - {"self"})) or "none"
            raise GraphError(
                f"{label}: class {cls.__name__} does not accept argument {key!r} (accepts: {known})"
            )
        kwargs[key] = value
    if var_keyword or "context" in accepted:
        kwargs.setdefault("context", context)
    if var_keyword or "name" in accepted:
        kwargs.setdefault("name", name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise GraphError(f"{label}: cannot create {cls.__name__}: {exc}") from exc
