"""Fixtures of the functions tests: small code files to run."""

from __future__ import annotations

from pathlib import Path

import pytest

CODE = """
import time

def add(context, a=1, b=2):
    context.log_result("sum", a + b)
    return {"product": a * b}

def fail(context):
    print("about to fail")
    raise ValueError("boom in user code")

def echo_secret(context):
    print("the secret is", context.get_secret("TOKEN"))
    context.logger.info("logged", token=context.get_secret("TOKEN"))
    context.log_result("has_secret", context.get_secret("TOKEN") is not None)

def train(context, x=0, y=0):
    context.log_result("accuracy", -((x - 2) ** 2) - (y - 1) ** 2)
    context.log_result("loss", (x - 2) ** 2 + (y - 1) ** 2)
    context.log_artifact("note", body=f"x={x} y={y}")

def read(context, data):
    context.log_result("rows", len(data.as_df()))
"""


@pytest.fixture
def code_file(tmp_path: Path) -> str:
    """A Python file with handlers: add, fail, echo_secret, train, read."""
    path = tmp_path / "handlers.py"
    path.write_text(CODE)
    return str(path)
