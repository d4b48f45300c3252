"""``servegraph serve``: loading SPEC files, the stream source, and a real server process."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import servegraph
import servegraph.streams as streams
from servegraph.errors import ConfigError
from servegraph.serving import commands
from servegraph.serving.event import Event
from servegraph.serving.stream_source import consume

APP = textwrap.dedent(
    """
    import servegraph
    from servegraph.serving.v2_serving import V2ModelServer

    class Doubler(V2ModelServer):
        def predict(self, request):
            return [[2 * v for v in row] for row in request["inputs"]]

    fn = servegraph.new_function("doubler", kind="serving", project="demo")
    fn.set_topology("router")
    fn.add_model("double", class_name="Doubler")
    """
)


def _function() -> Any:
    fn = servegraph.new_function("echo-fn", kind="serving")
    fn.set_topology("flow", engine="async").to(name="inc", handler="(event + 1)").respond()
    return fn


async def test_loads_a_python_file_resolving_its_classes(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP)
    server = commands.load_server(str(path))
    event = Event(body={"inputs": [[1, 2]]}, path="/v2/models/double/infer")
    response = await server.run_async(event)
    assert response.body["outputs"] == [[2, 4]]
    await server.close()


async def test_loads_the_exported_nuclio_spec_and_the_function_yaml(tmp_path: Path) -> None:
    fn = _function()
    exported = fn.export(str(tmp_path / "function.yaml"))
    fn.to_yaml(tmp_path / "fn.yaml")
    (tmp_path / "spec.json").write_text(json.dumps(fn.serving_spec()))
    for name in (exported, tmp_path / "fn.yaml", tmp_path / "spec.json"):
        server = commands.load_server(str(name))
        assert (await server.run_async(Event(body=1))).body == 2
        await server.close()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("kind: NuclioFunction\nspec: {env: []}\n", "has no SERVING_SPEC_ENV"),
        ("- 1\n", "must hold a mapping"),
        ("a: 1\n", "neither a function"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_spec_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=match):
        commands.load_server(str(path))


def test_python_spec_must_name_one_function(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(APP + "\nfn2 = fn\nnot_fn = 1\n")
    with pytest.raises(ConfigError, match=r"exactly one serving function.*'fn', 'fn2'"):
        commands.load_server(str(path))
    assert commands.load_server(str(path), function="fn2") is not None
    with pytest.raises(ConfigError, match="'--function' 'not_fn'"):
        commands.load_server(str(path), function="not_fn")
    with pytest.raises(ConfigError, match="is not a file"):
        commands.load_server(str(tmp_path / "missing.yaml"))


def test_source_without_streams_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(streams, "get_stream", raising=False)
    path = tmp_path / "fn.yaml"
    _function().to_yaml(path)
    parser = argparse.ArgumentParser()
    commands.add_parser(parser.add_subparsers())
    args = parser.parse_args(["serve", str(path), "--source", "redis://localhost/s"])
    with pytest.raises(ConfigError, match="not available yet"):
        commands.run(args)


async def test_stream_source_runs_acks_and_dead_letters(tmp_path: Path) -> None:
    """Records run through the graph; a record that keeps failing goes to the dead letter."""
    seen: list[Any] = []

    class Server:
        async def run_async(self, event: Any) -> Any:
            if event.body.get("bad"):
                raise ConfigError("bad record")
            seen.append(event.body)

    source = streams.get_stream(str(tmp_path / "requests"))
    dead = streams.get_stream(str(tmp_path / "requests-dead-letter"))
    await source.push([{"x": 1}, {"bad": True}, {"x": 2}])
    driver = await asyncio.wait_for(
        consume(Server(), source, dead_letter=dead, batch=2, until_idle=True), 10
    )
    assert sorted(r["x"] for r in seen) == [1, 2]
    assert (driver.stats.processed, driver.stats.dead_lettered) == (2, 1)
    (letter,) = await dead.read("check", "c")
    assert letter.data["data"] == {"bad": True} and "bad record" in letter.data["error"]
    # everything was acked: the serving group gets nothing again
    assert await source.read("servegraph-serving", "other") == []
    await source.close()
    await dead.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_process_answers_then_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP)
    port = _free_port()
    code = (
        "import argparse, sys; from servegraph.serving import commands; "
        "p = argparse.ArgumentParser(); commands.add_parser(p.add_subparsers()); "
        "sys.exit(commands.run(p.parse_args(sys.argv[1:])))"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(servegraph.__file__).parent.parent))
    log = tmp_path / "serve.log"
    with log.open("wb") as out, subprocess.Popen(
        [sys.executable, "-c", code, "serve", str(path), "--host", "127.0.0.1",
         "--port", str(port), "--grace", "5"],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    ) as proc:  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2) as resp:
                        assert resp.status == 200
                        break
                except OSError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
            request = urllib.request.Request(
                f"{base}/v2/models/double/infer", data=b'{"inputs": [[3]]}', method="POST"
            )
            with urllib.request.urlopen(request, timeout=5) as resp:
                assert json.loads(resp.read())["outputs"] == [[6]]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
