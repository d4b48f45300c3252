"""Code in the spec: code_to_function, with_code, export, and serve in an empty directory."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import servegraph as sg
from servegraph.errors import ConfigError, DeployError
from servegraph.functions.code_source import definitions, rename_main
from servegraph.serving import commands
from servegraph.serving.event import Event
from servegraph.serving.nuclio_spec import SERVING_SPEC_ENV
from tests.serve_process import post, serve_process, servegraph_env
from tests.test_docs import extract_blocks

ROOT = Path(__file__).resolve().parent.parent.parent

APP = """
from servegraph.serving import V2ModelServer

FACTOR = 3


class Times(V2ModelServer):
    def predict(self, request):
        return [x * FACTOR * self.get_param("k", 1) for x in request["inputs"]]


def add_one(body):
    body["inputs"] = [x + 1 for x in body["inputs"]]
    return body
"""


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Modules and sys.path entries a test's code loading adds are removed after it."""
    modules, path = set(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


def _spec(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _source(spec: dict[str, Any]) -> str:
    return base64.b64decode(spec["spec"]["build"]["functionSourceCode"]).decode()


def _serving(spec: dict[str, Any]) -> dict[str, Any]:
    env = {e["name"]: e["value"] for e in spec["spec"]["env"]}
    serving: dict[str, Any] = json.loads(env[SERVING_SPEC_ENV])
    return serving


def test_readme_function_survives_export_and_serve_in_an_empty_dir(tmp_path: Path) -> None:
    block = next(b for b in extract_blocks((ROOT / "README.md").read_text()) if b.lang == "python")
    project, empty = tmp_path / "project", tmp_path / "empty"
    project.mkdir()
    empty.mkdir()
    script = project / "app.py"
    script.write_text(
        block.code + "\nimport json, sys\nprint(json.dumps(resp))\nfn.export(sys.argv[1])\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script), str(empty / "function.yaml")],
        cwd=project, env=servegraph_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    mock_answer = json.loads(proc.stdout.strip().splitlines()[-1])
    spec = _spec(empty / "function.yaml")
    assert spec["spec"]["handler"] == "app:handler"
    assert "__main__" not in json.dumps(spec)
    source = _source(spec)
    assert "class Threshold(V2ModelServer)" in source and "def scale(body)" in source
    assert "to_mock_server" not in source and "export" not in source  # definitions only
    with serve_process(empty / "function.yaml", empty) as base:
        status, answer = post(f"{base}/v2/models/threshold/infer", {"inputs": [[1, 2], [3, 4]]})
    assert status == 200
    assert {k: v for k, v in answer.items() if k != "id"} == {
        k: v for k, v in mock_answer.items() if k != "id"
    }
    assert sorted(p.name for p in empty.iterdir()) == ["function.yaml"]  # nothing written


def test_code_to_function_serving_carries_the_file_and_serves_in_an_empty_dir(
    tmp_path: Path,
) -> None:
    project, empty = tmp_path / "project", tmp_path / "empty"
    project.mkdir()
    empty.mkdir()
    (project / "models.py").write_text(APP)
    fn = sg.code_to_function(
        "times", str(project / "models.py"), kind="serving",
        image="python:3.11-slim", requirements=["scikit-learn>=1.3"],
    )  # fmt: skip
    graph = fn.set_topology("flow", engine="sync")
    graph.to(name="add", handler="add_one").to("ModelRouter", name="router").respond()
    fn.add_model("m", class_name="Times", k=2)
    fn.export(
        empty / "function.yaml", servegraph_requirement="servegraph @ git+https://example.org/sg"
    )
    spec = _spec(empty / "function.yaml")
    body = spec["spec"]
    assert body["handler"] == "models:handler"
    assert body["build"]["codeEntryType"] == "sourceCode"
    assert _source(spec).startswith(APP)
    assert body["build"]["baseImage"] == "python:3.11-slim"
    assert body["build"]["commands"] == [
        "pip install 'scikit-learn>=1.3' 'servegraph @ git+https://example.org/sg'"
    ]
    assert _serving(spec)["code_module"] == "models"
    with serve_process(empty / "function.yaml", empty) as base:
        assert post(f"{base}/v2/models/m/infer", {"inputs": [1, 2]})[1]["outputs"] == [12, 18]
    assert sorted(p.name for p in empty.iterdir()) == ["function.yaml"]


def test_new_function_command_and_project_set_function_carry_the_code(
    tmp_path: Path, isolated_imports: None
) -> None:
    (tmp_path / "models_b.py").write_text(APP)
    fn = sg.new_function("b", command=str(tmp_path / "models_b.py"), kind="serving")
    assert fn.spec.code_module == "models_b"
    project = sg.get_or_create_project("demo", context=str(tmp_path))
    served = project.set_function("models_b.py", name="scores", kind="serving")
    assert (served.name, served.project, served.spec.code_module) == ("scores", "demo", "models_b")
    served.set_topology("router").add_route("m", class_name="Times")
    exported = Path(served.export(tmp_path / "fn.yaml"))
    server = commands.load_server(str(exported))
    assert server.run(Event(body={"inputs": [2]}, path="/v2/models/m/infer")).body["outputs"] == [6]


def test_with_code_body_folder_and_markers(tmp_path: Path, isolated_imports: None) -> None:
    fn = sg.new_function("c", kind="serving")
    fn.with_code(body="def inc(x):\n    return x + 1\n", module="inline_c")
    fn.set_topology("flow", engine="sync").to(name="inc", handler="inc").respond()
    server = commands.load_server(fn.export(tmp_path / "c.yaml"))
    assert server.run(Event(body=1)).body == 2

    folder = tmp_path / "pkg_src"
    (folder / "helpers_d").mkdir(parents=True)
    (folder / "helpers_d" / "__init__.py").write_text("OFFSET = 100\n")
    (folder / "app_d.py").write_text(
        "from helpers_d import OFFSET\n\ndef shift(x):\n    return x + OFFSET\n"
    )
    fn = sg.new_function("d", kind="serving").with_code(from_file=folder)
    assert fn.spec.code_module == "app_d" and fn.spec.build["codeEntryType"] == "archive"
    fn.set_topology("flow", engine="sync").to(name="shift", handler="shift").respond()
    spec = _spec(Path(fn.export(tmp_path / "d.yaml")))
    assert spec["spec"]["handler"] == "servegraph.serving.nuclio:handler"  # archive: no append
    server = commands.load_server(str(tmp_path / "d.yaml"))
    assert server.run(Event(body=1)).body == 101

    marked = tmp_path / "marked_e.py"
    marked.write_text(
        "import sys\n# servegraph: start-code\ndef neg(x):\n    return -x\n"
        "# servegraph: end-code\nsys.exit('top-level code ran')\n"
    )
    fn = sg.code_to_function("e", str(marked), kind="serving")
    fn.set_topology("flow", engine="sync").to(name="neg", handler="neg").respond()
    server = commands.load_server(fn.export(tmp_path / "e.yaml"))
    assert server.run(Event(body=4)).body == -4


def test_export_without_code_and_unreadable_source_is_a_clear_error(tmp_path: Path) -> None:
    fn = sg.new_function("f", kind="serving")
    fn.set_topology("flow").to(name="h", handler="helper").respond()
    namespace = {"__name__": "__main__", "helper": lambda body: body}  # a notebook cell
    with pytest.raises(DeployError, match=r"with_code\(from_file="):
        fn.export(tmp_path / "f.yaml", namespace=namespace)
    with pytest.raises(DeployError, match="from_file or body"):
        fn.with_code()
    with pytest.raises(DeployError, match="must be a file or a folder"):
        fn.with_code(from_file=tmp_path / "missing.py")
    (tmp_path / "two").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / "two" / name).write_text("")
    with pytest.raises(DeployError, match="name the one the graph uses with module="):
        fn.with_code(from_file=tmp_path / "two")


def test_graph_of_builtins_and_dotted_paths_needs_no_code(tmp_path: Path) -> None:
    fn = sg.new_function("g", kind="serving")
    fn.set_topology("flow", engine="sync").to(name="dump", handler="json.dumps").respond()
    spec = _spec(Path(fn.export(tmp_path / "g.yaml")))
    assert "functionSourceCode" not in spec["spec"]["build"]
    assert spec["spec"]["build"]["commands"] == []  # servegraph is not on PyPI: no made-up pin
    assert commands.load_server(str(tmp_path / "g.yaml")).run(Event(body=[1])).body == "[1]"


def test_code_that_fails_to_import_is_a_config_error(
    tmp_path: Path, isolated_imports: None
) -> None:
    fn = sg.new_function("h", kind="serving")
    fn.with_code(body="raise RuntimeError('boom')\n", module="broken_h")
    fn.set_topology("flow").to(name="x", handler="x").respond()
    with pytest.raises(ConfigError, match=r"broken_h.*boom"):
        commands.load_server(fn.export(tmp_path / "h.yaml"))


def test_definitions_keep_imports_classes_functions_and_constants_only() -> None:
    source = textwrap.dedent(
        """
        '''doc'''
        import os
        try:
            import numpy
        except ImportError:
            numpy = None
        LIMIT: int = 4
        NAMES = ["a", "b"]
        @staticmethod
        def f():
            return os.sep
        class C:
            pass
        fn = make()
        fn.export("x.yaml")
        if __name__ == "__main__":
            run()
        """
    )
    kept = definitions(source)
    for line in ("'''doc'''", "import numpy", "LIMIT: int = 4", "NAMES =", "@staticmethod",
                 "class C:"):  # fmt: skip
        assert line in kept
    for line in ("make()", "export", "__main__"):
        assert line not in kept


def test_main_names_are_written_by_module() -> None:
    graph = {"steps": {"a": {"class_name": "__main__.Model", "class_args": {"x": "__main__.y"}}}}
    assert rename_main(graph, "app") == {
        "steps": {"a": {"class_name": "app.Model", "class_args": {"x": "__main__.y"}}}
    }


def test_nuclio_runs_the_exported_code_as_the_handler_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_imports: None
) -> None:
    import importlib

    import nuclio_sdk
    from nuclio_sdk.test import Platform

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "models_n.py").write_text(APP)
    fn = sg.code_to_function("n", str(tmp_path / "src" / "models_n.py"), kind="serving")
    fn.set_topology("router").add_route("m", class_name="Times")
    spec = _spec(Path(fn.export(tmp_path / "n.yaml")))
    module, _, entry = spec["spec"]["handler"].partition(":")
    function_dir = tmp_path / "opt-nuclio"  # Nuclio writes the code as <module>.py there
    function_dir.mkdir()
    (function_dir / f"{module}.py").write_text(_source(spec))
    monkeypatch.syspath_prepend(str(function_dir))
    for item in spec["spec"]["env"]:
        monkeypatch.setenv(item["name"], item["value"])
    handler = getattr(importlib.import_module(module), entry)
    event = nuclio_sdk.Event(body=b'{"inputs": [5]}', method="POST", path="/v2/models/m/infer")
    response = Platform().call_handler(handler, event)
    assert response.status_code == 200 and json.loads(response.body)["outputs"] == [15]
