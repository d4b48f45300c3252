"""A stand-in for servegraph.functions.factory: records the functions built and runs started."""

from __future__ import annotations

from typing import Any

RUNS: list[dict[str, Any]] = []


class FakeRun:
    def __init__(self, uid: str) -> None:
        self.metadata = type("Meta", (), {"uid": uid})()


class FakeFunction:
    def __init__(self, name: str, **spec: Any) -> None:
        self.name, self.spec = name, spec

    def run(self, params: dict[str, Any], inputs: dict[str, str]) -> FakeRun:
        RUNS.append({"function": self.name, **self.spec, "params": params, "inputs": inputs})
        return FakeRun(f"run-{len(RUNS)}")


def code_to_function(name: str, **spec: Any) -> FakeFunction:
    return FakeFunction(name, **spec)
