"""Flow steps: a graph of named steps wired by ``after``; the root of a flow topology.

Build with ``to()`` (chain after a step), ``add_step()`` (branch, merge,
insert), ``respond()`` and ``error_handler()``::

    graph = RootFlowStep(engine="async")
    graph.to("mypkg.Prep", name="prep").to("ModelRouter", name="router").respond()
    graph["router"].add_route("m1", class_name="mypkg.MyModel", model_path="m1.pkl")
    graph.add_step(handler="log_it", name="log", after="prep")          # a branch
    graph.add_step("Merge", name="join", after=["router", "log"])       # a merge
    graph.error_handler("catcher", handler="handle_error")              # graph-wide
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from servegraph.errors import GraphError
from servegraph.graph import topology
from servegraph.graph.base import BaseStep, Handler
from servegraph.graph.mlrun_compat import split_error_steps
from servegraph.graph.params import step_from_params
from servegraph.graph.stepdict import StepDict

ENGINES = ("sync", "async")
PREV = "$prev"
START = "$start"


class FlowStep(BaseStep):
    """Named steps run in ``after`` order; events enter at the start steps.

    ``engine`` is ``"sync"`` or ``"async"`` (None: the server's default, async).
    """

    kind: ClassVar[str] = "flow"
    default_shape: ClassVar[str] = "folder"
    _dict_fields: ClassVar[tuple[str, ...]] = (
        *BaseStep._dict_fields,
        "steps",
        "engine",
        "final_step",
    )

    def __init__(
        self,
        name: str | None = None,
        steps: Mapping[str, BaseStep | Mapping[str, Any]] | None = None,
        after: str | list[str] | None = None,
        engine: str | None = None,
        final_step: str | None = None,
    ) -> None:
        super().__init__(name, after)
        self._steps = self._new_steps(steps)
        self._engine = self._check_engine(engine)
        self.final_step = final_step
        self._last_added: BaseStep | None = None

    # -- fields -------------------------------------------------------------------

    def _is_flow(self) -> bool:
        return True

    def _check_engine(self, engine: object) -> str | None:
        if engine is not None and engine not in ENGINES:
            raise GraphError(f"{self._where()}: 'engine' must be 'sync' or 'async', got {engine!r}")
        return engine  # type: ignore[return-value]

    @property
    def engine(self) -> str | None:
        """``"sync"``, ``"async"`` or None (async)."""
        return self._engine

    @engine.setter
    def engine(self, engine: str | None) -> None:
        self._engine = self._check_engine(engine)

    @property
    def is_async(self) -> bool:
        """Whether the flow runs on the async engine (the default)."""
        return self._engine != "sync"

    def _new_steps(self, steps: object) -> StepDict:
        if steps is not None and not isinstance(steps, Mapping):
            raise GraphError(f"{self._where()}: 'steps' must be a dict of steps, got {steps!r}")
        return StepDict(self, steps, default_kind="task", label="step")

    @property
    def steps(self) -> StepDict:
        """``{name: step}``; assign a dict of steps or step dicts to replace them."""
        return self._steps

    @steps.setter
    def steps(self, steps: Mapping[str, BaseStep | Mapping[str, Any]] | None) -> None:
        new = self._new_steps(steps)
        kept = {id(step) for step in new.values()}
        for old in self._steps.values():
            if id(old) not in kept:
                old.set_parent(None)
        self._steps = new
        self._last_added = None

    # -- lookup -------------------------------------------------------------------

    def __getitem__(self, name: str) -> BaseStep:
        try:
            return self._steps[name]
        except KeyError:
            raise GraphError(
                f"{self._where()}: no step named {name!r} (steps: {self._known()})"
            ) from None

    def __setitem__(self, name: str, step: BaseStep | Mapping[str, Any]) -> None:
        self._steps[name] = step

    def __delitem__(self, name: str) -> None:
        if name not in self._steps:
            raise GraphError(f"{self._where()}: no step named {name!r} (steps: {self._known()})")
        del self._steps[name]

    def __contains__(self, name: object) -> bool:
        return name in self._steps

    def get_children(self) -> list[BaseStep]:
        return list(self._steps.values())

    def _known(self) -> str:
        return ", ".join(self._steps) or "none"

    @property
    def last_added(self) -> BaseStep | None:
        """The step ``after="$prev"`` refers to: the last one added (MLRun)."""
        return self._last_added

    def path_to_step(self, path: str) -> BaseStep:
        """Look a step up by dotted path through nested flows and routers
        (``"sub.router.m1"``); names that contain dots themselves still match."""
        step: BaseStep = self
        rest = path
        while rest:
            children = {child.name: child for child in step.get_children() if child.name}
            # the longest child name that the rest of the path starts with
            match = max(
                (name for name in children if rest == name or rest.startswith(name + ".")),
                key=len,
                default=None,
            )
            if match is None:
                known = ", ".join(children) or "none"
                raise GraphError(
                    f"{self._where()}: no step {rest.split('.')[0]!r} in path {path!r} "
                    f"(under {step.name or 'the graph'}: {known})"
                )
            step = children[match]
            rest = rest[len(match) + 1 :]
        return step

    def responders(self) -> list[str]:
        """Names of the steps marked with ``respond()``."""
        return [name for name, step in self._steps.items() if step.responder]

    def get_responder(self) -> BaseStep | None:
        """The responder step, if any."""
        names = self.responders()
        return self._steps[names[0]] if names else None

    def error_handlers(self) -> set[str]:
        """Names of steps that are some step's (or the flow's) ``on_error`` target."""
        return topology.error_handlers(self._steps, self.on_error)

    def start_steps(self) -> list[BaseStep]:
        """Steps that receive the incoming event: no ``after``, not an error handler."""
        return [self._steps[name] for name in topology.start_steps(self._steps, self.on_error)]

    def next_steps(self, name: str) -> list[BaseStep]:
        """Steps that run after ``name`` (its outlets), in insertion order."""
        return [step for step in self._steps.values() if name in step.after]

    def topological_order(self) -> list[BaseStep]:
        """Every step after all its inlets (GraphError on a cycle)."""
        return [self._steps[name] for name in topology.topological_order(self._steps)]

    # -- builder ------------------------------------------------------------------

    def _chain_target(self) -> tuple[FlowStep, str | None]:
        """``.to()`` on a flow adds a start step of this flow."""
        return self, START

    def add_step(
        self,
        class_name: object = None,
        name: str | None = None,
        handler: Handler | None = None,
        after: str | BaseStep | list[str | BaseStep] | None = None,
        before: str | None = None,
        graph_shape: str | None = None,
        function: str | None = None,
        full_event: bool | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> BaseStep:
        """Add a step and return it.

        ``after`` is a step name, a list of names (a merge point), ``"$prev"``
        (the last step added, even after a ``before=`` insertion) or ``"$start"``/
        None (a start step). ``before`` inserts the step ahead of the named step,
        which then runs after the new step instead of its old inlets::

            graph.add_step("mypkg.Clean", name="clean", after="load", before="model")
        """
        key, step = step_from_params(
            class_name,
            name,
            handler,
            graph_shape=graph_shape,
            function=function,
            full_event=full_event,
            input_path=input_path,
            result_path=result_path,
            class_args=class_args,
            taken=self._steps,
        )
        return self.insert_step(key, step, after, before)

    def insert_step(
        self,
        key: str,
        step: BaseStep | Mapping[str, Any],
        after: str | BaseStep | list[str | BaseStep] | None = None,
        before: str | None = None,
    ) -> BaseStep:
        """Insert a step object (or step dict) under ``key``; see :meth:`add_step`."""
        where = f"step {key!r}"
        if key in self._steps:
            raise GraphError(f"{where}: a step named {key!r} already exists in {self._where()}")
        inlets = self._resolve_after(key, after)
        if before is not None:
            if before not in self._steps:
                raise GraphError(
                    f"{where}: unknown 'before' target {before!r} (known steps: {self._known()})"
                )
            if before in inlets:
                raise GraphError(f"{where}: {before!r} is both 'after' and 'before' target (loop)")
        self._steps[key] = step
        added = self._steps[key]
        added.after_step(*inlets)
        if before is not None:
            target = self._steps[before]
            if inlets:
                rewired = [key if name in inlets else name for name in target.after]
                target.after = list(dict.fromkeys(rewired))
                target.after_step(key)
            else:
                added.after_step(*target.after)
                target.after = [key]
        self._last_added = added
        return added

    def set_flow(
        self, steps: list[BaseStep | Mapping[str, Any] | str], force: bool = False
    ) -> BaseStep | FlowStep:
        """Replace the flow's steps with a chain of ``steps`` (step dicts as ``to()``
        keyword arguments, step objects or class names); returns the last one (MLRun).

        A flow that already has steps raises GraphError unless ``force=True``::

            graph.set_flow([dict(name="inc", handler="(event + 1)"), dict(name="dump",
                           handler="json.dumps")], force=True)
        """
        if self._steps and not force:
            raise GraphError(
                "set_flow() called on a step that already has downstream steps. "
                "If you want to overwrite existing steps, set force=True."
            )
        self.steps = None
        step: BaseStep = self
        for item in steps:
            step = step.to(**item) if isinstance(item, Mapping) else step.to(item)
        return step

    def _resolve_after(
        self, key: str, after: str | BaseStep | list[str | BaseStep] | None
    ) -> list[str]:
        where = f"step {key!r}"
        if after is None or after == START:
            return []
        items = after if isinstance(after, list | tuple) else [after]
        inlets: list[str] = []
        for item in items:
            target = item.name if isinstance(item, BaseStep) else item
            if target == PREV:
                if self._last_added is None or self._last_added.name not in self._steps:
                    continue  # nothing added yet: a start step (MLRun)
                target = self._last_added.name
            if not isinstance(target, str) or target == START:
                raise GraphError(f"{where}: bad 'after' target {item!r} in {after!r}")
            if target not in self._steps:
                raise GraphError(
                    f"{where}: unknown 'after' target {target!r} (known steps: {self._known()})"
                )
            if target not in inlets:
                inlets.append(target)
        return inlets

    # -- dict form ------------------------------------------------------------------

    def _dump_field(self, field: str) -> Any:
        if field == "steps":
            return self._steps.to_dict()
        if field == "engine":
            return self._engine
        return super()._dump_field(field)

    @classmethod
    def from_dict(cls, struct: Mapping[str, Any], name: str | None = None) -> Self:
        if "final_state" in struct:  # older MLRun spelling of final_step
            struct = {("final_step" if k == "final_state" else k): v for k, v in struct.items()}
        return super().from_dict(struct, name)

    def _load_field(self, field: str, value: Any) -> None:
        if field == "steps":
            if not isinstance(value, Mapping):
                raise GraphError(f"{self._where()}: 'steps' must be a dict of steps, got {value!r}")
            steps, befores = split_error_steps(value, self._where())
            self.steps = steps
            for handler, targets in befores:
                for target in targets:
                    if target not in self._steps:
                        raise GraphError(
                            f"step {handler!r}: unknown 'before' target {target!r} "
                            f"(known steps: {self._known()})"
                        )
                    self._steps[target].after_step(handler)
        elif field == "engine":
            self.engine = value
        elif field == "final_step":
            if value is not None and not isinstance(value, str):
                raise GraphError(f"{self._where()}: 'final_step' must be a str, got {value!r}")
            self.final_step = value
        else:
            super()._load_field(field, value)


class RootFlowStep(FlowStep):
    """The root of a flow topology (what ``fn.set_topology("flow")`` returns).

    Its dict form is ``{"kind": "flow", "steps": {...}, "engine": ...}``;
    ``from_dict`` also takes MLRun's ``"root"`` kind or no kind at all::

        graph = RootFlowStep(engine="sync")
        graph.to(name="double", handler="(event * 2)").respond()
    """

    _dict_fields: ClassVar[tuple[str, ...]] = (
        "kind",
        "comment",
        "steps",
        "engine",
        "final_step",
        "on_error",
    )
    _kind_aliases: ClassVar[tuple[str, ...]] = ("root",)

    def _where(self) -> str:
        return f"graph {self.name!r}" if self.name else "graph"
