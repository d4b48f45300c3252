"""The iris project example runs end to end (in-process functions to stay fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "iris_project" / "run_project.py"


def test_iris_project_example(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("iris_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(kind="local", context=tmp_path)
    assert summary["state"] == "completed"
    assert summary["results"]["accuracy"] > 0.8
    assert "petal length (cm)" in summary["features"] and "label" in summary["features"]
    assert (tmp_path / "project.yaml").is_file()
