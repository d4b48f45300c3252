"""Deployment settings of a serving function (MLRun's conveniences), kept in its spec.

    fn.set_envs({"LOG_LEVEL": "debug"}).with_http(workers=8, port=8080)
    fn.with_limits(mem="2G", cpu=2).with_requests(mem="1G", cpu="500m")
    print(fn.plot())      # the graph as Mermaid text

Everything lands in ``fn.spec`` (``env``, ``http``, ``resources``), so
``fn.to_dict()`` and the exported Nuclio function.yaml carry it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from servegraph.errors import GraphError

if TYPE_CHECKING:
    from servegraph.functions.serving import ServingSpec

TRACKER_CLASS = "servegraph.monitoring.tracking:StreamTracker"
# a Kubernetes quantity: 2, 0.5, 500m, 1Gi, 512M ...
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")


class ServingOptions:
    """Mixin of ServingFunction: tracking, environment, HTTP trigger, resources, plot."""

    spec: ServingSpec

    def set_tracking(
        self,
        stream_path: str | None = None,
        batch: int | None = None,
        sample: float | None = None,
        stream_args: Mapping[str, Any] | None = None,
        enable_tracking: bool = True,
        *,
        sampling_percentage: float | None = None,
    ) -> None:
        """Log every model request to a stream (``spec.tracking``, read by the server).

        ``batch`` records per push; ``sample`` keeps every N-th record (or a fraction
        below 1), ``sampling_percentage`` (MLRun's name) the percentage kept;
        ``stream_args`` go to the stream backend; ``enable_tracking=False`` turns it off.
        """
        if not enable_tracking:
            self.spec.tracking = None
            return
        if batch is not None and (not isinstance(batch, int) or batch <= 0):
            raise GraphError(
                f"The 'batch' parameter of set_tracking must be a positive int. Got {batch!r}."
            )
        if sampling_percentage is not None:
            if sample is not None:
                raise GraphError("set_tracking takes 'sample' or 'sampling_percentage', not both")
            if (
                not isinstance(sampling_percentage, int | float)
                or not 0 < sampling_percentage <= 100
            ):
                raise GraphError(
                    "The 'sampling_percentage' parameter of set_tracking must be in (0, 100]. "
                    f"Got {sampling_percentage!r}."
                )
            sample = None if sampling_percentage == 100 else sampling_percentage / 100
        if sample is not None and (not isinstance(sample, int | float) or sample <= 0):
            raise GraphError(
                f"The 'sample' parameter of set_tracking must be a positive number. Got {sample!r}."
            )
        self.spec.tracking = {
            "class": TRACKER_CLASS,
            "stream_path": stream_path,
            "batch": batch,
            "sample": sample,
            "stream_args": dict(stream_args) if stream_args else None,
        }

    def set_env(self, name: str, value: str) -> Self:
        """Set an environment variable of the deployed function."""
        self.spec.env[name] = str(value)
        return self

    def set_envs(
        self, env_vars: Mapping[str, Any] | None = None, file_path: str | Path | None = None
    ) -> Self:
        """Set several environment variables, from a dict and/or a ``KEY=value`` file."""
        values: dict[str, str] = {}
        if file_path is not None:
            values.update(_read_env_file(Path(file_path)))
        values.update({str(k): str(v) for k, v in (env_vars or {}).items()})
        if env_vars is None and file_path is None:
            raise GraphError("set_envs needs env_vars (a dict) or file_path")
        self.spec.env.update(values)
        return self

    def with_http(
        self,
        workers: int | None = 8,
        port: int | None = None,
        host: str | None = None,
        worker_timeout: int | None = None,
        gateway_timeout: int | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> Self:
        """Configure the HTTP trigger: worker count, port, ingress host, timeouts."""
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise GraphError(
                f"The 'workers' parameter of with_http must be a positive int. Got {workers!r}."
            )
        if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
            raise GraphError(
                f"The 'port' parameter of with_http must be a TCP port. Got {port!r} instead."
            )
        http = {
            "workers": workers,
            "port": port,
            "host": host,
            "worker_timeout": worker_timeout,
            "gateway_timeout": gateway_timeout,
            "annotations": dict(annotations) if annotations else None,
        }
        self.spec.http = {k: v for k, v in http.items() if v is not None}
        return self

    def with_limits(
        self,
        mem: str | None = None,
        cpu: str | float | None = None,
        gpus: int | None = None,
        gpu_type: str = "nvidia.com/gpu",
        patch: bool = False,
    ) -> Self:
        """Set the resource limits (Kubernetes quantities: ``mem="2Gi"``, ``cpu="500m"``)."""
        limits: dict[str, Any] = {"memory": _quantity("mem", mem), "cpu": _quantity("cpu", cpu)}
        if gpus is not None:
            if not isinstance(gpus, int) or gpus < 0:
                raise GraphError(
                    f"The 'gpus' parameter of with_limits must be an int >= 0. Got {gpus!r}."
                )
            limits[gpu_type] = gpus
        self._set_resources("limits", limits, patch)
        return self

    def with_requests(
        self, mem: str | None = None, cpu: str | float | None = None, patch: bool = False
    ) -> Self:
        """Set the resource requests (what the scheduler reserves)."""
        self._set_resources(
            "requests", {"memory": _quantity("mem", mem), "cpu": _quantity("cpu", cpu)}, patch
        )
        return self

    def _set_resources(self, kind: str, values: dict[str, Any], patch: bool) -> None:
        given = {k: v for k, v in values.items() if v is not None}
        current = self.spec.resources.get(kind, {}) if patch else {}
        self.spec.resources[kind] = {**current, **given}

    def plot(
        self, filename: str | None = None, format: str | None = None, rankdir: str = "LR"
    ) -> str:
        """Draw the function's graph (Mermaid text by default; see ``BaseStep.plot``)."""
        graph = self.spec.graph
        if graph is None:
            raise GraphError("the function has no graph to plot; call set_topology() first")
        text: str = graph.plot(filename, format=format, rankdir=rankdir)
        return text


def _quantity(name: str, value: str | float | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _QUANTITY.match(text):
        raise GraphError(
            f"The {name!r} parameter must be a Kubernetes quantity such as '2', '500m' or "
            f"'1Gi'. Got {value!r} instead."
        )
    return text


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise GraphError(f"set_envs: the env file {str(path)!r} does not exist")
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise GraphError(f"set_envs: line {number} of {str(path)!r} is not KEY=value: {raw!r}")
        values[key.strip()] = value.strip().strip("'\"")
    return values
