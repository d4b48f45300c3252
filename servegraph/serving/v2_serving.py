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
infer/predict request is logged once (see ``_track``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servegraph.errors import BadRequestError, NotFoundError, NotReadyError
from servegraph.serving.event import Event
from servegraph.serving.paths import get_path, set_path, split_path
from servegraph.serving.v2_protocol import make_response, parse_path, parse_request


class V2ModelServer:
    """Base model server: request parsing, operations, tracking; you write ``predict``.

    Parameters:
        context: the GraphContext (given by the server).
        name: model name; ``"name:version"`` sets the version too.
        model_path: where ``load()`` finds the model (``get_model``).
        model: an already loaded model object (then ``load()`` is not needed).
        protocol: ``"v2"`` (the only one).
        input_path / result_path: dotted paths of the request and response in the body.
        **kwargs: extra parameters, read with ``get_param``.
    """

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
        self._params = kwargs
        self.ready = model is not None
        self.error = ""
        self._load_thread: threading.Thread | None = None
        self._endpoint_id: str | None = None
        cls = type(self)
        self._has_preprocess = cls.preprocess is not V2ModelServer.preprocess
        self._has_postprocess = cls.postprocess is not V2ModelServer.postprocess
        self._has_validate = cls.validate is not V2ModelServer.validate

    # -- lifecycle ---------------------------------------------------------
    def post_init(self, mode: str = "sync") -> None:
        """Load the model now (``mode="sync"``) or in a background thread (``"async"``)."""
        if self.ready:
            return
        if mode == "async":
            self._load_thread = threading.Thread(target=self._load_safely, daemon=True)
            self._load_thread.start()
        else:
            self.load()
            self.ready = True

    def _load_safely(self) -> None:
        try:
            self.load()
            self.ready = True
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _wait_ready(self) -> None:
        if self._load_thread is not None:
            self._load_thread.join()
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
        the others are returned by name as extra files.
        """
        if not self.model_path:
            raise NotReadyError(f"model {self.name!r} has no model_path")
        path = Path(self.model_path)
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
        name, version, op = parse_path(event.path)
        if not op:
            if name is not None and name != self.name and version is None:
                op = name
            elif event.method == "GET":
                event.body = self.metadata()
                return event
            else:
                op = "infer"
        if op == "infer" or op == "predict":
            result: Any = self._infer(event, op)
        elif op == "ready" or op == "health":
            self._wait_ready()
            result = {"name": self.name, "version": self.version, "ready": True}
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

    def metadata(self) -> dict[str, Any]:
        """The model metadata returned for ``GET /v2/models/{name}``."""
        return {"name": self.name, "version": self.version, "inputs": [], "outputs": []}

    def _infer(self, event: Event, op: str) -> dict[str, Any]:
        if not self.ready:
            self._wait_ready()
        body = event.body
        if self._input_path:
            body = get_path(body, self._input_path)
        request = parse_request(body)
        ctx = self.context
        tracker = ctx.tracker if ctx is not None else None
        if tracker is not None:
            return self._tracked(event, request, op, tracker)
        if self._has_preprocess:
            request = self.preprocess(request, op)
        if self._has_validate:
            self.validate(request, op)
        elif type(request.get("inputs")) is not list:
            self.validate(request, op)
        outputs = self.explain(request) if op == "explain" else self.predict(request)
        if hasattr(outputs, "tolist"):
            outputs = outputs.tolist()
        response = make_response(request.get("id") or event.id, self.name, outputs, self.version)
        if self._has_postprocess:
            response = self.postprocess(response)
        return response

    def _tracked(self, event: Event, request: dict[str, Any], op: str, tracker: Any) -> Any:
        start = time.perf_counter()
        timestamp = datetime.now(UTC).isoformat()
        outputs: Any = []
        error: str | None = None
        try:
            request = self.preprocess(request, op)
            self.validate(request, op)
            outputs = self.explain(request) if op == "explain" else self.predict(request)
            if hasattr(outputs, "tolist"):
                outputs = outputs.tolist()
            response = make_response(
                request.get("id") or event.id, self.name, outputs, self.version
            )
            return self.postprocess(response)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record = {
                "endpoint_id": self.endpoint_id,
                "function": getattr(self.context, "name", ""),
                "model_name": self.name,
                "model_version": self.version or None,
                "request_id": request.get("id") or event.id,
                "timestamp": timestamp,
                "inputs": request.get("inputs") or [],
                "outputs": outputs if isinstance(outputs, list) else [outputs],
                "latency_ms": (time.perf_counter() - start) * 1000.0,
                "error": error,
            }
            try:
                tracker.log(record)
            except Exception as exc:  # tracking must never fail a request
                self.context.logger.warning("tracker.log failed for %s: %s", self.name, exc)

    @property
    def endpoint_id(self) -> str:
        """A stable id of this model endpoint: hash of project/function:model:version."""
        if self._endpoint_id is None:
            ctx = self.context
            uri = (
                f"{getattr(ctx, 'project', '')}/{getattr(ctx, 'name', '')}"
                f":{self.name}:{self.version}"
            )
            self._endpoint_id = hashlib.sha1(uri.encode()).hexdigest()[:16]
        return self._endpoint_id

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["context"] = None
        state["_load_thread"] = None
        return state
