"""Online materialization: the online stores refilled from the offline store.

``materialize(fset, start, end)`` reads the offline rows of ``[start, end)``,
keeps the latest row per entity and writes them to every online target in bulk
(Redis: MULTI/EXEC pipelines of ``batch_size`` entities; SQLite: one
``executemany`` transaction)::

    materialize("orders", start="2024-05-01", end="2024-05-02")
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from servegraph.errors import FeatureStoreError, OnlineStoreError

from .feature_set import FeatureSet, get_feature_set
from .targets import OnlineTarget, WriteReport
from .writer import latest_rows


def _time(value: datetime | str | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise FeatureStoreError(
            f"The {name!r} parameter of materialize must be a time. Got {value!r} instead."
        ) from exc


def materialize(
    featureset: FeatureSet | str,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    batch_size: int = 1000,
) -> list[WriteReport]:
    """Write the latest offline row per entity within ``[start, end)`` to the online targets.

    Entities without rows in the range keep their online values. Returns one
    report per online target (entity rows written of total).
    """
    fset = get_feature_set(featureset)
    lower, upper = _time(start, "start"), _time(end, "end")
    if lower is not None and upper is not None and lower >= upper:
        raise FeatureStoreError(
            f"materialize needs start < end. Got start={lower} and end={upper}."
        )
    if (lower is not None or upper is not None) and fset.timestamp_key is None:
        raise FeatureStoreError(
            f"Feature set {fset.name!r} has no timestamp_key: materialize it without a time range."
        )
    df = fset.offline_target().read(fset.key, fset.timestamp_key, lower, upper)
    rows = latest_rows(fset, df) if not df.empty else {}
    reports: list[WriteReport] = []
    for target in fset.get_targets():
        if not isinstance(target, OnlineTarget):
            continue
        store = target.open()
        try:
            reports.append(store.write(fset.key, rows, batch_size=batch_size))
        except OnlineStoreError as exc:
            raise OnlineStoreError(f"materializing {fset.uri}: {exc}") from exc
        finally:
            store.close()
    return reports
