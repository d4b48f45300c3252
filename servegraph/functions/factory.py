"""Create function objects by kind: ``new_function``, ``code_to_function``, ``import_function``.

Each kind maps to the class that implements it, named by import path so this
module imports none of them until asked.

>>> fn = new_function("trainer", kind="job", command="train.py")     # doctest: +SKIP
>>> fn = code_to_function("trainer", "train.py", kind="local", handler="train")  # doctest: +SKIP
>>> fn = import_function("hub://describe")                           # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from servegraph.config import get_config
from servegraph.errors import RunError

# kind -> "module:Class"
KINDS: dict[str, str] = {
    "serving": "servegraph.functions.serving:ServingFunction",
    "job": "servegraph.functions.job:JobFunction",
    "local": "servegraph.functions.local:LocalFunction",
    "nuclio": "servegraph.functions.remote:RemoteFunction",
    "dask": "servegraph.functions.daskfn:DaskFunction",
}

HUB_PREFIX = "hub://"


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


def new_function(
    name: str = "",
    kind: str = "job",
    command: str | None = None,
    image: str | None = None,
    requirements: list[str] | None = None,
    project: str = "",
    **kwargs: Any,
) -> Any:
    """Create a function object of the given kind.

    >>> fn = new_function("churn", kind="serving")   # doctest: +SKIP
    """
    cls = function_class(kind)
    for key, value in (("command", command), ("image", image), ("requirements", requirements)):
        if value is not None:
            kwargs[key] = value
    return cls(name=name, project=project, **kwargs)


def code_to_function(
    name: str = "",
    filename: str = "",
    kind: str = "job",
    handler: str | None = None,
    project: str = "",
    image: str | None = None,
    requirements: list[str] | None = None,
    embed_code: bool = True,
) -> Any:
    """A function of ``kind`` from a code file (the code is embedded in the spec)."""
    path = Path(filename)
    if not path.is_file():
        raise RunError(f"The 'filename' of code_to_function must be a file. Got {filename!r}.")
    kwargs: dict[str, Any] = {"command": str(path.resolve())}
    if handler:
        kwargs["handler"] = handler
    fn = new_function(name or path.stem, kind, image=image, requirements=requirements,
                      project=project, **kwargs)  # fmt: skip
    if embed_code and hasattr(fn, "with_code"):
        fn.with_code(str(path))
    return fn


def hub_path(name: str) -> Path:
    """The directory of hub function ``name`` in the configured hub."""
    folder = Path(get_config().hub_path) / name.replace("-", "_")
    if not (folder / "function.yaml").is_file():
        raise RunError(f"The hub has no function {name!r} (looked in {folder}).")
    return folder


def import_function(url: str, project: str = "") -> Any:
    """A function from a YAML spec file, a ``.py`` file (kind job) or ``hub://name``."""
    if url.startswith(HUB_PREFIX):
        folder = hub_path(url[len(HUB_PREFIX) :])
        data = yaml.safe_load((folder / "function.yaml").read_text())
        command = data.get("spec", {}).get("command", "")
        if command and not Path(command).is_absolute():
            data["spec"]["command"] = str(folder / command)
    else:
        path = Path(url)
        if not path.is_file():
            raise RunError(f"The 'url' of import_function must be a file or hub://. Got {url!r}.")
        if path.suffix == ".py":
            return code_to_function(path.stem, str(path), kind="job", project=project)
        data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or "kind" not in data:
        raise RunError(f"The function spec {url!r} must be a mapping with a 'kind'.")
    fn = function_class(data["kind"]).from_dict(data)
    if project:
        fn.metadata["project"] = project
    return fn
