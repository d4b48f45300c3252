"""new_function, code_to_function, import_function; function hashing and versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import RunError
from servegraph.functions.base import Function
from servegraph.functions.factory import (
    KINDS,
    code_to_function,
    function_class,
    import_function,
    new_function,
)
from servegraph.storage.rundb import get_run_db


def test_kinds_are_registered_and_serving_is_kept() -> None:
    assert KINDS["serving"] == "servegraph.functions.serving:ServingFunction"
    for kind in ("job", "local", "nuclio", "dask"):
        assert issubclass(function_class(kind), Function)
        assert function_class(kind).kind == kind
    with pytest.raises(RunError, match="'spark'"):
        new_function("x", kind="spark")


def test_new_function_spec_and_round_trip() -> None:
    fn = new_function("trainer", kind="job", command="t.py", image="python:3.11",
                      requirements=["scikit-learn"], project="p")  # fmt: skip
    data = fn.to_dict()
    assert data["kind"] == "job" and data["metadata"]["project"] == "p"
    assert data["spec"]["image"] == "python:3.11" and data["spec"]["requirements"] == [
        "scikit-learn"
    ]
    again = Function.from_dict(data)
    assert type(again) is type(fn) and again.to_dict() == data
    assert "kind: job" in fn.to_yaml()


def test_hash_covers_spec_and_code_and_save_makes_versions(tmp_path: Path) -> None:
    code = tmp_path / "f.py"
    code.write_text("def h(context):\n    return 1\n")
    fn = code_to_function("f", str(code), kind="local", handler="h")
    first = fn.save()
    assert fn.save() == first  # unchanged: same version
    fn.spec["image"] = "other"
    second = fn.save(tag="v2")
    code.write_text("def h(context):\n    return 2\n")
    third = code_to_function("f", str(code), kind="local", handler="h").save()
    assert len({first, second, third}) == 3
    db = get_run_db()
    assert db.get_function("f", "default")["metadata"]["hash"] == third
    assert db.get_function("f", "default", tag="v2")["spec"]["image"] == "other"
    assert len(db.list_functions("default", all_versions=True)) == 3
    with pytest.raises(RunError, match="name"):
        new_function("", kind="job").save()


def test_code_to_function_embeds_code_and_runs_it(tmp_path: Path) -> None:
    code = tmp_path / "calc.py"
    code.write_text("def twice(context, x=1):\n    return {'y': 2 * x}\n")
    fn = code_to_function("calc", str(code), kind="local", handler="twice")
    assert "def twice" in fn.code()
    code.unlink()  # the embedded copy is what runs
    assert fn.run(params={"x": 4}, watch=False).outputs == {"y": 8}
    with pytest.raises(RunError, match="filename"):
        code_to_function("x", str(code), kind="job")


def test_import_function_from_yaml_py_and_hub(tmp_path: Path, code_file: str) -> None:
    path = new_function("t", kind="local", command=code_file, handler="add").export(
        str(tmp_path / "fn.yaml")
    )
    fn = import_function(path)
    assert fn.kind == "local" and fn.run(watch=False).outputs["sum"] == 3
    assert import_function(code_file).kind == "job"
    hub = import_function("hub://describe")
    assert hub.kind == "job" and Path(hub.spec["command"]).is_file()
    with pytest.raises(RunError, match="hub has no function 'nope'"):
        import_function("hub://nope")
    with pytest.raises(RunError, match=r"missing\.yaml"):
        import_function(str(tmp_path / "missing.yaml"))


def test_hub_path_comes_from_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "myhub" / "greeter"
    folder.mkdir(parents=True)
    (folder / "greet.py").write_text(
        "def greet(context, who='x'):\n    return {'msg': 'hi ' + who}\n"
    )
    (folder / "function.yaml").write_text(
        "kind: local\nmetadata: {name: greeter}\n"
        "spec: {command: greet.py, default_handler: greet}\n"
    )
    monkeypatch.setenv("SERVEGRAPH_HUB_PATH", str(tmp_path / "myhub"))
    fn = import_function("hub://greeter", project="hubbed")
    assert fn.project == "hubbed"
    assert fn.run(params={"who": "bob"}, watch=False).outputs == {"msg": "hi bob"}
