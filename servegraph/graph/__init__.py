"""The serving-graph model: step kinds, the builder, validation, (de)serialization, plots.

Pure: no I/O, no event loop; the engines in ``servegraph.serving`` run it.
MLRun code keeps its names (``from servegraph.graph import TaskStep, RouterStep``)::

    from servegraph.graph import RootFlowStep

    graph = RootFlowStep(engine="async")
    graph.to(name="inc", handler="(event + 1)").to(name="double", handler="(event * 2)").respond()
    graph.validate()
    print(graph.plot())
"""

from __future__ import annotations

from servegraph.graph.base import BaseStep, step_from_dict
from servegraph.graph.flow import FlowStep, RootFlowStep
from servegraph.graph.queue import QueueStep
from servegraph.graph.resolve import construct, resolve_class, resolve_handler
from servegraph.graph.router import RouterStep
from servegraph.graph.serialize import from_yaml, graph_from_dict, to_yaml
from servegraph.graph.stepdict import StepDict
from servegraph.graph.task import TaskStep

__all__ = [
    "BaseStep",
    "FlowStep",
    "QueueStep",
    "RootFlowStep",
    "RouterStep",
    "StepDict",
    "TaskStep",
    "construct",
    "from_yaml",
    "graph_from_dict",
    "resolve_class",
    "resolve_handler",
    "step_from_dict",
    "to_yaml",
]
