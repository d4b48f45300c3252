"""The checks of StreamTracker's numeric options (batch, sample, buffer sizes)."""

from __future__ import annotations

from servegraph.errors import ConfigError


def positive(name: str, value: int | None, default: int) -> int:
    """``value`` checked to be a positive int, or ``default`` when None."""
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"The '{name}' parameter of StreamTracker must be a positive int. "
            f"Got {value!r} instead."
        )
    return value


def sample_every(value: float | None) -> int:
    """Keep every N-th record: ``sample`` N >= 1, or a fraction in (0, 1) kept."""
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(
            "The 'sample' parameter of StreamTracker must be a positive number (every N-th "
            f"record, or a fraction below 1). Got {value!r} instead."
        )
    if value < 1:
        return max(1, round(1 / value))
    if value != int(value):
        raise ConfigError(
            "The 'sample' parameter of StreamTracker must be a whole N >= 1 or a fraction "
            f"below 1. Got {value!r} instead."
        )
    return int(value)
