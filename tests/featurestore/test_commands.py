"""``servegraph features``: each action run as a real subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

from servegraph.featurestore import FeatureSet, FeatureVector, ParquetTarget, SQLiteTarget


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servegraph", "features", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "time": ["2024-05-01 10:00", "2024-05-01 10:20", "2024-05-01 10:05"],
            "amount": [10.0, 30.0, 100.0],
        }
    ).to_csv(path, index=False)
    fset = FeatureSet("orders", entities=["customer_id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    fset.save()
    FeatureVector("spend", ["orders.amount_sum_1h"]).save()
    return path


def test_list_show_ingest_and_materialize(tmp_path: Path) -> None:
    source = _orders(tmp_path)
    listed = _cli("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [
        "store://feature-sets/default/orders:latest",
        "store://feature-vectors/default/spend:latest",
    ]
    shown = _cli("show", "orders")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["spec"]["aggregations"][0]["column"] == "amount"
    assert json.loads(_cli("show", "spend").stdout)["kind"] == "FeatureVector"

    for engine in ("pandas", "storey"):
        done = _cli("ingest", "orders", str(source), "--engine", engine)
        assert done.returncode == 0, done.stderr
        assert "ingested 3 rows into store://feature-sets/default/orders:latest" in done.stdout
    done = _cli("materialize", "orders", "--start", "2024-05-01 10:00", "--end", "2024-05-01 10:10")
    assert done.returncode == 0, done.stderr
    assert "materialized 2 of 2 entity rows" in done.stdout


def test_errors_exit_non_zero_with_the_message() -> None:
    missing = _cli("show", "nope")
    assert missing.returncode == 1
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr
    usage = _cli("ingest")
    assert usage.returncode == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _post(url: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_answers_over_http(tmp_path: Path) -> None:
    source = _orders(tmp_path)
    assert _cli("ingest", "orders", str(source)).returncode == 0
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "servegraph",
            "features",
            "serve",
            "--port",
            str(port),
            "--impute",
            '{"*": -1}',
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/feature-vectors", timeout=1) as resp:
                    names = [v["name"] for v in json.loads(resp.read())["feature_vectors"]]
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the feature server did not start"
                time.sleep(0.2)
        assert names == ["spend"]
        status, body = _post(f"{url}/v1/features/online", {"vector": "spend", "entities": [1, 5]})
        assert (status, body["results"]) == (200, [{"amount_sum_1h": 40.0}, {"amount_sum_1h": -1}])
        status, body = _post(f"{url}/v1/features/online", {"vector": "nope", "entities": [1]})
        assert status == 404 and "nope" in body["error"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reaps the process and closes its pipe
