"""Alerts POSTed as JSON to a webhook URL with aiohttp."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

from servegraph.errors import MonitoringError

if TYPE_CHECKING:
    from servegraph.monitoring.alerts.engine import Alert


class WebhookNotifier:
    """POST each alert's JSON to ``url``; a non-2xx answer or no answer is an error.

    >>> WebhookNotifier(url="https://hooks.example/alerts", timeout_s=2).timeout_s
    2
    """

    def __init__(
        self, *, url: str, headers: dict[str, str] | None = None, timeout_s: float = 10
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise MonitoringError(
                f"The 'url' parameter of WebhookNotifier must be an http(s) URL. Got {url!r}."
            )
        self.url = url
        self.headers = headers or {}
        self.timeout_s = timeout_s

    async def notify(self, alert: Alert) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.url, json=alert.to_dict(), headers=self.headers) as resp,
            ):
                if resp.status >= 300:
                    body = await resp.text()
                    raise MonitoringError(
                        f"webhook {self.url} answered {resp.status} to an alert: {body[:200]}"
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MonitoringError(f"webhook {self.url} could not be reached: {exc}") from exc
