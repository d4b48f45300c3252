"""Nuclio function spec for a serving function (what ``fn.export()`` writes).

The spec runs ``servegraph.serving.nuclio:handler`` on the Python 3.11
runtime; the handler rebuilds the graph from the serving spec carried as JSON
in the ``SERVING_SPEC_ENV`` environment variable.

>>> spec = build_nuclio_spec(
...     {"metadata": {"name": "churn", "project": "demo"},
...      "spec": {"graph": {"kind": "router", "routes": {}}}},
...     max_replicas=4,
... )
>>> spec["kind"], spec["spec"]["handler"], spec["spec"]["maxReplicas"]
('NuclioFunction', 'servegraph.serving.nuclio:handler', 4)
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import yaml

from servegraph.errors import DeployError
from servegraph.serving.source import ENTRY_KEY, SOURCE_CODE, SOURCE_KEY, decode_text, encode_text
from servegraph.serving.stream_source import DEFAULT_CONCURRENCY, DEFAULT_GROUP

SERVING_SPEC_ENV = "SERVING_SPEC_ENV"
HANDLER = "servegraph.serving.nuclio:handler"
RUNTIME = "python:3.11"
PROJECT_LABEL = "nuclio.io/project-name"
# appended to a single-file code so that ``<module>:handler`` is Nuclio's entry point
NUCLIO_ENTRY = "\nfrom servegraph.serving.nuclio import handler, init_context  # noqa: E402, F401\n"


def serving_spec_of(fn_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Return the serving spec (what GraphServer is built from) of a function dict."""
    metadata = fn_dict.get("metadata") or {}
    spec = fn_dict.get("spec") or {}
    if not spec.get("graph"):
        raise DeployError(
            f"Function {metadata.get('name')!r} has no graph: call fn.set_topology() first."
        )
    name, project = metadata.get("name", ""), metadata.get("project", "")
    serving: dict[str, Any] = {
        "version": "v2",
        "parameters": dict(spec.get("parameters") or {}),
        "graph": spec["graph"],
        "load_mode": spec.get("load_mode"),
        "verbose": bool(spec.get("verbose", False)),
        "function_uri": f"{project}/{name}" if project else name,
    }
    if spec.get("tracking"):
        serving["tracking"] = spec["tracking"]
    for key in ("current_function", "root_function", "stream_source"):  # split graphs
        if spec.get(key) is not None:
            serving[key] = spec[key]
    if spec.get("code_module") and (spec.get("build") or {}).get(SOURCE_KEY):
        serving["code_module"] = spec["code_module"]
    return serving


def stream_trigger(
    source: str | Mapping[str, Any],
    function_name: str = "",
    *,
    group: str = DEFAULT_GROUP,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[str, Any]:
    """Return a Nuclio trigger for a stream URL (``kafka://broker[,broker]/topic``) or dict.

    The trigger reads what ``servegraph serve SPEC --source URL`` reads: the same
    topic, as the same consumer group (``servegraph-serving``), ``concurrency``
    records at once (``--concurrency``), from the earliest unacked record.

    >>> stream_trigger("kafka://b1:9092/events")["attributes"]["consumerGroup"]
    'servegraph-serving'
    """
    if isinstance(source, Mapping):
        if "kind" not in source:
            raise DeployError(f"A stream trigger dict needs a 'kind'. Got {dict(source)!r}.")
        return dict(source)
    url = urlparse(source)
    topic = url.path.strip("/")
    if url.scheme != "kafka" or not url.netloc or not topic:
        where = f" of function {function_name!r}" if function_name else ""
        raise DeployError(
            f"The 'stream_triggers' parameter{where} takes kafka://broker/topic "
            f"URLs (Nuclio has no trigger for other streams). Got {source!r} instead."
        )
    return {
        "kind": "kafka-cluster",
        "maxWorkers": concurrency,
        "attributes": {
            "brokers": url.netloc.split(","),
            "topics": [topic],
            "consumerGroup": group,
            "initialOffset": "earliest",
        },
    }


def http_trigger(
    options: Mapping[str, Any], port: int | None = None, workers: int | None = None
) -> dict[str, Any]:
    """The Nuclio HTTP trigger from ``fn.with_http`` options (arguments override them)."""
    http: dict[str, Any] = {
        "kind": "http",
        "maxWorkers": workers or options.get("workers") or 4,
        "attributes": {},
    }
    port = port if port is not None else options.get("port")
    if port is not None:
        http["attributes"]["port"] = port
    if options.get("host"):
        http["attributes"]["ingresses"] = {"0": {"host": options["host"], "paths": ["/"]}}
    if options.get("worker_timeout"):
        http["workerAvailabilityTimeoutMilliseconds"] = int(options["worker_timeout"]) * 1000
    annotations = dict(options.get("annotations") or {})
    if options.get("gateway_timeout"):
        timeout = str(options["gateway_timeout"])
        annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = timeout
        annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] = timeout
    if annotations:
        http["annotations"] = annotations
    return http


