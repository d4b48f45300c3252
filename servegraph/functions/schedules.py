"""Cron strings of schedules, validated and evaluated with croniter.

>>> validate_cron("*/15 * * * *")
'*/15 * * * *'
>>> next_runs("0 2 * * *", datetime(2026, 1, 1, tzinfo=UTC), 2)
['2026-01-01T02:00:00+00:00', '2026-01-02T02:00:00+00:00']
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter

from servegraph.errors import RunError


def validate_cron(cron: str) -> str:
    """Return ``cron`` if it is a valid 5-field cron string, else raise RunError."""
    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise RunError(
            f"The schedule 'cron' must be a 5-field cron string like '0 2 * * *'. Got {cron!r}."
        )
    return cron


def next_runs(cron: str, start: datetime | None = None, count: int = 1) -> list[str]:
    """The next ``count`` fire times of ``cron`` after ``start`` (ISO-8601)."""
    it = croniter(validate_cron(cron), start or datetime.now(UTC))
    return [it.get_next(datetime).isoformat() for _ in range(count)]
