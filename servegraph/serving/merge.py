"""Merge: a step after several branches; it receives the list of their bodies.

The engines call a step that has more than one ``after`` once, when all its
inlets are done, with the inlet bodies in ``after`` order.

>>> Merge().do([{"a": 1}, {"b": 2}])
{'a': 1, 'b': 2}
"""

from __future__ import annotations

from typing import Any


class Merge:
    """Merges the bodies of its inlets: dicts are updated in order, others give the list.

    The arguments are MLRun's and are accepted for compatibility; the engine
    already waits for all inlets of the same event.
    """

    def __init__(
        self,
        full_event: bool | None = None,
        max_behind: int | None = None,
        expected_num_events: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.full_event = full_event
        self.max_behind = max_behind
        self.expected_num_events = expected_num_events

    def do(self, bodies: list[Any]) -> Any:
        """Merge the inlet bodies."""
        if all(isinstance(body, dict) for body in bodies):
            merged: dict[str, Any] = {}
            for body in bodies:
                merged.update(body)
            return merged
        return list(bodies)
