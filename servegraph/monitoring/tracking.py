"""Model-endpoint logging: the tracker a serving graph calls once per model request.

``StreamTracker.log(record)`` only appends to a bounded in-memory buffer; a
background task pushes the buffer to the stream every ``flush_interval_ms`` or
as soon as ``batch`` records wait (each push takes all waiting records, up to
``max(batch, 1000)``). When the broker is
unreachable, records move to a spill file under
``$SERVEGRAPH_HOME/tracking/spill`` and are replayed, in order and before
newer records, once it answers again; records still spilled at shutdown are
replayed by the next tracker of the same stream. A record that cannot be
encoded (a lone surrogate in a request id, say) is repaired, or else written
alone to ``$SERVEGRAPH_HOME/tracking/dead-letter/<stream>.jsonl``, counted in
``stats``, and never costs its batch. Every record is pushed once
in the normal path (a push that reaches the broker but whose reply is lost is
retried: at-least-once in that corner).

The serving spec names this class (``"tracking": {"class":
"servegraph.monitoring.tracking:StreamTracker", "stream_path": ..., "batch": ...,
"sample": ...}``); the server constructs it, ``await tracker.start()``, calls
``log`` per request and ``await tracker.close()`` on shutdown.

>>> import asyncio, tempfile
>>> async def main():
...     tracker = StreamTracker(stream_path=tempfile.mkdtemp(), batch=10)
...     await tracker.start()
...     tracker.log({"endpoint_id": "ep1", "inputs": [[1, 2]], "outputs": [0]})
...     await tracker.close()
...     return tracker.stats["pushed"]
>>> asyncio.run(main())
1
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import json
import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any

from servegraph.config import get_config
from servegraph.errors import RecordEncodingError, StreamError
from servegraph.monitoring.spill import SpillFile
from servegraph.monitoring.tracking_options import positive, sample_every
from servegraph.streams import Stream, get_stream, stream_url_for
from servegraph.streams.codec import encode, repair

logger = logging.getLogger(__name__)

DEFAULT_STREAM = "model-endpoints"


class TrackerState(enum.Enum):
    """Lifecycle of a tracker."""

    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


def default_stream_url() -> str:
    """The stream model endpoints log to unless told otherwise."""
    return stream_url_for(get_config().stream_path, DEFAULT_STREAM)


class StreamTracker:
    """Non-blocking, batched, spill-to-disk logging of model requests to a stream.

    Parameters: ``stream_path`` (stream URL; default ``<SERVEGRAPH_STREAM_PATH>/
    model-endpoints``), ``batch`` (records per push, 100), ``sample`` (keep every
    N-th record, 1 = all; a fraction f < 1 keeps every round(1/f)-th),
    ``flush_interval_ms`` (max time a record waits, 100), ``stream_args`` (options
    of the stream backend, e.g. ``{"maxlen": 100000}`` for Redis),
    ``max_buffer`` (records held in memory before they go to the spill file,
    10,000).
    """

    def __init__(
        self,
        stream_path: str | None = None,
        batch: int | None = None,
        sample: float | None = None,
        flush_interval_ms: int = 100,
        max_buffer: int = 10_000,
        stream_args: dict[str, Any] | None = None,
    ) -> None:
        self.stream_path = stream_path or default_stream_url()
        self.stream_args = dict(stream_args or {})
        self.batch = positive("batch", batch, 100)
        self.sample = sample_every(sample)
        self.flush_interval_ms = positive("flush_interval_ms", flush_interval_ms, 100)
        self.max_buffer = positive("max_buffer", max_buffer, 10_000)
        # a push carries everything waiting, up to this many: under load fewer, larger
        # writes (each file or socket call is a GIL hand-off with the request thread)
        self.max_push = max(self.batch, 1000)
        self.state = TrackerState.NEW
        self.stats = {
            "logged": 0,
            "sampled_out": 0,
            "pushed": 0,
            "spilled": 0,
            "failures": 0,
            "repaired": 0,
            "dead_lettered": 0,
        }
        self._buffer: deque[dict[str, Any]] = deque()
        self._seen = 0
        self._stream: Stream | None = None
        self._spill: SpillFile | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._inflight: list[dict[str, Any]] | None = None
        self._inflight_spilled: tuple[int, int] | None = None  # (bytes, records) in the spill
        self._down = False
        self._wake_requested = False
        # log() may run on another thread than the flusher (the sync mock server):
        # the buffer's bulk moves and the spill file are guarded by this lock
        self._mutex = threading.RLock()

    # -- endpoints ----------------------------------------------------------------

    def register_endpoint(self, endpoint: dict[str, Any]) -> None:
        """Register a model endpoint (called once per model step at server init).

        The registry takes the reference statistics from a ``store://models/...``
        model URI (the model's training set); registering again keeps them.
        """
        from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint

        endpoint = dict(endpoint)
        url = endpoint.pop("url", "")
        if url:  # where the retraining policy sends new versions
            from servegraph.monitoring.rollout import register_url

            register_url(endpoint, url)
        EndpointRegistry().register(ModelEndpoint(**endpoint))

    # -- the request path ---------------------------------------------------------

    def log(self, record: dict[str, Any]) -> None:
        """Queue ``record`` for the stream; never blocks on the network, never raises."""
        self._seen += 1
        if self.sample > 1 and (self._seen - 1) % self.sample:
            self.stats["sampled_out"] += 1
            return
        self.stats["logged"] += 1
        self._buffer.append(record)
        size = len(self._buffer)
        try:
            if size >= self.max_buffer or self.state is TrackerState.CLOSED:
                self._spill_buffer()
            elif size >= self.batch:
                self._wakeup()
        except Exception:  # logging must not break a request
            logger.exception("model-endpoint tracker could not queue a record")

    @property
    def pending(self) -> int:
        """Records logged but not yet in the stream (buffered, in flight or spilled)."""
        with self._mutex:
            spilled = len(self._spill) if self._spill is not None else 0
            inflight = len(self._inflight) if self._inflight and not self._inflight_spilled else 0
            return len(self._buffer) + spilled + inflight

    def request_flush(self) -> None:
        """Ask the background task to flush now (from any thread); does not wait."""
        self._wakeup()

    def _wakeup(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or self._wake_requested:
            return
        self._wake_requested = True  # one wake-up per flush, whichever thread logs
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    @property
    def _digest(self) -> str:
        return hashlib.sha1(self.stream_path.encode()).hexdigest()[:12]

    @property
    def dead_letter_path(self) -> Path:
        """Where records that cannot be encoded even after repair are written, one a line."""
        return get_config().home / "tracking" / "dead-letter" / f"{self._digest}.jsonl"

    def _clean(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records with each unencodable one repaired or dead-lettered (and counted)."""
        out = []
        for record in records:
            try:
                encode(record)
            except RecordEncodingError:
                try:
                    fixed = repair(record)
                    encode(fixed)
                except (RecordEncodingError, RecursionError) as exc:
                    self._dead_letter(record, exc)
                    continue
                self.stats["repaired"] += 1
                record = fixed
            out.append(record)
        return out

    def _dead_letter(self, record: dict[str, Any], exc: BaseException) -> None:
        self.stats["dead_lettered"] += 1
        logger.warning("model-endpoint record dead-lettered (cannot be encoded): %s", exc)
        line = json.dumps(
            {
                k: v if isinstance(v, str | int | float | None) else repr(v)[:1000]
                for k, v in record.items()
            }
            | {"_reason": str(exc)},
            default=str,
        )
        try:
            self.dead_letter_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.dead_letter_path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError:
            logger.exception("model-endpoint dead letter %s not written", self.dead_letter_path)

    def _spill_file(self) -> SpillFile:
        if self._spill is None:  # callers hold the mutex (or run before start)
            directory = get_config().home / "tracking" / "spill"
            self._spill = SpillFile.acquire(directory, self._digest)
        return self._spill

    def _to_spill(self, spill: SpillFile, records: list[dict[str, Any]]) -> int:
        try:
            return spill.append(records)
        except RecordEncodingError:
            return spill.append(self._clean(records))

    def _spill_buffer(self) -> None:
        """Move the buffer (and a buffer chunk in flight, which is older) to disk."""
        with self._mutex:
            spill = self._spill_file()
            records = [self._buffer.popleft() for _ in range(len(self._buffer))]
            if self._inflight is not None and self._inflight_spilled is None:
                self._inflight = self._clean(self._inflight)
                size = self._to_spill(spill, self._inflight)
                self._inflight_spilled = (size, len(self._inflight))
            self._to_spill(spill, records)
            self.stats["spilled"] += len(records)

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Open the stream and start the background flusher (replaying old spills)."""
        if self.state is not TrackerState.NEW:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stream = get_stream(self.stream_path, **self.stream_args)
        self._spill_file()  # adopt records a previous tracker left on disk
        self.state = TrackerState.RUNNING
        self._task = asyncio.create_task(self._run(), name="servegraph-tracker-flush")

    async def _run(self) -> None:
        assert self._wake is not None
        interval = self.flush_interval_ms / 1000
        while self.state is TrackerState.RUNNING:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            self._wake_requested = False
            if self.state is not TrackerState.RUNNING:
                return  # close() does the final flush
            try:
                await self.flush()
            except Exception:
                logger.exception("model-endpoint tracker flush failed; will retry")

    async def flush(self) -> bool:
        """Push spilled then buffered records in order; False if the broker is down."""
        if self._stream is None or self._lock is None:
            return False
        async with self._lock:
            while True:
                with self._mutex:
                    spill = self._spill_file()
                    pending = len(spill)
                if pending:
                    if not await self._replay_spill(spill):
                        return False
                elif self._buffer:
                    if not await self._push_buffer_chunk(spill):
                        return False
                else:
                    return True

    async def _push(self, records: list[dict[str, Any]]) -> bool:
        assert self._stream is not None
        try:
            try:
                await self._stream.push(records)
            except RecordEncodingError:  # not an outage: fix or drop the culprits alone
                records = self._clean(records)
                await self._stream.push(records)
        except StreamError as exc:
            self.stats["failures"] += 1
            if not self._down:
                logger.warning("model-endpoint stream unavailable, spilling to disk: %s", exc)
            self._down = True
            return False
        if self._down:
            logger.info(
                "model-endpoint stream %s is back, replaying spilled records", self.stream_path
            )
        self._down = False
        self.stats["pushed"] += len(records)
        return True

    async def _replay_spill(self, spill: SpillFile) -> bool:
        with self._mutex:
            records, size = spill.peek(self.max_push)
        if not await self._push(records):
            self._spill_buffer()
            return False
        with self._mutex:
            spill.advance(size, len(records))
        return True

    async def _push_buffer_chunk(self, spill: SpillFile) -> bool:
        with self._mutex:
            n = min(self.max_push, len(self._buffer))
            chunk = [self._buffer.popleft() for _ in range(n)]
            self._inflight, self._inflight_spilled = chunk, None
        try:
            ok = await self._push(chunk)
        except BaseException:
            with self._mutex:  # cancelled mid-push: keep the records, in order
                if self._inflight_spilled is None:
                    self._buffer.extendleft(reversed(chunk))
                self._inflight = self._inflight_spilled = None
            raise
        with self._mutex:
            spilled, self._inflight, self._inflight_spilled = self._inflight_spilled, None, None
            if ok:
                if spilled is not None:  # an overflow parked the chunk on disk meanwhile
                    spill.advance(*spilled)
                return True
            if spilled is None:
                self._to_spill(spill, chunk)
                self.stats["spilled"] += len(chunk)
            self._spill_buffer()
            return False

    async def close(self) -> None:
        """Stop the flusher and flush; what the broker refuses stays spilled on disk."""
        if self.state is TrackerState.CLOSED:
            return
        self.state = TrackerState.CLOSED
        if self._task is not None and self._wake is not None:
            self._wake.set()  # the flusher finishes its current push and stops
            await self._task
        if self._stream is not None:
            await self.flush()
            with contextlib.suppress(StreamError):
                await self._stream.close()
        with self._mutex:
            if self._buffer:
                self._spill_buffer()
            if self._spill is not None:
                self._spill.close()
                self._spill = None
