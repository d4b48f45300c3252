"""The code a serving function carries, its export, and its child functions.

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

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import yaml

from servegraph.errors import DeployError, GraphError
from servegraph.functions.code_source import (
    between_markers,
    caller_code,
    check_portable,
    file_code,
    needs_module,
    read_requirements,
    rename_main,
)
from servegraph.serving.source import ENTRY_KEY, SOURCE_KEY, encode_text
from servegraph.serving.split import child_sources

if TYPE_CHECKING:
    from servegraph.functions.serving import ServingSpec


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
        function: str | None = None,
    ) -> str:
        """Write the Nuclio function.yaml, code included, to ``target``; return the path.

        The code is the one attached (``with_code``, ``code_to_function``) or, when
        the graph names classes or handlers of the calling module, that module's
        definitions. ``base_image``, ``requirements`` and ``servegraph_requirement``
        (how the image installs servegraph: a wheel URL or ``servegraph @ git+...``)
        override the function's build settings; see docs/deploy.md. ``function``
        names a child function (``add_child_function``) to export instead.
        """
        if namespace is None:
            namespace = caller_globals()
        fn_dict = self.deploy_dict(namespace, function)
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

    def deploy_dict(
        self, namespace: Mapping[str, Any] | None = None, function: str | None = None
    ) -> dict[str, Any]:
        """``to_dict()`` with the code resolved as ``export`` does (the spec that deploys);
        ``function`` names a child function: the same graph, served as that child."""
        fn_dict = self.to_dict()
        spec = fn_dict["spec"]
        graph_step = self._graph()
        check_portable(graph_step)
        build, module, graph = self.code_spec(graph_step.to_dict(), namespace)
        spec["graph"] = graph
        if build:
            spec["build"] = build
        if module:
            spec["code_module"] = module
        steps = getattr(graph_step, "steps", {})
        named = {str(s.function) for s in steps.values() if getattr(s, "function", None)}
        for step_name, step in steps.items():
            child = getattr(step, "function", None)
            if child and child not in self.spec.function_refs and child != self.name:
                raise GraphError(
                    f"step {step_name!r} runs in function {child}, which is not a child "
                    f"function of {self.name!r}; declare it with "
                    f"fn.add_child_function({child!r}, url_or_file)"
                )
        if function is None:
            if named - {self.name}:  # the root of a split graph: its own steps only
                spec["current_function"] = spec["root_function"] = self.name
            return fn_dict
        return self._child_dict(fn_dict, function, steps)

    def _child_dict(
        self, fn_dict: dict[str, Any], child: str, steps: Mapping[str, Any]
    ) -> dict[str, Any]:
        ref = self.spec.function_refs.get(child)
        if ref is None:
            raise DeployError(
                f"function {self.name!r} has no child function {child!r}; "
                f"children: {sorted(self.spec.function_refs)}"
            )
        spec = fn_dict["spec"]
        sources = child_sources(steps, child, self.name)
        if len(sources) != 1:
            raise DeployError(
                f"child function {child!r} must be fed by one queue step with a stream path "
                f"(.to('>>', 'q', path=URL) before its steps). Got {sources}."
            )
        spec.update(current_function=child, root_function=self.name, stream_source=sources[0])
        spec.pop("function_refs", None)
        if ref.get("url"):
            fields, module = file_code(ref["url"])
            spec["build"] = {**(spec.get("build") or {}), **fields}
            spec["code_module"] = module
        if ref.get("image"):
            spec["image"] = ref["image"]
        fn_dict["metadata"]["name"] = child
        return fn_dict

    def add_child_function(
        self, name: str, url_or_file: str | None = None, image: str | None = None
    ) -> Self:
        """Declare a child function: steps given ``function=name`` run there, fed by the
        queue step in front of them (``fn.export(path, function=name)`` writes its spec).

        ``url_or_file`` is the child's code (a file or folder; default: the parent's)::

            graph.to(">>", "q", path="redis://127.0.0.1:6379/work").to(
                name="heavy", handler="heavy", function="worker")
            fn.add_child_function("worker", "worker.py")
        """
        if not isinstance(name, str) or not name or name == self.name:
            raise DeployError(
                f"The 'name' parameter of add_child_function must be a non-empty str other "
                f"than the function's own name. Got {name!r} instead."
            )
        if url_or_file is not None and not Path(url_or_file).exists():
            raise DeployError(
                f"The 'url_or_file' of child function {name!r} must be a code file or "
                f"folder. Got {url_or_file!r} instead."
            )
        self.spec.function_refs[name] = {"url": url_or_file, "image": image}
        return self

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


def caller_globals() -> dict[str, Any] | None:
    """The globals of the code that called the function calling this one."""
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame is not None and frame.f_back else None
        return caller.f_globals if caller is not None else None
    finally:
        del frame
