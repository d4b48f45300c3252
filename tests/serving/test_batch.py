"""``servegraph batch``: a graph over a data set, in row order, failures kept apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import servegraph as sg
from servegraph.cli import main
from servegraph.errors import ConfigError
from servegraph.serving.batch import run_rows
from servegraph.serving.server import GraphServer


def _flow_spec(tmp_path: Path) -> str:
    fn = sg.new_function("jitter", kind="serving")
    fn.set_topology("flow", engine="async").to("tests.serving.steps.Jitter", name="j").respond()
    return fn.export(tmp_path / "function.yaml")


def test_batch_keeps_row_order_and_writes_failures_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = pd.DataFrame({"x": list(range(40)), "name": [f"n{i}" for i in range(40)]})
    data.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "preds.parquet"
    args = ["batch", _flow_spec(tmp_path), "--input", str(tmp_path / "data.csv"),
            "--output", str(out), "--concurrency", "8", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    preds = pd.read_parquet(out)
    good = [x for x in range(40) if x % 10 != 3]
    assert preds["x"].tolist() == good  # input order, although rows finished out of order
    assert preds["y"].tolist() == [2 * x for x in good]
    assert preds["name"].tolist() == [f"n{x}" for x in good]
    errors = pd.read_parquet(tmp_path / "preds-errors.parquet")
    assert errors["row"].tolist() == [3, 13, 23, 33]
    assert errors["x"].tolist() == [3, 13, 23, 33]
    assert all("bad row" in e for e in errors["error"])
    assert "36 rows scored" in capsys.readouterr().err
    assert main([*args, "--fail-on-error"]) == 1


def test_batch_of_a_v2_model_writes_predictions_as_csv(tmp_path: Path) -> None:
    fn = sg.new_function("sum", kind="serving")
    fn.set_topology("router").add_route("m", class_name="tests.serving.steps.Sum")
    spec = fn.export(tmp_path / "function.yaml")
    pd.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30]}).to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.csv"
    code = main(["batch", spec, "--input", str(tmp_path / "in.parquet"), "--output", str(out),
                 "--path", "/v2/models/m/infer"])  # fmt: skip
    assert code == 0
    assert pd.read_csv(out).to_dict("list") == {"a": [1, 2, 3], "b": [10, 20, 30],
                                                "prediction": [11, 22, 33]}  # fmt: skip
    assert not (tmp_path / "out-errors.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input", "data.json", "--output", "o.parquet"], "'--input' file must end"),
        (["--input", "missing.csv", "--output", "o.parquet"], "does not exist"),
        (["--input", "data.csv", "--output", "o.txt"], "'--output' file must end"),
    ],
)
def test_batch_rejects_bad_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"x": [1]}).to_csv("data.csv", index=False)
    assert main(["batch", _flow_spec(tmp_path), *extra]) == 1
    assert message in capsys.readouterr().err


async def test_run_rows_calls_on_done_for_every_row_and_checks_concurrency() -> None:
    fn = sg.new_function("jitter", kind="serving")
    fn.set_topology("flow", engine="async").to("tests.serving.steps.Jitter", name="j").respond()
    server = GraphServer(fn.serving_spec())
    server.init_states()
    done: list[int] = []
    rows: list[dict[str, Any]] = [{"x": x} for x in range(12)]
    results = await run_rows(server, rows, concurrency=3, on_done=done.append)
    assert sum(done) == 12
    assert [r.output for r in results if r.error is None][:3] == [{"y": 0}, {"y": 2}, {"y": 4}]
    assert results[3].output is None and "bad row 3" in str(results[3].error)
    with pytest.raises(ConfigError, match="'concurrency' parameter of run_rows"):
        await run_rows(server, rows, concurrency=0)
    await server.close()
