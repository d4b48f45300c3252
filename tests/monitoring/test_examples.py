"""examples/monitoring_demo.py runs the whole loop and finds the drift it introduced."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).parents[2] / "examples" / "monitoring_demo.py"


def test_monitoring_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("monitoring_demo", DEMO)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(["--home", str(tmp_path / "home")]) == 0
    out = capsys.readouterr().out
    assert "monitoring demo OK" in out and "drifted features ['petal_length', 'petal_width']" in out
