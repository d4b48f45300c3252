"""An aiohttp app served from a background thread, for code that calls it synchronously."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


@contextmanager
def serve_app(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on a free localhost port in a thread; yield its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def _serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=_serve, daemon=True)
    thread.start()
    started.wait(10)
    host, port = runner.addresses[0][:2]  # port 0: the OS picked a free one, no race
    try:
        yield f"http://{host}:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
