"""Step classes and handlers used by the serving tests (importable by dotted path)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, ClassVar

from servegraph.serving import V2ModelServer
from servegraph.serving.event import Event


class Inc:
    def __init__(self, by: int = 1) -> None:
        self.by = by

    def do(self, x: int) -> int:
        return x + self.by


class Double:
    def do(self, x: int) -> int:
        return x * 2


class AsyncDouble:
    async def do(self, x: int) -> int:
        await asyncio.sleep(0)
        return x * 2


class Tag:
    """Adds its name to the body's "path" list (full event)."""

    def __init__(self, name: str | None = None, context: Any = None) -> None:
        self.name = name
        self.context = context

    def do_event(self, event: Event) -> Event:
        event.body = {**event.body, "path": [*event.body.get("path", []), self.name]}
        return event


class Boom:
    def do(self, x: Any) -> Any:
        raise ValueError(f"boom on {x!r}")


class Sleep:
    def __init__(self, seconds: float = 0.2) -> None:
        self.seconds = seconds

    def do(self, x: Any) -> Any:
        time.sleep(self.seconds)
        return x


class AsyncSleep:
    def __init__(self, seconds: float = 0.2) -> None:
        self.seconds = seconds

    async def do(self, x: Any) -> Any:
        await asyncio.sleep(self.seconds)
        return x


class Closing:
    closed: ClassVar[list[str]] = []

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def do(self, x: Any) -> Any:
        return x

    async def close(self) -> None:
        Closing.closed.append(str(self.name))


class FailingClose(Closing):
    """A step whose close hook raises (after recording that it ran)."""

    def close(self) -> None:  # type: ignore[override]
        Closing.closed.append(str(self.name))
        raise OSError("disk gone")


class Gated:
    """A full-event sync step that waits for ``gate`` (outliving a short timeout)."""

    gate = threading.Event()
    done = threading.Event()

    def do(self, event: Event) -> Event:
        Gated.gate.wait(10)
        event.body = "late"
        Gated.done.set()
        return event


def catcher(event: Event) -> Event:
    event.body = {"error": str(event.error), "origin": event.origin_state}
    return event


def typed_catcher(event: Event) -> Event:
    error = event.error
    event.body = {"value_error": isinstance(error, ValueError), "type": type(error).__name__}
    return event


def with_context(x: Any, context: Any = None) -> Any:
    return {"x": x, "project": context.project, "param": context.get_param("p")}


class Sum(V2ModelServer):
    """A model whose prediction is the sum of each input row."""

    def load(self) -> None:
        self.offset = self.get_param("offset", 0)

    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) + self.offset for row in request["inputs"]]


class Label(V2ModelServer):
    """A classifier answering its ``label`` class argument for every row."""

    def __init__(
        self, context: Any = None, name: str | None = None, label: Any = 0, **kwargs: Any
    ) -> None:
        super().__init__(context=context, name=name, **kwargs)
        self.label = label

    def predict(self, request: dict[str, Any]) -> Any:
        return [self.label for _ in request["inputs"]]


class Failing(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        raise RuntimeError("model exploded")


class RecordingTracker:
    """A fake tracker: keeps the records; counts start/close."""

    instances: ClassVar[list[RecordingTracker]] = []

    def __init__(
        self, stream_path: str | None = None, batch: int | None = None, sample: float | None = None
    ) -> None:
        self.stream_path = stream_path
        self.batch = batch
        self.sample = sample
        self.records: list[dict[str, Any]] = []
        self.started = 0
        self.closed = 0
        RecordingTracker.instances.append(self)

    def log(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    async def start(self) -> None:
        self.started += 1

    async def close(self) -> None:
        self.closed += 1


class Pid:
    """Answers the id of the process that ran it (which worker served a request)."""

    def do(self, body: Any) -> dict[str, Any]:
        import os

        return {"pid": os.getpid()}


class Jitter:
    """An async step that finishes rows out of order and fails rows whose x ends in 3."""

    async def do(self, row: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep((row["x"] * 7 % 5) / 1000)
        if row["x"] % 10 == 3:
            raise ValueError(f"bad row {row['x']}")
        return {"y": row["x"] * 2}


class AddOne:
    """{"x": n} -> {"x": n + 1}; {"crash": code} ends the process with that exit code."""

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        if "crash" in body:
            import os

            os._exit(int(body["crash"]))
        return {"x": body["x"] + 1}


class Times2:
    """{"x": n} -> {"x": 2 n}."""

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"x": body["x"] * 2}
