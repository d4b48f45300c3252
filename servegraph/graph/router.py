"""Router steps: a router class picks one (or all) of its named routes per event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, Handler
from servegraph.graph.stepdict import StepDict
from servegraph.graph.task import TASK_FIELDS, TaskStep

# the router class used when a router step names none
DEFAULT_ROUTER_CLASS = "ModelRouter"


class RouterStep(TaskStep):
    """A task whose class routes each event to one of ``routes`` by key.

    Route keys are the model names in the URL path (``/v2/models/{key}/infer``);
    ``"name:version"`` keys serve versioned paths. Routes are task steps (or
    their dict form)::

        router = RouterStep("ModelRouter", name="router")
        router.add_route("m1", class_name="mypkg.MyModel", model_path="/models/m1.pkl")
        router.routes = {"m1": TaskStep("mypkg.MyModel"), "m3:v1": {"class_name": "X"}}
    """

    kind: ClassVar[str] = "router"
    default_shape: ClassVar[str] = "doubleoctagon"
    _dict_fields: ClassVar[tuple[str, ...]] = (*TASK_FIELDS, "routes")

    def __init__(
        self,
        class_name: object = None,
        class_args: Mapping[str, Any] | None = None,
        routes: Mapping[str, TaskStep | Mapping[str, Any]] | None = None,
        name: str | None = None,
        handler: Handler | None = None,
        after: str | list[str] | None = None,
        full_event: bool | None = None,
        function: str | None = None,
        responder: bool | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
    ) -> None:
        super().__init__(
            class_name,
            class_args,
            handler,
            name=name,
            after=after,
            full_event=full_event,
            function=function,
            responder=responder,
            input_path=input_path,
            result_path=result_path,
        )
        self._routes = self._new_routes(routes)

    def _new_routes(self, routes: object) -> StepDict:
        if routes is not None and not isinstance(routes, Mapping):
            raise GraphError(f"{self._where()}: 'routes' must be a dict of steps, got {routes!r}")
        return StepDict(self, routes, default_kind="task", label="route", allowed=(TaskStep,))

    @property
    def routes(self) -> StepDict:
        """``{key: TaskStep}``; assign a dict of steps or step dicts to replace them."""
        return self._routes

    @routes.setter
    def routes(self, routes: Mapping[str, TaskStep | Mapping[str, Any]] | None) -> None:
        new = self._new_routes(routes)
        kept = {id(step) for step in new.values()}
        for old in self._routes.values():
            if id(old) not in kept:
                old.set_parent(None)
        self._routes = new

    def get_children(self) -> list[BaseStep]:
        return list(self._routes.values())

    def add_route(
        self,
        key: str,
        route: TaskStep | Mapping[str, Any] | None = None,
        class_name: object = None,
        handler: Handler | None = None,
        function: str | None = None,
        **class_args: Any,
    ) -> TaskStep:
        """Add (or replace) the route ``key`` and return its step.

        Give a step (or step dict) as ``route``, or a ``class_name``/``handler``
        with its class args::

            router.add_route("m1", class_name="mypkg.MyModel", model_path="m1.pkl")
            router.add_route("m2:v1", TaskStep("mypkg.MyModel"))
        """
        if not isinstance(key, str) or not key:
            raise GraphError(f"{self._where()}: route key must be a non-empty str, got {key!r}")
        if route is None:
            if class_name is None and handler is None:
                raise GraphError(
                    f"{self._where()}: route {key!r} needs route, class_name or handler"
                )
            route = TaskStep(class_name, class_args, handler=handler)
        elif class_name is not None or handler is not None or class_args:
            raise GraphError(
                f"{self._where()}: route {key!r}: give either route or class_name/handler "
                "with class args, not both"
            )
        self._routes[key] = route
        step = self._routes[key]
        if function is not None:
            step.function = function
        return step  # type: ignore[return-value]

    def clear_children(self, routes: list[str]) -> None:
        """Remove the named routes (MLRun name)."""
        for key in routes:
            if key not in self._routes:
                raise GraphError(
                    f"{self._where()}: unknown route {key!r} (routes: {', '.join(self._routes)})"
                )
            del self._routes[key]

    def _dump_field(self, field: str) -> Any:
        if field == "routes":
            return self._routes.to_dict()
        return super()._dump_field(field)

    def _load_field(self, field: str, value: Any) -> None:
        if field == "routes":
            self.routes = value
        else:
            super()._load_field(field, value)
