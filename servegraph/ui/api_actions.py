"""API actions (the only writes; they need the token when the dashboard has one):
stop a running run, promote a model version (point a tag at it)."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

from aiohttp import web

from servegraph.errors import BadRequestError
from servegraph.functions.job import pid_file
from servegraph.functions.registry import tag_model
from servegraph.functions.runspec import now_str
from servegraph.storage.uri import make_store_uri
from servegraph.ui.base import Param, Route, UIState, blocking, reply, state

RUNNING = ("created", "running")


def stop_run(st: UIState, project: str, uid: str) -> dict[str, Any]:
    """Interrupt the run's process (it records itself ``aborted``), or, without a
    process on this host, mark the record aborted."""
    run = st.db.read_run(uid, project)
    current = run.get("status", {}).get("state")
    if current not in RUNNING:
        raise BadRequestError(f"run {uid!r} is not running (state {current!r})")
    pids = pid_file(uid, st.config.home)
    try:
        pid = int(pids.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid:
        try:
            os.kill(pid, signal.SIGINT)  # the run's code gets KeyboardInterrupt: aborted
            return {"uid": uid, "stopped": True, "how": f"sent SIGINT to process {pid}"}
        except ProcessLookupError:
            pass
    run["status"].update(state="aborted", error="stopped from the dashboard", last_update=now_str())
    st.db.store_run(run)
    return {"uid": uid, "stopped": True, "how": "no process on this host: marked aborted"}


async def post_stop(request: web.Request) -> web.Response:
    st = state(request)
    project, uid = request.match_info["project"], request.match_info["uid"]
    return reply(await blocking(lambda: stop_run(st, project, uid)))


def promote(st: UIState, project: str, key: str, hash_: str, tag: str) -> dict[str, Any]:
    """Point ``tag`` at the version ``hash_`` of the model ``key`` (the model registry's
    ``tag_model``: the move is kept in the version's history)."""
    uri = make_store_uri("models", project, key, "latest", hash_)
    record = tag_model(uri, tag, by="dashboard", reason="promoted from the dashboard", db=st.db)
    return {"key": key, "hash": hash_, "tags": record["metadata"]["tags"]}


async def post_promote(request: web.Request) -> web.Response:
    st = state(request)
    project, key = request.match_info["project"], request.match_info["key"]
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequestError('the body must be JSON: {"hash": ..., "tag": ...}') from None
    hash_ = payload.get("hash") if isinstance(payload, dict) else None
    tag = payload.get("tag", "production") if isinstance(payload, dict) else None
    if not isinstance(hash_, str) or not hash_ or not isinstance(tag, str) or not tag.strip():
        raise BadRequestError(
            f'The body must name the version and the tag: {{"hash": ..., "tag": ...}}. '
            f"Got {payload!r}."
        )
    if any(c in tag for c in "/:@"):
        raise BadRequestError(f"The 'tag' must be a name without '/', ':' or '@'. Got {tag!r}.")
    return reply(await blocking(lambda: promote(st, project, key, hash_, tag.strip())))


ROUTES = [
    Route(
        "POST",
        "/api/runs/{project}/{uid}/stop",
        post_stop,
        "Stop a running run (its process is interrupted and records the run aborted)",
        (Param("project", "path"), Param("uid", "path")),
        action=True,
    ),
    Route(
        "POST",
        "/api/models/{project}/{key}/promote",
        post_promote,
        'Promote a model version: body {"hash": ..., "tag": "production"}',
        (Param("project", "path"), Param("key", "path")),
        action=True,
    ),
]
