"""Episodes: a condition that holds over consecutive windows fires once.

``EpisodeState.update(key, window_start, triggered)`` returns True only when
a condition starts holding (a new episode) and the optional ``cooldown`` since
the last firing has passed; it re-arms when a window no longer triggers.
Windows older than the last one seen for a key are ignored, so re-scoring an
old window cannot start a new episode. State lives in the monitoring database.

>>> state = EpisodeState()                                              # doctest: +SKIP
>>> [state.update(("p", "drift", "ep"), t, hit) for t, hit in windows]  # doctest: +SKIP
[True, False, False, True]   # fire, hold, re-arm, fire again
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from servegraph.monitoring import db
from servegraph.monitoring.results import iso

episodes_table = sa.Table(
    "monitoring_episodes",
    db.metadata,
    sa.Column("project", sa.String(255), primary_key=True),
    sa.Column("rule", sa.String(255), primary_key=True),
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("last_window", sa.String(32), nullable=False),
    sa.Column("last_fired", sa.String(32), nullable=True),
)


class EpisodeState:
    """Per (project, rule, endpoint) episode state in ``dbpath`` (default the run DB)."""

    def __init__(self, dbpath: str | None = None) -> None:
        self.dbpath = dbpath

    def update(
        self,
        key: tuple[str, str, str],
        window_start: pd.Timestamp,
        triggered: bool,
        cooldown: pd.Timedelta | None = None,
    ) -> bool:
        """Record one window's outcome; True if this starts an episode that should fire."""
        project, rule, endpoint_id = key
        where = (
            (episodes_table.c.project == project)
            & (episodes_table.c.rule == rule)
            & (episodes_table.c.endpoint_id == endpoint_id)
        )
        window = iso(window_start)
        with db.begin(self.dbpath) as conn:
            row = conn.execute(sa.select(episodes_table).where(where)).first()
            if row is not None and window < row.last_window:
                return False
            active = bool(row.active) if row is not None else False
            last_fired = row.last_fired if row is not None else None
            fire = triggered and not active
            if fire and cooldown is not None and last_fired is not None:
                fire = window_start - pd.Timestamp(last_fired) >= cooldown
            values = {
                "active": triggered,
                "last_window": window,
                "last_fired": window if fire else last_fired,
            }
            if row is None:
                conn.execute(
                    episodes_table.insert().values(
                        project=project, rule=rule, endpoint_id=endpoint_id, **values
                    )
                )
            else:
                conn.execute(episodes_table.update().where(where).values(**values))
        return fire
