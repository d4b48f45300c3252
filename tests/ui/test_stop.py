"""Stopping a real running job from the dashboard: its process is interrupted and the
run records itself aborted."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

import servegraph as sg
from servegraph.config import get_config
from servegraph.errors import ServegraphError
from servegraph.functions.job import pid_file
from servegraph.storage.rundb import get_run_db
from servegraph.ui import make_app

SLOW = """
import time

def slow(context):
    for i in range(600):
        print(f"step {i}", flush=True)
        time.sleep(0.1)
"""


async def test_stop_interrupts_the_job_process(tmp_path: Path) -> None:
    code = tmp_path / "slow.py"
    code.write_text(SLOW)
    fn = sg.code_to_function("slow", str(code), kind="job", handler="slow", project="ops")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["run"] = fn.run()
        except ServegraphError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    db = get_run_db()
    deadline = time.monotonic() + 60
    uid = ""
    while time.monotonic() < deadline:
        runs = db.list_runs(project="ops", state="running")
        if runs and pid_file(runs[0]["metadata"]["uid"]).exists():
            uid = runs[0]["metadata"]["uid"]
            break
        time.sleep(0.1)
    assert uid, "the job never started running"
    async with TestClient(TestServer(make_app(get_config()))) as client:
        resp = await client.post(f"/api/runs/ops/{uid}/stop")
        body = await resp.json()
    assert resp.status == 200 and "SIGINT" in body["how"], body
    worker.join(60)
    assert not worker.is_alive()
    record = db.read_run(uid, "ops")
    assert record["status"]["state"] == "aborted"
    assert not pid_file(uid).exists()
