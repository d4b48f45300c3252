"""A small local DAG engine for project workflows.

A workflow is a Python file with a handler (``pipeline`` by default) that calls
``project.run_function(...)``. While the handler runs, those calls only record
steps and return a :class:`Step` whose ``outputs["key"]`` are placeholders;
passing a placeholder as a parameter or input of another step makes that step
depend on it (``step.after(other)`` adds an explicit dependency). The engine
then runs the steps in topological order (``graphlib``), substituting each
placeholder with the producing run's output, and stops at the first failure.

>>> # workflow.py
>>> def pipeline(project, source_url=""):                         # doctest: +SKIP
...     prep = project.run_function("prep", inputs={"src": source_url})
...     project.run_function("train", inputs={"data": prep.outputs["data"]})
"""

from __future__ import annotations

import graphlib
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from servegraph.errors import RunError
from servegraph.functions.handler import load_handler
from servegraph.functions.runobject import RunObject
from servegraph.functions.runspec import new_uid, now_str

if TYPE_CHECKING:
    from servegraph.functions.project import Project


@dataclass(frozen=True)
class OutputRef:
    """A placeholder for the output ``key`` of step ``step``."""

    step: str
    key: str


class _Outputs:
    def __init__(self, step: str) -> None:
        self._step = step

    def __getitem__(self, key: str) -> OutputRef:
        return OutputRef(self._step, key)


@dataclass
class Step:
    """One ``run_function`` call of a workflow, run later by the engine."""

    name: str
    function: Any
    kwargs: dict[str, Any]
    depends: set[str] = field(default_factory=set)
    run: RunObject | None = None

    @property
    def outputs(self) -> _Outputs:
        """Placeholders for this step's outputs (results and artifact URIs)."""
        return _Outputs(self.name)

    def after(self, *steps: Step) -> Step:
        """Run this step only after ``steps``."""
        self.depends.update(s.name for s in steps)
        return self


def _refs(value: Any) -> set[str]:
    if isinstance(value, OutputRef):
        return {value.step}
    if isinstance(value, dict):
        return set().union(*(_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _resolve(value: Any, steps: dict[str, Step]) -> Any:
    if isinstance(value, OutputRef):
        run = steps[value.step].run
        assert run is not None
        outputs = run.outputs
        if value.key not in outputs:
            raise RunError(
                f"Step {value.step!r} has no output {value.key!r}; it has {sorted(outputs)}."
            )
        return outputs[value.key]
    if isinstance(value, dict):
        return {k: _resolve(v, steps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_resolve(v, steps) for v in value)
    return value


class WorkflowRun:
    """The result of ``project.run(name)``: ``state``, ``uid``, ``steps`` and their runs."""

    def __init__(self, name: str, uid: str) -> None:
        self.name = name
        self.uid = uid
        self.state = "created"
        self.error: str | None = None
        self.steps: dict[str, Step] = {}
        self.start_time = now_str()

    @property
    def runs(self) -> dict[str, RunObject]:
        """The run of each executed step."""
        return {name: s.run for name, s in self.steps.items() if s.run is not None}

    def to_dict(self) -> dict[str, Any]:
        """A summary: name, uid, state, error and each step's run uid and state."""
        return {
            "name": self.name,
            "uid": self.uid,
            "state": self.state,
            "error": self.error,
            "start_time": self.start_time,
            "steps": {
                n: {"uid": s.run.uid if s.run else None, "state": s.run.state() if s.run else None}
                for n, s in self.steps.items()
            },
        }


class WorkflowComposer:
    """Collects the steps a workflow handler declares."""

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}

    def add(self, name: str, function: Any, kwargs: dict[str, Any]) -> Step:
        """Record a step; a repeated name gets a numeric suffix."""
        unique, n = name, 1
        while unique in self.steps:
            n += 1
            unique = f"{name}-{n}"
        step = Step(unique, function, kwargs)
        step.depends |= _refs(kwargs.get("params")) | _refs(kwargs.get("inputs"))
        unknown = step.depends - set(self.steps)
        if unknown:
            raise RunError(f"Step {unique!r} depends on unknown steps {sorted(unknown)}.")
        self.steps[unique] = step
        return step


def compose(
    project: Project, path: str, handler: str, arguments: dict[str, Any]
) -> WorkflowComposer:
    """Run the workflow handler in composing mode and return the declared steps."""
    fn = load_handler(path, handler)
    composer = WorkflowComposer()
    params = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in arguments.items() if k in params or _has_var_kw(fn)}
    unknown = set(arguments) - set(kwargs)
    if unknown:
        raise RunError(f"The workflow {path!r} takes no arguments {sorted(unknown)}.")
    if params and next(iter(params)) == "project":
        kwargs["project"] = project
    missing = [
        n for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in kwargs
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]  # fmt: skip
    if missing:
        raise RunError(
            f"The workflow {path!r} needs the argument(s) {missing} (no default): give them "
            "with -a KEY=VALUE, arguments= or the schedule's params."
        )
    with project.composing(composer):
        fn(**kwargs)
    return composer


def _has_var_kw(fn: Any) -> bool:
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()
    )


def execute_workflow(
    project: Project, name: str, composer: WorkflowComposer, watch: bool
) -> WorkflowRun:
    """Run the composed steps in dependency order; stop at the first failed step."""
    wf = WorkflowRun(name, new_uid())
    wf.steps = composer.steps
    sorter = graphlib.TopologicalSorter({n: s.depends for n, s in composer.steps.items()})
    wf.state = "running"
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as exc:
        raise RunError(f"The workflow {name!r} has a dependency cycle: {exc.args[1]}") from exc
    for step_name in order:
        step = composer.steps[step_name]
        kwargs = _resolve(step.kwargs, composer.steps)
        labels = {**kwargs.pop("labels", {}), "workflow": wf.uid}
        if watch:
            print(f"workflow {name} ({wf.uid}): running step {step_name}")
        step.run = project.run_function(step.function, labels=labels, watch=watch, **kwargs)
        if step.run.state() != "completed":
            wf.state = "error"
            wf.error = f"step {step_name!r} ended in state {step.run.state()}: {step.run.error}"
            return wf
    wf.state = "completed"
    return wf
