"""The code a serving function carries: attached with ``with_code`` or found at export.

``fn.with_code(from_file="app.py")`` (or ``code_to_function``) attaches a file,
or a folder as an archive, verbatim; ``# servegraph: start-code`` /
``# servegraph: end-code`` lines (MLRun's ``# mlrun:`` spelling too) keep only
the lines between them. Without attached code, ``fn.export()`` takes the module
that calls it when the graph names its classes or handlers, keeping its
definitions only (imports, functions, classes, assignments without calls):
the statements that build, test and export the function are left out.
``__main__.X`` names become ``<module>.X``.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import yaml

from servegraph.errors import DeployError
from servegraph.graph.base import BaseStep
from servegraph.graph.init_args import unplain_args
from servegraph.graph.resolve import BUILTIN_CLASSES, builtin_name
from servegraph.graph.task import TaskStep
from servegraph.serving.source import ENTRY_KEY, SOURCE_KEY, encode_folder, encode_text

if TYPE_CHECKING:
    from servegraph.functions.serving import ServingSpec

_MARKER = re.compile(r"^\s*#\s*(?:servegraph|mlrun)\s*:\s*(start-code|end-code)\s*$")
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def module_name(path: Path) -> str:
    """The module a code file is imported as (its stem, made an identifier)."""
    name = re.sub(r"\W", "_", path.stem)
    return name if name.isidentifier() and not name[0].isdigit() else f"code_{name}"


def between_markers(text: str) -> str:
    """The lines between ``start-code`` and ``end-code`` markers (all lines without them).

    >>> between_markers("a = 1\\n# servegraph: start-code\\nb = 2\\n# mlrun: end-code\\nc = 3\\n")
    'b = 2\\n'
    """
    lines = text.splitlines(keepends=True)
    if not any(_MARKER.match(line) for line in lines):
        return text
    kept: list[str] = []
    inside = not any((m := _MARKER.match(line)) and m[1] == "start-code" for line in lines)
    for line in lines:
        match = _MARKER.match(line)
        if match:
            inside = match[1] == "start-code"
        elif inside:
            kept.append(line)
    return "".join(kept)


def file_code(path: str | Path, module: str | None = None) -> tuple[dict[str, str], str]:
    """``(build fields, module name)`` of a code file or folder given by the user."""
    target = Path(path)
    if target.is_file():
        return encode_text(between_markers(target.read_text())), module or module_name(target)
    if target.is_dir():
        if module is None:
            entries = sorted(p for p in target.glob("*.py") if p.name != "__init__.py")
            if len(entries) != 1:
                raise DeployError(
                    f"The code folder {str(target)!r} has {len(entries)} top-level modules "
                    f"{[p.name for p in entries]}; name the one the graph uses with module=."
                )
            module = module_name(entries[0])
        return encode_folder(target), module
    raise DeployError(
        f"The 'from_file' of with_code must be a file or a folder. Got {str(path)!r}."
    )


def definitions(text: str, filename: str = "<code>") -> str:
    """The definitions of a module's source (see the module docstring).

    >>> print(definitions("import os\\nX = 2\\ndef f():\\n    return X\\nf()\\nY = f()\\n"))
    import os
    X = 2
    <BLANKLINE>
    <BLANKLINE>
    def f():
        return X
    <BLANKLINE>
    """
    tree = ast.parse(text, filename)
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    for node in tree.body:
        if _is_definition(node):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and kept:
                kept.append("\n\n")
            kept.extend(lines[first - 1 : node.end_lineno])
    return "".join(kept)


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Expr):  # a docstring
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, ast.Assign | ast.AnnAssign):
        value = node.value
        return value is not None and not any(isinstance(n, ast.Call) for n in ast.walk(value))
    if isinstance(node, ast.Try):  # try: import x / except ImportError: ...
        return all(isinstance(n, ast.Import | ast.ImportFrom) for n in node.body)
    return False


def graph_names(struct: Any) -> Iterator[str]:
    """Every ``class_name`` and ``handler`` string of a graph dict (nested steps too)."""
    if isinstance(struct, Mapping):
        for key, value in struct.items():
            if key in ("class_name", "handler") and isinstance(value, str):
                yield value
            else:
                yield from graph_names(value)
    elif isinstance(struct, list):
        for item in struct:
            yield from graph_names(item)


def rename_main(struct: Any, module: str) -> Any:
    """The graph dict with ``__main__.X`` class and handler names written ``<module>.X``."""
    if isinstance(struct, Mapping):
        return {
            key: (
                f"{module}.{value[len('__main__.') :]}"
                if key in ("class_name", "handler")
                and isinstance(value, str)
                and value.startswith("__main__.")
                else rename_main(value, module)
            )
            for key, value in struct.items()
        }
    if isinstance(struct, list):
        return [rename_main(item, module) for item in struct]
    return struct


def needs_module(graph: Mapping[str, Any], namespace: Mapping[str, Any]) -> bool:
    """Whether the graph names something defined in the module of ``namespace``."""
    own = str(namespace.get("__name__") or "__main__")
    for name in graph_names(graph):
        if name.startswith(("__main__.", f"{own}.")):
            return True
        bare = name.strip()
        if bare.startswith("(") or "." in bare or ":" in bare:
            continue
        if builtin_name(bare) is None and bare not in BUILTIN_CLASSES and bare in namespace:
            return True
    return False


def caller_code(namespace: Mapping[str, Any], function: str) -> tuple[dict[str, str], str]:
    """``(build fields, module)`` of the calling module's definitions (see the docstring)."""
    own = str(namespace.get("__name__") or "__main__")
    filename = namespace.get("__file__")
    path = Path(str(filename)) if filename else None
    if path is None or path.suffix != ".py" or not path.is_file():
        raise DeployError(
            f"function {function!r}: the graph uses classes or handlers of module {own!r}, "
            "whose source file cannot be read; attach the code with "
            "fn.with_code(from_file='app.py') (or sg.code_to_function)."
        )
    module = module_name(path) if own == "__main__" else own
    return encode_text(definitions(path.read_text(), str(path))), module


