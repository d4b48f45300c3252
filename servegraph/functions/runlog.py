"""The run's logger: timestamped lines on stdout, with secret values masked."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from servegraph.functions.runspec import now_str


class RunLogger:
    """``ctx.logger.info("msg", key=value)`` prints ``> time [info] msg {key: value}``."""

    def __init__(self, name: str, mask: Callable[[str], str]) -> None:
        self.name = name
        self._mask = mask

    def _log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        extra = f" {fields}" if fields else ""
        print(self._mask(f"> {now_str()} [{level}] {message}{extra}"), file=sys.stdout, flush=True)

    def debug(self, message: str, **fields: Any) -> None:
        """Log at debug level."""
        self._log("debug", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        """Log at info level."""
        self._log("info", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        """Log at warning level."""
        self._log("warning", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        """Log at error level."""
        self._log("error", message, fields)