def trigger_section(name: str, spec: Any, function_name: str = "") -> dict[str, Any]:
    """The Nuclio trigger section of ``fn.add_trigger(name, spec)``.

    ``spec`` is a trigger dict (``{"kind": "cron", "attributes": {...}}``), an
    object with ``to_dict()`` (nuclio-jupyter's triggers) or a stream URL
    (see :func:`stream_trigger`).
    """
    if not isinstance(name, str) or not name:
        raise DeployError(
            f"The 'name' parameter of add_trigger must be a non-empty str. Got {name!r}."
        )
    if callable(getattr(spec, "to_dict", None)):
        spec = spec.to_dict()
    if not isinstance(spec, str | Mapping):
        raise DeployError(
            f"The 'spec' parameter of add_trigger({name!r}) must be a trigger dict or a "
            f"stream URL. Got {type(spec).__name__} instead."
        )
    return stream_trigger(spec, function_name)


def nuclio_build(
    spec: Mapping[str, Any],
    *,
    requirement: str | None = None,
    commands: Sequence[str] = (),
    base_image: str | None = None,
) -> tuple[dict[str, Any], str]:
    """``(spec.build, spec.handler)`` of the Nuclio spec of a function's ``spec``.

    The code stays in ``functionSourceCode`` (a single file gets the line that
    imports the servegraph handler, so ``<module>:handler`` is the entry, as
    Nuclio names the file by the handler's module); the image runs
    ``pip install`` for the requirements and for servegraph itself when
    ``servegraph_requirement`` (or ``requirement``) says how.
    """
    given = dict(spec.get("build") or {})
    module = spec.get("code_module")
    build: dict[str, Any] = {}
    handler = HANDLER
    if given.get(SOURCE_KEY):
        entry = given.get(ENTRY_KEY) or SOURCE_CODE
        build[SOURCE_KEY] = given[SOURCE_KEY]
        build[ENTRY_KEY] = entry
        if entry == SOURCE_CODE and module:
            text = decode_text(given) + NUCLIO_ENTRY
            build[SOURCE_KEY] = encode_text(text)[SOURCE_KEY]
            handler = f"{module}:handler"
    servegraph = requirement or given.get("servegraph_requirement")
    installs = [*(given.get("requirements") or []), *([servegraph] if servegraph else [])]
    build["commands"] = [
        *(given.get("commands") or []),
        *([f"pip install {' '.join(shlex.quote(str(r)) for r in installs)}"] if installs else []),
        *commands,
    ]
    image = base_image or spec.get("image") or given.get("base_image") or given.get("baseImage")
    if image:
        build["baseImage"] = image
    return build, handler