class ServingCode:
    """Mixin of ServingFunction: attach code, set the image, resolve the code at export."""

    spec: ServingSpec
    name: str
    status_address: str | None

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError  # ServingFunction's

    def _graph(self) -> Any:
        raise NotImplementedError  # ServingFunction's

    def with_code(
        self, from_file: str | Path = "", body: str | None = None, module: str | None = None
    ) -> Self:
        """Attach the code the graph's names resolve in (replacing any attached before).

        ``from_file`` is a ``.py`` file (imported as its stem) or a folder (an archive;
        ``module`` names the module the graph uses when it has several); ``body`` is
        the code as text (imported as ``module``, default ``handler``)::

            fn.with_code(from_file="app.py")
            fn.with_code(from_file="src/", module="app")
        """
        if body is not None:
            if from_file:
                raise DeployError("with_code takes 'from_file' or 'body', not both")
            fields, name = encode_text(between_markers(body)), module or "handler"
            origin = ""
        elif from_file:
            fields, name = file_code(from_file, module)
            origin = str(Path(from_file).resolve())
        else:
            raise DeployError(f"with_code of function {self.name!r} needs from_file or body")
        if not all(part.isidentifier() for part in name.split(".")):
            raise DeployError(
                f"The 'module' parameter of with_code must be a module name. Got {name!r}."
            )
        build = {k: v for k, v in self.spec.build.items() if k not in (SOURCE_KEY, ENTRY_KEY)}
        build.update(fields)
        if origin:
            build["origin_filename"] = origin
        else:
            build.pop("origin_filename", None)
        self.spec.build = build
        self.spec.code_module = name
        return self

    def with_build(
        self,
        image: str | None = None,
        requirements: list[str] | str | None = None,
        commands: list[str] | None = None,
        servegraph_requirement: str | None = None,
    ) -> Self:
        """Set the image build: base ``image``, ``requirements`` (a list or a requirements
        file), extra shell ``commands`` and how servegraph itself is installed
        (``servegraph_requirement``: a pip requirement such as a wheel URL or
        ``servegraph @ git+https://...``; servegraph is not on PyPI)."""
        if image:
            self.spec.image = str(image)
        if requirements is not None:
            self.spec.build["requirements"] = read_requirements(requirements)
        if commands is not None:
            self.spec.build["commands"] = [str(c) for c in commands]
        if servegraph_requirement is not None:
            self.spec.build["servegraph_requirement"] = str(servegraph_requirement)
        return self

    def code_namespace(self, namespace: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """``namespace`` (names found there first), then the attached code's module."""
        module = self.spec.code_module
        if not module or not self.spec.build.get(SOURCE_KEY):
            return namespace
        from servegraph.serving.source import load_code

        return {**vars(load_code(self.spec.build, module)), **(namespace or {})}

    def code_spec(
        self, graph: Mapping[str, Any], namespace: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], str | None, Mapping[str, Any]]:
        """``(build, module, graph)`` to export: the attached code or the caller's module."""
        build = dict(self.spec.build)
        module = self.spec.code_module
        if not build.get(SOURCE_KEY) and namespace is not None and needs_module(graph, namespace):
            fields, module = caller_code(namespace, self.name)
            build.update(fields)
        if module and build.get(SOURCE_KEY):
            graph = rename_main(graph, module)
        return build, module if build.get(SOURCE_KEY) else None, graph

    def export(
        self,
        target: str | Path = "function.yaml",
        *,
        base_image: str | None = None,
        requirements: list[str] | str | None = None,
        servegraph_requirement: str | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> str:
        """Write the Nuclio function.yaml, code included, to ``target``; return the path.

        The code is the one attached (``with_code``, ``code_to_function``) or, when
        the graph names classes or handlers of the calling module, that module's
        definitions. ``base_image``, ``requirements`` and ``servegraph_requirement``
        (how the image installs servegraph: a wheel URL or ``servegraph @ git+...``)
        override the function's build settings; see docs/deploy.md.
        """
        if namespace is None:
            namespace = caller_globals()
        fn_dict = self.deploy_dict(namespace)
        build = fn_dict["spec"].setdefault("build", {})
        if base_image:
            fn_dict["spec"]["image"] = base_image
        if requirements is not None:
            build["requirements"] = read_requirements(requirements)
        if servegraph_requirement is not None:
            build["servegraph_requirement"] = servegraph_requirement
        from servegraph.serving.nuclio_spec import build_nuclio_spec

        spec = build_nuclio_spec(fn_dict)
        Path(target).write_text(yaml.safe_dump(spec, sort_keys=False))
        return str(target)

    def deploy_dict(self, namespace: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``to_dict()`` with the code resolved as ``export`` does (the spec that deploys)."""
        fn_dict = self.to_dict()
        spec = fn_dict["spec"]
        check_portable(self._graph())
        build, module, graph = self.code_spec(self._graph().to_dict(), namespace)
        spec["graph"] = graph
        if build:
            spec["build"] = build
        if module:
            spec["code_module"] = module
        return fn_dict

    def deploy(self, dashboard: str | None = None, local: bool = False) -> str:
        """Deploy to Nuclio, or with ``local=True`` as a process of the local platform
        (``servegraph ps`` lists it); return the function's address."""
        from servegraph.config import get_config
        from servegraph.serving.nuclio_deploy import deploy
        from servegraph.serving.nuclio_spec import build_nuclio_spec

        namespace = caller_globals()
        if local:
            from servegraph.functions.platform.local import deploy_local

            self.status_address = deploy_local(self, namespace=namespace)
            return self.status_address
        address: str = deploy(
            build_nuclio_spec(self.deploy_dict(namespace)),
            dashboard or get_config().nuclio_dashboard,
        )
        self.status_address = address
        return address


def check_portable(step: BaseStep) -> None:
    """Raise DeployError for a step the spec cannot rebuild: an instance with
    arguments that are not plain data, a lambda or a function local to another."""
    for child in step.get_children():
        check_portable(child)
    if not isinstance(step, TaskStep):
        return
    obj = step.class_name
    if obj is not None and not isinstance(obj, str | type):
        bad = unplain_args(obj)
        if bad:
            raise DeployError(
                f"{step._where()}: the arguments {bad} of {type(obj).__name__} are not "
                "plain data and cannot travel in the spec; give a path (model_path=...) "
                "or plain values instead"
            )
    for field, value in (("class_name", step.class_path), ("handler", step.handler_path)):
        if value and ("<lambda>" in value or "<locals>" in value):
            raise DeployError(
                f"{step._where()}: the {field} {value!r} cannot be imported by the server; "
                "define it at the top level of the function's code"
            )


def caller_globals() -> dict[str, Any] | None:
    """The globals of the code that called the function calling this one."""
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame is not None and frame.f_back else None
        return caller.f_globals if caller is not None else None
    finally:
        del frame


def read_requirements(requirements: list[str] | str) -> list[str]:
    """A requirements list, or the requirement lines of a file (comments dropped)."""
    if isinstance(requirements, str):
        path = Path(requirements)
        if not path.is_file():
            raise DeployError(
                f"The 'requirements' parameter must be a list or a requirements file. "
                f"Got {requirements!r} instead."
            )
        lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
        return [line for line in lines if line]
    return [str(r) for r in requirements]
