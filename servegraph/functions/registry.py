"""The model registry: versions and tags of the models runs log.

Every ``ctx.log_model(key, ...)`` stores a version (by content hash) of the
model ``key``; tags (``latest``, ``v2``, ``production``...) point at versions
and move. A version is addressed by ``store://models/{project}/{key}[:tag][@uid]``.

>>> versions = list_models("shop", "fraud")                             # doctest: +SKIP
>>> get_model("store://models/shop/fraud:production")["metadata"]["hash"]  # doctest: +SKIP
>>> tag_model("store://models/shop/fraud:v2", "production")              # doctest: +SKIP

Each tag move is kept as an event of the version it points to (``status.events``:
``{"time", "action": "tagged", "tag", "by", "reason"}``); :func:`model_events`
lists them, newest first, across versions: the promotion history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servegraph.errors import RunError
from servegraph.storage.rundb import RunDB, get_run_db
from servegraph.storage.uri import make_store_uri, parse_store_uri


def list_models(
    project: str | None = None, key: str | None = None, tag: str | None = None, db: Any = None
) -> list[dict[str, Any]]:
    """Model versions (newest first), each with its tags, metrics and producing run."""
    db = db or get_run_db()
    return [version_summary(m) for m in db.list_artifacts(project, key, "model", tag)]


def version_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The registry view of a model artifact record (plain values, for tables and JSON)."""
    meta, spec = record.get("metadata", {}), record.get("spec", {})
    producer = spec.get("producer") or {}
    project, key, uid = meta.get("project", ""), meta.get("key", ""), meta.get("hash", "")
    return {
        "project": project,
        "key": key,
        "uid": uid,
        "uri": make_store_uri("models", project, key, meta.get("tag") or "latest", uid),
        "tags": list(meta.get("tags") or []),
        "metrics": dict(spec.get("metrics") or {}),
        "run": producer.get("uid", ""),
        "run_name": producer.get("name", ""),
        "updated": meta.get("updated", ""),
        "target_path": spec.get("target_path", ""),
        "events": list((record.get("status") or {}).get("events") or []),
    }


def get_model(uri: str, db: Any = None) -> dict[str, Any]:
    """The model artifact record a ``store://models/...`` URI names (tag or ``@uid``)."""
    ref = parse_store_uri(uri, ("models",))
    db = db or get_run_db()
    record: dict[str, Any] = db.read_artifact(
        ref.key, tag=ref.tag, project=ref.project, hash_=ref.uid or None
    )
    return record


def tag_model(
    uri: str, tag: str, *, by: str = "", reason: str = "", db: RunDB | None = None
) -> dict[str, Any]:
    """Point ``tag`` at the version ``uri`` names; the move is recorded on that version.

    >>> tag_model("store://models/shop/fraud:v2", "production", by="ops")  # doctest: +SKIP
    """
    if not tag or "/" in tag or ":" in tag or "@" in tag:
        raise RunError(f"The 'tag' must be a name without '/', ':' or '@'. Got {tag!r} instead.")
    db = db or get_run_db()
    record = get_model(uri, db)
    meta = record["metadata"]
    event = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "action": "tagged",
        "tag": tag,
        "by": by,
        "reason": reason,
    }
    return db.update_artifact_version(meta["key"], meta["project"], meta["hash"], tag, event)


def record_model_event(uri: str, action: str, db: RunDB | None = None, **details: Any) -> None:
    """Append an event (``loaded``, ``canary``, ``rejected``...) to a version's history."""
    db = db or get_run_db()
    record = get_model(uri, db)
    meta = record["metadata"]
    event = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, **details}
    db.update_artifact_version(meta["key"], meta["project"], meta["hash"], event=event)


def model_events(project: str, key: str | None = None, db: Any = None) -> list[dict[str, Any]]:
    """The history of a model's versions (tags moved, loads, canaries), newest first."""
    events = []
    for version in list_models(project, key, db=db):
        for event in version["events"]:
            events.append({**event, "key": version["key"], "uid": version["uid"]})
    return sorted(events, key=lambda e: str(e.get("time", "")), reverse=True)


__all__ = [
    "get_model",
    "list_models",
    "model_events",
    "record_model_event",
    "tag_model",
    "version_summary",
]
