"""Test doubles: a stream whose pushes can be held at a gate or refused, and a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, ClassVar

from servegraph.errors import StreamUnavailableError
from servegraph.streams.base import Record


class GateStream:
    """An in-memory stream (``fake://name``) whose push waits for ``gate`` and may fail."""

    instances: ClassVar[dict[str, GateStream]] = {}

    def __init__(self, url: str) -> None:
        self.url = url
        self.records: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.down = False
        GateStream.instances[url] = self

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        self.entered.set()
        await self.gate.wait()
        if self.down:
            raise StreamUnavailableError(f"{self.url} is down")
        start = len(self.records)
        self.records.extend(records)
        return [str(start + i) for i in range(len(records))]

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        return []

    async def ack(self, group: str, offsets: list[str]) -> None:
        return None

    async def close(self) -> None:
        return None


class TcpProxy:
    """Forwards a local port to ``target``; ``cut()`` drops it, ``restore()`` brings it back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def restore(self) -> None:
        await self.start()
