from __future__ import annotations

import pandas as pd

from servegraph.monitoring.alerts.state import EpisodeState

KEY = ("p", "rule", "ep")


def _at(hour: int) -> pd.Timestamp:
    return pd.Timestamp(f"2026-03-01T{hour:02d}:00:00Z")


def test_fires_once_per_episode_and_rearms() -> None:
    state = EpisodeState()
    hits = [False, True, True, True, False, True, True]
    fired = [state.update(KEY, _at(h), hit) for h, hit in enumerate(hits)]
    assert fired == [False, True, False, False, False, True, False]


def test_state_survives_a_new_object_and_old_windows_are_ignored() -> None:
    assert EpisodeState().update(KEY, _at(5), True)
    assert not EpisodeState().update(KEY, _at(6), True)  # same episode, new process
    assert not EpisodeState().update(KEY, _at(7), False)
    assert not EpisodeState().update(KEY, _at(3), True)  # an old window re-scored


def test_cooldown_silences_a_new_episode_that_starts_too_soon() -> None:
    state = EpisodeState()
    cooldown = pd.Timedelta("3h")
    outcome = [
        state.update(KEY, _at(h), hit, cooldown)
        for h, hit in [(1, True), (2, False), (3, True), (4, False), (5, True)]
    ]
    assert outcome == [True, False, False, False, True]


def test_keys_are_independent() -> None:
    state = EpisodeState()
    assert state.update(("p", "r1", "ep"), _at(1), True)
    assert state.update(("p", "r2", "ep"), _at(1), True)
    assert state.update(("p", "r1", "other"), _at(1), True)
