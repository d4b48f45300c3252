"""Impute policies: what a missing online feature value becomes.

A policy maps a feature (output column) or ``"*"`` to a constant or to a
statistic of the feature set's reference statistics: ``"$mean"``, ``"$min"``,
``"$max"``, ``"$std"``, ``"$median"`` (any key of the stats, ``$median`` being ``50%``).

>>> ImputePolicy({"*": 0, "age": "$mean"}).fill_value("age", {"mean": 41.5})
41.5
>>> ImputePolicy({"*": 0}).fill_value("spend", {})
0
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import FeatureNotFoundError, FeatureStoreError

_ALIASES = {"median": "50%"}
_NO_FILL = object()


class ImputePolicy:
    """Per-feature (or ``"*"``) fill values; statistics are looked up once, at service creation."""

    def __init__(self, policy: dict[str, Any]) -> None:
        if not isinstance(policy, dict):
            raise FeatureStoreError(
                f"The 'impute_policy' must be a dict of feature (or '*') -> value. Got {policy!r}."
            )
        self.policy = dict(policy)

    def fill_value(self, column: str, stats: dict[str, Any], feature: str | None = None) -> Any:
        """The value a missing ``column`` gets (``_NO_FILL`` when none applies).

        A ``"*"`` statistic rule skips features whose stats lack it (text columns);
        a rule naming the feature raises instead.
        """
        explicit = column in self.policy
        rule = self.policy[column] if explicit else self.policy.get("*", _NO_FILL)
        if not (isinstance(rule, str) and rule.startswith("$")):
            return rule
        stat = _ALIASES.get(rule[1:], rule[1:])
        if stat not in stats and not explicit and stats:
            return _NO_FILL  # "*" skips features without that statistic (e.g. text)
        if stat not in stats:
            raise FeatureStoreError(
                f"Impute policy {rule!r} for feature {feature or column!r}: the feature set's "
                f"statistics have no {stat!r} (available: {sorted(stats) or 'none; ingest first'})."
            )
        return stats[stat]

    def resolve(self, columns: list[tuple[str, str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
        """column -> fill value for (feature, column, set stats) triples that have a rule."""
        known = {name for feature, column, _ in columns for name in (feature, column)}
        unknown = sorted(set(self.policy) - known - {"*"})
        if unknown:
            raise FeatureNotFoundError(
                f"The 'impute_policy' names {unknown}, which the vector does not have "
                f"(its features: {sorted({column for _, column, _ in columns})})."
            )
        out: dict[str, Any] = {}
        for feature, column, stats in columns:
            value = self.fill_value(column, stats.get(feature, {}), feature)
            if value is not _NO_FILL:
                out[column] = value
        return out
