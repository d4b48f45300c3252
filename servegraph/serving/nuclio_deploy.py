"""Deploy a Nuclio function spec through a Nuclio dashboard's REST API.

Creates the function (``POST /api/functions``) or updates it (``PUT
/api/functions/{name}``) when it exists, then polls ``GET /api/functions/{name}``
until ``status.state`` is ``ready`` and returns the function's invocation URL.

>>> url = deploy(build_nuclio_spec(fn.to_dict()), "http://nuclio:8070")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import aiohttp

from servegraph.config import get_config
from servegraph.errors import DeployError
from servegraph.serving.nuclio_spec import PROJECT_LABEL

DASHBOARD_ENV = "SERVEGRAPH_NUCLIO_DASHBOARD"
FAILED_STATES = frozenset({"error", "unhealthy"})


def resolve_dashboard(dashboard: str | None) -> str:
    """Return the dashboard URL: the argument, else SERVEGRAPH_NUCLIO_DASHBOARD."""
    url = dashboard or get_config().nuclio_dashboard
    if not url:
        raise DeployError(
            "No Nuclio dashboard to deploy to: pass dashboard='http://host:8070' or set "
            f"the {DASHBOARD_ENV} environment variable (fn.export() writes the spec without one)."
        )
    if "://" not in url:
        url = f"http://{url}"
    return url.rstrip("/")


def invocation_url(function: Mapping[str, Any], dashboard: str) -> str:
    """Return the URL of a deployed function from its dashboard record."""
    status = function.get("status") or {}
    for key in ("externalInvocationUrls", "internalInvocationUrls"):
        urls = status.get(key) or []
        if urls:
            url = str(urls[0])
            return url if "://" in url else f"http://{url}"
    port = status.get("httpPort") or (function.get("spec") or {}).get("httpPort")
    if port:
        return f"http://{urlparse(dashboard).hostname}:{port}"
    raise DeployError(f"Function is ready but the dashboard gave no address: {status!r}")


class _Dashboard:
    """Thin client of the dashboard's function endpoints."""

    def __init__(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]):
        self.session, self.url, self.headers = session, url, headers

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        try:
            async with self.session.request(
                method, f"{self.url}{path}", json=body, headers=self.headers
            ) as resp:
                text = await resp.text()
                if resp.status >= 400 and resp.status != 404:
                    raise DeployError(
                        f"Nuclio dashboard {method} {path} answered {resp.status}: {text[:500]}"
                    )
                if resp.content_type == "application/json" and text:
                    return resp.status, await resp.json()
                return resp.status, text
        except aiohttp.ClientError as exc:
            raise DeployError(f"Cannot reach the Nuclio dashboard at {self.url}: {exc}") from exc


async def deploy_async(
    spec: Mapping[str, Any],
    dashboard: str | None = None,
    *,
    timeout: float = 600.0,
    poll_interval: float = 2.0,
) -> str:
    """Deploy ``spec`` (from build_nuclio_spec) and wait until ready; return its URL."""
    url = resolve_dashboard(dashboard)
    metadata = spec.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        raise DeployError("The Nuclio spec has no metadata.name.")
    namespace = metadata.get("namespace") or "nuclio"
    headers = {"x-nuclio-function-namespace": namespace}
    project = (metadata.get("labels") or {}).get(PROJECT_LABEL)
    if project:
        headers["x-nuclio-project-name"] = project
    body = {"metadata": dict(metadata, namespace=namespace), "spec": spec.get("spec") or {}}
    client_timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        api = _Dashboard(session, url, headers)
        status, _ = await api.request("GET", f"/api/functions/{name}")
        if status == 404:
            status, _ = await api.request("POST", "/api/functions", body)
        else:
            status, _ = await api.request("PUT", f"/api/functions/{name}", body)
        if status == 404:
            raise DeployError(f"Nuclio dashboard at {url} has no /api/functions endpoint.")
        deadline = time.monotonic() + timeout
        while True:
            status, function = await api.request("GET", f"/api/functions/{name}")
            state = (function.get("status") or {}).get("state") if status == 200 else None
            if state == "ready":
                return invocation_url(function, url)
            if state in FAILED_STATES:
                message = (function.get("status") or {}).get("message", "")
                raise DeployError(f"Nuclio failed to deploy {name!r} ({state}): {message}")
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"Function {name!r} was not ready after {timeout}s (last state {state!r})."
                )
            await asyncio.sleep(poll_interval)


def deploy(
    spec: Mapping[str, Any],
    dashboard: str | None = None,
    *,
    timeout: float = 600.0,
    poll_interval: float = 2.0,
) -> str:
    """Deploy ``spec`` to a Nuclio dashboard and wait until ready; return its URL.

    ``dashboard`` defaults to the SERVEGRAPH_NUCLIO_DASHBOARD setting; without
    either, DeployError says what to set. Call :func:`deploy_async` from
    inside a running event loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(
            deploy_async(spec, dashboard, timeout=timeout, poll_interval=poll_interval)
        )
    raise DeployError("deploy() was called inside an event loop; await deploy_async() instead.")
