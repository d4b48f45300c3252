"""Where a serving function's code comes from, and what of a graph can travel in a spec.

Helpers of :mod:`servegraph.functions.serving_code`: code files and folders as
build fields, the definitions of a calling module, ``start-code`` /
``end-code`` markers, ``__main__`` names written by module, and the check that
every step can be rebuilt from the exported spec.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from servegraph.errors import DeployError
from servegraph.graph.base import BaseStep
from servegraph.graph.init_args import unplain_args
from servegraph.graph.resolve import BUILTIN_CLASSES, builtin_name
from servegraph.graph.task import TaskStep
from servegraph.serving.source import encode_folder, encode_text

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
