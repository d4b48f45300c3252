"""Notifiers by name: ``log``, ``webhook``, ``file``.

>>> notifier_from_spec({"file": {"path": "/tmp/a.jsonl"}}).path.name
'a.jsonl'
>>> type(notifier_from_spec("log")).__name__
'LogNotifier'
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import MonitoringError
from servegraph.monitoring.alerts.notifiers.base import Notifier
from servegraph.monitoring.alerts.notifiers.file import FileNotifier
from servegraph.monitoring.alerts.notifiers.log import LogNotifier
from servegraph.monitoring.alerts.notifiers.webhook import WebhookNotifier

__all__ = ["NOTIFIERS", "FileNotifier", "LogNotifier", "Notifier", "WebhookNotifier"]

NOTIFIERS: dict[str, type[Any]] = {
    "log": LogNotifier,
    "webhook": WebhookNotifier,
    "file": FileNotifier,
}


def notifier_from_spec(spec: str | dict[str, Any]) -> Notifier:
    """Build a notifier from ``"log"`` or ``{"webhook": {"url": ...}}``."""
    options: dict[str, Any] = {}
    if isinstance(spec, str):
        kind = spec
    elif isinstance(spec, dict) and len(spec) == 1:
        kind, given = next(iter(spec.items()))
        options = dict(given or {})
    else:
        raise MonitoringError(
            f"A notifier spec must be a name or a one-key mapping. Got {spec!r} instead."
        )
    cls = NOTIFIERS.get(kind)
    if cls is None:
        raise MonitoringError(
            f"A notifier must be one of {', '.join(sorted(NOTIFIERS))}. Got {kind!r} instead."
        )
    try:
        notifier: Notifier = cls(**options)
    except TypeError as exc:
        raise MonitoringError(f"invalid options for the {kind} notifier: {exc}") from exc
    return notifier