def _check_replicas(min_replicas: int | None, max_replicas: int | None) -> None:
    for label, value in (("min_replicas", min_replicas), ("max_replicas", max_replicas)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise DeployError(
                f"The '{label}' parameter of build_nuclio_spec must be an int >= 0. "
                f"Got {value!r} instead."
            )
    if min_replicas is not None and max_replicas is not None and min_replicas > max_replicas:
        raise DeployError(
            f"min_replicas ({min_replicas}) must not exceed max_replicas ({max_replicas})."
        )


def build_nuclio_spec(
    fn_dict: Mapping[str, Any],
    *,
    serving_spec: Mapping[str, Any] | None = None,
    namespace: str | None = None,
    http_port: int | None = None,
    http_workers: int | None = None,
    stream_triggers: Sequence[str | Mapping[str, Any]] = (),
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    resources: Mapping[str, Any] | None = None,
    requirement: str | None = None,
    commands: Sequence[str] = (),
    base_image: str | None = None,
) -> dict[str, Any]:
    """Build the Nuclio function spec of a serving function dict (``fn.to_dict()``).

    ``fn_dict`` has ``metadata`` (name, project, labels) and ``spec`` (graph,
    parameters, env, build, min/max replicas, resources); keyword arguments
    override the spec. ``requirement`` is how pip installs servegraph at build
    time (default: ``spec.build.servegraph_requirement``; servegraph is not on
    PyPI, so nothing is installed unless told, e.g. a wheel URL or
    ``servegraph @ git+https://...``).
    """
    metadata = fn_dict.get("metadata") or {}
    spec = fn_dict.get("spec") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise DeployError(f"A Nuclio function needs metadata.name. Got {name!r} instead.")
    project = metadata.get("project") or ""
    min_replicas = spec.get("min_replicas") if min_replicas is None else min_replicas
    max_replicas = spec.get("max_replicas") if max_replicas is None else max_replicas
    _check_replicas(min_replicas, max_replicas)
    serving = dict(serving_spec) if serving_spec is not None else serving_spec_of(fn_dict)

    labels = dict(metadata.get("labels") or {})
    if project:
        labels[PROJECT_LABEL] = project
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace

    env = [{"name": SERVING_SPEC_ENV, "value": json.dumps(serving, separators=(",", ":"))}]
    user_env = spec.get("env") or []
    items = (
        user_env.items()
        if isinstance(user_env, Mapping)
        else [(e["name"], e.get("value", "")) for e in user_env]
    )
    env += [{"name": k, "value": str(v)} for k, v in items if k != SERVING_SPEC_ENV]

    build, handler = nuclio_build(
        spec, requirement=requirement, commands=commands, base_image=base_image
    )

    triggers: dict[str, Any] = {
        "http": http_trigger(spec.get("http") or {}, http_port, http_workers)
    }
    for index, source in enumerate(stream_triggers):
        triggers[f"stream-{index}"] = stream_trigger(source, name)
    queue = spec.get("stream_source")  # a child function reads its queue
    if isinstance(queue, str) and queue.startswith("kafka://"):
        triggers["queue"] = stream_trigger(queue, name)
    for trigger_name, section in (spec.get("triggers") or {}).items():  # fn.add_trigger
        triggers[trigger_name] = dict(section)

    body: dict[str, Any] = {
        "runtime": RUNTIME,
        "handler": handler,
        "env": env,
        "build": build,
        "triggers": triggers,
    }
    if min_replicas is not None:
        body["minReplicas"] = min_replicas
    if max_replicas is not None:
        body["maxReplicas"] = max_replicas
    res = resources if resources is not None else spec.get("resources")
    if res:
        body["resources"] = dict(res)
    return {"apiVersion": "nuclio.io/v1", "kind": "NuclioFunction", "metadata": meta, "spec": body}


def to_yaml(nuclio_spec: Mapping[str, Any]) -> str:
    """Render a Nuclio spec as YAML (the ``function.yaml`` format)."""
    return yaml.safe_dump(dict(nuclio_spec), sort_keys=False)
