"""Writing ingested rows to a feature set's targets.

Offline targets get every row; online targets get the latest row per entity
(by the timestamp key, else the last seen), replaced atomically per batch. A
failed online write raises OnlineStoreError saying what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from servegraph.errors import OnlineStoreError

from .feature_set import FeatureSet
from .targets import OfflineTarget, OnlineTarget, WriteReport
from .targets.base import jsonable


def _escaped(value: Any) -> str:
    return str(jsonable(value)).replace("\\", "\\\\").replace(".", "\\.")


def entity_key(values: Sequence[Any]) -> str:
    """The store key of an entity: its values, ``\\`` and ``.`` escaped, joined by ``.``,
    so two different entity tuples never share a key.

    >>> entity_key([7, "eu"])
    '7.eu'
    >>> entity_key(["1.2", "3"]) != entity_key(["1", "2.3"])
    True
    """
    return ".".join(map(_escaped, values))


def latest_rows(fset: FeatureSet, df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """entity key -> the entity's latest row as plain JSON values."""
    frame = df
    if fset.timestamp_key is not None and not df[fset.timestamp_key].is_monotonic_increasing:
        frame = df.sort_values(fset.timestamp_key, kind="stable")
    latest = frame.groupby(fset.entity_names, sort=False).tail(1)
    keys = fset.entity_names
    out: dict[str, dict[str, Any]] = {}
    for record in latest.to_dict("records"):
        row = {str(k): jsonable(v) for k, v in record.items()}
        out[entity_key([record[k] for k in keys])] = row
    return out


def write_targets(
    fset: FeatureSet,
    df: pd.DataFrame,
    overwrite: bool,
    batch_id: str | None = None,
    offline: bool = True,
) -> list[WriteReport]:
    """Write ``df`` to every target of ``fset``; return the online write reports.

    ``offline=False``: the offline target is written already (the Dask engine's
    workers write it), only the online ones are written.

    With ``batch_id`` (stream ingestion) online targets are written first and
    offline files are named by the batch: a batch retried after a failure (same
    records, unacked) neither duplicates offline rows nor leaves offline rows
    the retry's window state would count twice.
    """
    reports: list[WriteReport] = []
    offline_done: list[str] = []
    online_targets: list[OnlineTarget] = []
    rows: dict[str, dict[str, Any]] | None = None
    targets = fset.get_targets()
    if batch_id is not None:
        targets = sorted(targets, key=lambda t: isinstance(t, OfflineTarget))
    for target in targets:
        if isinstance(target, OfflineTarget):
            if not offline:
                offline_done.append(target.kind)
                continue
            target.write(fset.key, df, fset.timestamp_key, overwrite, batch_id)
            offline_done.append(target.kind)
        elif isinstance(target, OnlineTarget):
            rows = latest_rows(fset, df) if rows is None else rows
            online_targets.append(target)
            store = target.open()
            try:
                reports.append(store.write(fset.key, rows))
            except OnlineStoreError as exc:
                online_done = [
                    f"{t.kind}: {r.written} of {r.total} rows"
                    for t, r in zip(online_targets[:-1], reports, strict=True)
                ]
                raise OnlineStoreError(
                    f"ingestion of {fset.uri} ({len(df)} rows; offline targets written: "
                    f"{offline_done or 'none'}; online targets written: {online_done or 'none'}) "
                    f"failed on the online store {target.kind!r}: {exc}"
                ) from exc
            finally:
                store.close()
    return reports
