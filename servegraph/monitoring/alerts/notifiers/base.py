"""The notifier interface: deliver one alert somewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from servegraph.monitoring.alerts.engine import Alert


class Notifier(Protocol):
    """Delivers alerts; raises MonitoringError when it cannot."""

    async def notify(self, alert: Alert) -> None: ...
