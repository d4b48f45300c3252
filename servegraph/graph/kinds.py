"""The registry of built-in step classes: which names stand for which class, which are routers.

The graph never names the classes of the layers above it. They register
here instead: ``servegraph.serving.kinds`` registers ``ModelRouter``,
``VotingEnsemble``, ``V2ModelServer``... (with their MLRun spellings) and the
feature store its ``EnrichStep``. The modules that register are listed in
``servegraph.config.KIND_PROVIDERS`` and imported on the first lookup,
so building a graph imports no serving code until a built-in name is used.

A class (or instance) is a router when its class says so, ``graph_kind =
"router"`` (serving's ``BaseModelRouter`` does); a name, when it was registered
with ``router=True``::

    register("ModelRouter", "servegraph.serving.routers:ModelRouter", router=True,
             aliases=("mlrun.serving.ModelRouter",))
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

from servegraph.errors import GraphError


class _Registry(MutableMapping[str, str]):
    """``{built-in name: "module:Class"}``, filled by the providers on first use."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from servegraph.config import KIND_PROVIDERS

        for module in KIND_PROVIDERS:
            try:
                importlib.import_module(module)
            except ImportError as exc:  # an optional layer missing its dependencies
                raise GraphError(f"cannot load the step kinds of {module!r}: {exc}") from exc

    def __getitem__(self, name: str) -> str:
        self._load()
        return self._data[name]

    def __setitem__(self, name: str, path: str) -> None:
        self._data[name] = path

    def __delitem__(self, name: str) -> None:
        del self._data[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(self._data)

    def __len__(self) -> int:
        self._load()
        return len(self._data)


#: built-in name -> "module:Class" (imported when a graph uses the name)
CLASSES = _Registry()
#: other spellings (MLRun's paths, our module paths) -> built-in name
ALIASES: dict[str, str] = {}
#: built-in names whose steps are routers
ROUTERS: set[str] = set()

ROUTER_KIND = "router"


def register(name: str, path: str, *, router: bool = False, aliases: tuple[str, ...] = ()) -> None:
    """Make ``name`` (and each alias, and the dotted ``path``) stand for the class at
    ``path`` (``"module:Class"``); ``router=True`` makes its steps routers."""
    if ":" not in path:
        raise GraphError(f"register({name!r}): the path must be 'module:Class'. Got {path!r}.")
    CLASSES[name] = path
    for alias in (*aliases, path.replace(":", ".")):
        if alias != name:
            ALIASES[alias] = name
    if router:
        ROUTERS.add(name)


def builtin_name(class_name: str) -> str | None:
    """The built-in name a string stands for (an alias too), or None.

    >>> builtin_name("mlrun.serving.ModelRouter"), builtin_name("mypkg.Model")
    ('ModelRouter', None)
    """
    CLASSES._load()
    name = ALIASES.get(class_name, class_name)
    return name if name in CLASSES else None


def is_router(class_name: object) -> bool:
    """Whether steps of this class are routers: a registered router name, or a class
    (or instance) declaring ``graph_kind = "router"``."""
    if class_name is None:
        return False
    if isinstance(class_name, str):
        name = builtin_name(class_name)
        return name is not None and name in ROUTERS
    cls = class_name if isinstance(class_name, type) else type(class_name)
    return getattr(cls, "graph_kind", None) == ROUTER_KIND
