"""Alerts appended to a file, one JSON document a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from servegraph.errors import MonitoringError

if TYPE_CHECKING:
    from servegraph.monitoring.alerts.engine import Alert


class FileNotifier:
    """Append each alert as a JSON line to ``path``.

    >>> FileNotifier(path="/tmp/alerts.jsonl").path.name
    'alerts.jsonl'
    """

    def __init__(self, *, path: str | Path) -> None:
        self.path = Path(path)

    async def notify(self, alert: Alert) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(alert.to_dict()) + "\n")
        except OSError as exc:
            raise MonitoringError(f"cannot write the alert to {self.path}: {exc}") from exc
