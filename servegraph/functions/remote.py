"""Kind ``nuclio``: invoke a function over HTTP with the run spec and keep the returned run.

The function behind the URL is a Nuclio-style ``handler(context, event)`` that
calls ``get_or_create_ctx(name, event=event)`` and returns ``ctx.to_yaml()``
(or ``to_dict()``). The request body is the run dict plus a ``secrets`` dict
(the values of its secret sources, never stored on either side).

>>> fn = new_function("remote", kind="nuclio", url="http://fn:8080")   # doctest: +SKIP
>>> fn.run(params={"p1": 5}).outputs                                    # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import aiohttp
import yaml

from servegraph.errors import RunError
from servegraph.functions.base import Function
from servegraph.functions.execute import execute
from servegraph.functions.local import code_file
from servegraph.functions.runspec import merge_run, now_str
from servegraph.functions.secrets import SecretsStore
from servegraph.storage.rundb import RunDB

DEFAULT_TIMEOUT = 300.0


async def _post(url: str, body: dict[str, Any], timeout: float) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.post(url, json=body) as resp,
    ):
        return resp.status, await resp.text()


def post_json(url: str, body: dict[str, Any], timeout: float = DEFAULT_TIMEOUT) -> tuple[int, str]:
    """POST ``body`` as JSON; RunError names the URL when it cannot be reached."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:  # called from async code: do it on a helper thread with its own loop
        in_loop = True
    try:
        if in_loop:
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                result = pool.submit(asyncio.run, _post(url, body, timeout)).result()
        else:
            result = asyncio.run(_post(url, body, timeout))
        return result
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise RunError(f"The function URL {url!r} cannot be reached: {exc}") from exc


def invoke(
    url: str, run: dict[str, Any], secrets: dict[str, str], db: RunDB, timeout: float
) -> dict[str, Any]:
    """Send ``run`` to the function at ``url``, store and return the run it returns."""
    store = SecretsStore()
    store.add_sources(run["spec"].get("secret_sources") or [], secrets)
    sources = run["spec"].get("secret_sources") or []
    sent = {**run, "spec": {**run["spec"], "secret_sources": []}}
    body = {**sent, "secrets": store.items()}
    status, text = post_json(url, body, timeout)
    if status >= 400:
        run["status"].update(state="error", error=f"HTTP {status}: {store.mask(text)[:500]}")
    else:
        try:
            returned = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = store.mask(f"The function at {url!r} did not return a run: {exc}")
            raise RunError(msg) from None  # the YAML error quotes the reply
        if not isinstance(returned, dict) or "status" not in returned:
            got = store.mask(text)[:200]  # masked before cutting: no half secret
            raise RunError(f"The function at {url!r} did not return a run. Got {got!r}.")
        returned.get("metadata", {}).update(uid=run["metadata"]["uid"])
        run = merge_run(run, returned)
        run["spec"]["secret_sources"] = sources
        if run["status"].get("state") in ("created", "running"):
            run["status"]["state"] = "completed"
    run["status"]["last_update"] = now_str()
    masked: dict[str, Any] = store.mask_values(run)  # the caller prints it: masked too
    db.store_run(masked)
    return masked


class RemoteFunction(Function):
    """A function reachable over HTTP (``spec.url``); ``local=True`` runs its handler here."""

    kind = "nuclio"

    def __init__(self, name: str = "", project: str = "", url: str = "", **spec: Any) -> None:
        super().__init__(name=name, project=project, url=url, **spec)

    def _execute(
        self,
        run: dict[str, Any],
        secrets: dict[str, str],
        watch: bool,
        db: RunDB,
        local: bool | None,
    ) -> dict[str, Any]:
        url = str(self.spec.get("url") or "")
        if local or not url:
            if not self.code() and not self.spec.get("command"):
                raise RunError(f"The nuclio function {self.name!r} needs a 'url' or code to run.")
            run["spec"]["runtime"]["command"] = code_file(self)
            return execute(run, secrets=secrets, rundb=db.url, watch=watch)
        timeout = float(self.spec.get("timeout") or DEFAULT_TIMEOUT)
        return invoke(url, run, secrets, db, timeout)
