"""V2ModelServer: the base class of model steps (MLRun-compatible hooks).

Subclass it, implement ``load()`` and ``predict(request)``, and add it to a
graph or a router::

    class MyModel(V2ModelServer):
        def load(self):
            self.model = joblib.load(self.get_model(".pkl")[0])

        def predict(self, request):
            return self.model.predict(request["inputs"]).tolist()

Paths: ``/v2/models/{name}[/versions/{version}]/{infer|predict|explain|ready}``,
``GET /v2/models/{name}`` (metadata) and custom ``op_<name>(event)`` methods
reached at ``/v2/models/{name}/<name>``. When the context has a tracker, each
infer/predict request is logged once. One request pipeline serves every
infer: parse, prepare (preprocess, validate), predict (called directly, or the
batching strategy when ``max_batch_size`` is set), respond (lists, response,
postprocess, OIP encoding), with tracking (``TrackedCall``) as a wrapper.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegraph.errors import BadRequestError, NotFoundError, NotReadyError
from servegraph.serving.batching import batcher_from_class_args
from servegraph.serving.event import Event, Response, from_stream
from servegraph.serving.model_tracking import TrackedCall, endpoint_id, register_endpoint
from servegraph.serving.paths import get_path, set_path, split_path
from servegraph.serving.store_models import local_model_path

if TYPE_CHECKING:
    from servegraph.serving.isolation import ModelGuard
from servegraph.serving.v2_protocol import (
    encode_oip_response,
    make_response,
    parse_infer,
    parse_path,
)


class V2ModelServer:
    """Base model server: request parsing, operations, tracking; you write ``predict``.

    Under ``serve`` a model's sync code runs on its own threads (class args
    ``model_workers``, ``max_in_flight``; the step's ``timeout``, default 60 s):
    see :mod:`servegraph.serving.isolation`. Set the class attribute
    ``blocking = False`` for a quick, never-waiting ``predict`` to run inline.

    Parameters:
        context: the GraphContext (given by the server).
        name: model name; ``"name:version"`` sets the version too.
        model_path: where ``load()`` finds the model (``get_model``).
        model: an already loaded model object (then ``load()`` is not needed).
        protocol: ``"v2"`` (the only one).
        input_path / result_path: dotted paths of the request and response in the body.
        **kwargs: extra parameters, read with ``get_param``.
    """

    blocking: bool = True  # False: predict is quick and never waits, run it on the loop

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        model_path: str | None = None,
        model: Any = None,
        protocol: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.context = context
        name = name or "model"
        self.name, _, version = name.partition(":")
        self.version: str = version
        self.model_path = model_path
        self.model = model
        self.protocol = protocol or "v2"
        self.input_path = input_path
        self.result_path = result_path
        self._input_path = split_path(input_path)
        self._result_path = split_path(result_path)
        self._batcher = batcher_from_class_args(self.name, self._predict_rows, kwargs)
        if self._batcher is not None:
            self.do_event = self._do_event_batched  # type: ignore[method-assign,assignment]
        self._params = kwargs
        self.metrics: dict[str, Any] = {}
        self.ready = model is not None
        self.error = ""
        self._load_thread: threading.Thread | None = None
        self._guard: ModelGuard | None = None  # set by the plan on the async engine
        self._endpoint_id: str | None = None
        cls = type(self)
        self._has_preprocess = cls.preprocess is not V2ModelServer.preprocess
        self._has_postprocess = cls.postprocess is not V2ModelServer.postprocess
        self._has_validate = cls.validate is not V2ModelServer.validate

    # -- lifecycle ---------------------------------------------------------
    def post_init(self, mode: str = "sync") -> None:
        """Load the model now (``mode="sync"``) or in a background thread (``"async"``)."""
        self._register_endpoint()
        if self.ready:
            return
        if mode == "async":
            self._load_thread = threading.Thread(target=self._load_safely, daemon=True)
            self._load_thread.start()
        else:
            self.load()
            self.ready = True

    def _register_endpoint(self) -> None:
        """Tell the tracker (if it takes registrations) about this model endpoint."""
        register_endpoint(self, self.context.tracker if self.context is not None else None)

    def _load_safely(self) -> None:
        try:
            self.load()
            self.ready = True
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _wait_ready(self, event: Event | None = None) -> None:
        """Return once loaded. While loading, a request fails at once with NotReadyError
        (MLRun's rule for HTTP); a stream event waits in the mock server."""
        thread = self._load_thread
        if thread is not None and thread.is_alive():
            # joining would block the server's loop, or the model's threads, until loaded:
            # only a stream event in the mock server waits (a deployed server answers 503
            # and the stream redelivers)
            mock = getattr(self.context, "is_mock", False)
            if event is None or not from_stream(event) or not mock:
                raise NotReadyError(f"model {self.name!r} is not ready: still loading")
            thread.join()
        if not self.ready:
            raise NotReadyError(f"model {self.name!r} is not ready: {self.error or 'not loaded'}")

    def load(self) -> None:
        """Load the model (override). The default does nothing."""

    # -- parameters and model files ----------------------------------------
    def get_param(self, key: str, default: Any = None) -> Any:
        """A class argument, else a serving-spec parameter, else ``default``."""
        if key in self._params:
            return self._params[key]
        if self.context is not None:
            return self.context.get_param(key, default)
        return default

    def get_model(self, suffix: str = "") -> tuple[str, dict[str, str]]:
        """Return ``(model_file, extra_files)`` from ``model_path`` (a file or a directory).

        In a directory, the first file ending with ``suffix`` is the model file and
        the others are returned by name as extra files. A ``store://models/...``
        URI is resolved through the run database and a remote file is fetched
        to a local copy.
        """
        if not self.model_path:
            raise NotReadyError(f"model {self.name!r} has no model_path")
        path = Path(local_model_path(self.model_path))
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
            matches = [p for p in files if p.name.endswith(suffix)]
            if not matches:
                raise NotFoundError(f"no file ending with {suffix!r} in model_path {str(path)!r}")
            extra = {p.name: str(p) for p in files if p != matches[0]}
            return str(matches[0]), extra
        if not path.exists():
            raise NotFoundError(f"model_path {str(path)!r} of model {self.name!r} does not exist")
        return str(path), {}

    def set_metric(self, name: str, value: Any) -> None:
        """Record a custom metric of the model (sent with every later tracking record)."""
        self.metrics[name] = value

    def to_dict(self) -> dict[str, Any]:
        """The step dict that rebuilds this model step (class path, name, arguments)."""
        from servegraph.serving.utils import model_step_dict

        return model_step_dict(self)

    # -- hooks ---------------------------------------------------------------
    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        """Change the request before predict/explain (override)."""
        return request

    def validate(self, request: dict[str, Any], operation: str) -> None:
        """Check the request (override); the default requires a list of inputs."""
        if not isinstance(request.get("inputs"), list):
            raise BadRequestError(
                f"The 'inputs' of a request to model {self.name!r} must be a list. "
                f"Got {type(request.get('inputs')).__name__} instead."
            )

    def predict(self, request: dict[str, Any]) -> Any:
        """Return the outputs for ``request["inputs"]`` (override)."""
        raise NotImplementedError(f"model {self.name!r} does not implement predict()")

    def explain(self, request: dict[str, Any]) -> Any:
        """Return an explanation for the request (override)."""
        raise NotFoundError(f"model {self.name!r} does not implement explain")

    def postprocess(self, response: dict[str, Any]) -> dict[str, Any]:
        """Change the response body (override)."""
        return response

    # -- event handling ------------------------------------------------------
    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """Serve one event: dispatch on the path's operation and set the response body."""
        op = self.operation(event)
        if op == "infer" or op == "predict":
            result: Any = self._infer(event, op)
        elif op == "":
            event.body = self.metadata()
            return event
        elif op in ("ready", "health") and event.method in ("GET", "HEAD"):
            event.body = self.ready_response(event)
            return event
        elif op == "explain":
            result = self._infer(event, op)
        else:
            handler = getattr(self, "op_" + op, None)
            if handler is None:
                raise NotFoundError(
                    f"model {self.name!r} has no operation {op!r} (method {event.method})"
                )
            result = handler(event)
            if result is None:
                return event
        if self._result_path:
            event.body = set_path(event.body, self._result_path, result)
        else:
            event.body = result
        return event

    def operation(self, event: Event) -> str:
        """The operation an event asks for: from its path, else ``body["operation"]``
        (stream records), else ``infer`` ("" for a GET: the metadata)."""
        name, version, op = parse_path(event.path)
        if op:
            return op
        if name is not None and name != self.name and version is None:
            return name
        body = event.body
        if type(body) is dict and isinstance(body.get("operation"), str):
            return body["operation"]  # type: ignore[no-any-return]
        return "" if event.method == "GET" else "infer"

    def ready_response(self, event: Event) -> Response:
        """The answer of ``GET .../ready`` (MLRun's): 200 and a line of text once
        loaded, 408 while loading or after a failed load."""
        if self.ready:
            text = f"Model {self.name} is ready (event_id = {event.id})"
            return Response(text.encode(), 200, "text/plain")
        return Response(b"model not ready", 408, "text/plain")

    def metadata(self) -> dict[str, Any]:
        """The model metadata returned for ``GET /v2/models/{name}``."""
        return {
            "name": self.name,
            "version": self.version,
            "versions": [self.version] if self.version else [],
            "platform": "servegraph",
            "inputs": [],
            "outputs": [],
        }

    def _output_name(self) -> str:
        """The default OIP output name: the first metadata output (cached once loaded)."""
        name: str | None = self.__dict__.get("_default_output")
        if name is None:
            outputs = self.metadata().get("outputs") or []
            name = str(outputs[0]["name"]) if outputs else "outputs"
            if self.ready:
                self._default_output = name
        return name

    # -- the request pipeline: parse -> prepare -> predict (direct or batched) -> respond,
    # -- with tracking as a wrapper around prepare and predict ---------------------------
    def _parse(self, event: Event) -> tuple[dict[str, Any], Any]:
        if not self.ready:
            self._wait_ready(event)
        body = get_path(event.body, self._input_path) if self._input_path else event.body
        return parse_infer(body, event.headers)

    def _prepare(self, request: dict[str, Any], op: str) -> dict[str, Any]:
        if self._has_preprocess:
            request = self.preprocess(request, op)
        if self._has_validate or type(request.get("inputs")) is not list:
            self.validate(request, op)
        return request

    def _predict_direct(self, request: dict[str, Any], op: str, oip: Any) -> Any:
        outputs = self.explain(request) if op == "explain" else self.predict(request)
        if oip is None and type(outputs) is not list and hasattr(outputs, "tolist"):
            outputs = outputs.tolist()
        return outputs

    def _respond(self, event: Event, request: dict[str, Any], oip: Any, outputs: Any) -> Any:
        response = make_response(request.get("id") or event.id, self.name, outputs, self.version)
        if self._has_postprocess:
            response = self.postprocess(response)
        return response if oip is None else encode_oip_response(response, oip, self._output_name())

    def _tracker(self) -> Any:
        return self.context.tracker if self.context is not None else None

    def _infer(self, event: Event, op: str) -> Any:
        request, oip = self._parse(event)
        tracker = self._tracker()
        if tracker is None:
            request = self._prepare(request, op)
            return self._respond(event, request, oip, self._predict_direct(request, op, oip))
        with TrackedCall(self, tracker, event, request) as call:
            call.request = request = self._prepare(request, op)
            call.outputs = outputs = self._predict_direct(request, op, oip)
            return self._respond(event, request, oip, outputs)

    # -- micro-batching (class args max_batch_size / max_batch_wait_ms) ------------
    def _predict_rows(self, rows: Any) -> list[Any]:
        """The batcher's predict: one call for the rows of many requests."""
        outputs = self.predict({"inputs": rows})
        return list(outputs)

    async def _predict_batched(self, request: dict[str, Any], oip: Any) -> Any:
        """The batching strategy: this request's rows share a predict call with others'."""
        assert self._batcher is not None
        if oip is not None and len(oip.inputs) > 1:  # rows of several tensors: no batching
            return self.predict(request)
        outputs = await self._batcher.submit(request["inputs"])
        if oip is None:
            outputs = [o.tolist() if hasattr(o, "tolist") else o for o in outputs]
        return outputs

    async def _do_event_batched(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """``do_event`` of a batching model: concurrent infer requests share predict calls.

        The batched ``predict`` gets ``{"inputs": rows}`` of many requests and
        must return one output per row (an Exception instance fails only its request).
        """
        op = self.operation(event)
        if op not in ("infer", "predict"):
            return V2ModelServer.do_event(self, event)
        request, oip = self._parse(event)
        with TrackedCall(self, self._tracker(), event, request) as call:
            call.request = request = self._prepare(request, op)
            call.outputs = outputs = await self._predict_batched(request, oip)
            result = self._respond(event, request, oip, outputs)
        event.body = (
            set_path(event.body, self._result_path, result) if self._result_path else result
        )
        return event

    def close(self) -> Any:
        """Stop the model's executor and batcher, if any (returns an awaitable then)."""
        if self._guard is not None:
            self._guard.close()
        return self._batcher.close() if self._batcher is not None else None

    @property
    def endpoint_id(self) -> str:
        """A stable id of this model endpoint: hash of project/function:model:version."""
        if self._endpoint_id is None:
            self._endpoint_id = endpoint_id(self.context, self.name, self.version)
        return self._endpoint_id

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["context"] = None
        state["_load_thread"] = None
        state["_batcher"] = None
        state["_guard"] = None
        state.pop("do_event", None)
        return state
