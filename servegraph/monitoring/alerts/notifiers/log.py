"""Alerts as log records (``logging``, logger ``servegraph.alerts``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servegraph.monitoring.alerts.engine import Alert


class LogNotifier:
    """Log each alert at ``level`` (WARNING).

    >>> LogNotifier(level="ERROR").level
    40
    """

    def __init__(self, *, level: str = "WARNING", logger: str = "servegraph.alerts") -> None:
        self.level = logging.getLevelNamesMapping()[level.upper()]
        self.logger = logging.getLogger(logger)

    async def notify(self, alert: Alert) -> None:
        self.logger.log(self.level, "ALERT %s", alert.message, extra={"alert": alert.to_dict()})
