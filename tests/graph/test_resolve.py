"""Class and handler resolution, and MLRun-style construction."""

from __future__ import annotations

import collections
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servegraph.errors import GraphError
from servegraph.graph import construct, resolve_class, resolve_handler
from servegraph.graph.resolve import (
    BUILTIN_CLASSES,
    accepted_parameters,
    builtin_name,
    import_object,
    is_router_class,
    object_path,
)


class Echo:
    class Inner:
        pass

    def do(self, event: Any) -> Any:
        return event


class Plain:
    def __init__(self, factor: int) -> None:
        self.factor = factor


class WithContext:
    def __init__(self, context: Any, name: str | None = None, factor: int = 1) -> None:
        self.context, self.name, self.factor = context, name, factor


class Open:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class Failing:
    def __init__(self) -> None:
        raise TypeError("boom inside")


def add_one(event: int) -> int:
    return event + 1


NOT_A_CLASS = 5


@pytest.fixture
def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module on sys.path whose import fails on a missing dependency."""
    name = "sg_broken_mod"
    (tmp_path / f"{name}.py").write_text("import sg_no_such_dependency\nclass C: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


# -- resolve_class -----------------------------------------------------------------------


def test_class_instance_namespace_and_dotted_paths() -> None:
    assert resolve_class(Echo) is Echo
    assert resolve_class(Echo()) is Echo
    assert resolve_class("Echo", {"Echo": Echo}) is Echo
    assert resolve_class("Echo", sys.modules[__name__]) is Echo
    assert resolve_class("Echo", [{}, {"Echo": Echo}]) is Echo
    assert resolve_class(f"{__name__}.Echo") is Echo
    assert resolve_class(f"{__name__}:Echo") is Echo
    assert resolve_class(f"{__name__}.Echo.Inner") is Echo.Inner
    assert resolve_class("collections.OrderedDict") is collections.OrderedDict


def test_namespace_wins_over_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN_CLASSES, "ModelRouter", "collections:OrderedDict")
    assert resolve_class("ModelRouter") is collections.OrderedDict
    assert resolve_class("ModelRouter", {"ModelRouter": Echo}) is Echo


def test_builtin_names_and_mlrun_aliases_import_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN_CLASSES, "VotingEnsemble", "collections:Counter")
    assert resolve_class("VotingEnsemble") is collections.Counter
    assert resolve_class("mlrun.serving.VotingEnsemble") is collections.Counter
    assert resolve_class("mlrun.serving.routers.VotingEnsemble") is collections.Counter
    assert builtin_name("mlrun.frameworks.sklearn.SKLearnModelServer") == "SKLearnModelServer"
    assert builtin_name("mypkg.Model") is None


def test_builtin_map_points_at_the_planned_modules() -> None:
    assert BUILTIN_CLASSES["ModelRouter"] == "servegraph.serving.routers:ModelRouter"
    assert BUILTIN_CLASSES["SplitRouter"] == "servegraph.serving.routers:SplitRouter"
    assert BUILTIN_CLASSES["VotingEnsemble"] == "servegraph.serving.routers:VotingEnsemble"
    assert BUILTIN_CLASSES["V2ModelServer"] == "servegraph.serving.v2_serving:V2ModelServer"
    assert BUILTIN_CLASSES["Merge"] == "servegraph.serving.merge:Merge"
    assert BUILTIN_CLASSES["SKLearnModelServer"] == (
        "servegraph.serving.sklearn_server:SKLearnModelServer"
    )
    assert BUILTIN_CLASSES["EnrichStep"] == "servegraph.featurestore.enrich:EnrichStep"


@pytest.mark.parametrize(
    ("class_name", "message"),
    [
        (None, "cannot resolve class None: no class name given"),
        ("  ", "no class name given"),
        ("Nope", "cannot resolve class 'Nope': not in the namespace, not a built-in"),
        ("no_such_pkg.Thing", "cannot resolve class 'no_such_pkg.Thing': no module found"),
        (f"{__name__}.Missing", f"module '{__name__}' has no 'Missing'"),
        (f"{__name__}.NOT_A_CLASS", "it names 5, not a class"),
        (f"{__name__}.add_one", "not a class"),
        ("a..b", "not a name or dotted path"),
        (add_one, "not a class or an instance"),
        (json, "not a class or an instance"),
    ],
)
def test_unresolvable_classes(class_name: object, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        resolve_class(class_name)


def test_missing_dependency_of_an_existing_module_is_reported(broken_module: str) -> None:
    with pytest.raises(GraphError, match="No module named 'sg_no_such_dependency'"):
        resolve_class(f"{broken_module}.C")


def test_module_raising_on_import_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sg_raising_mod.py").write_text("raise RuntimeError('bad module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(GraphError, match="importing 'sg_raising_mod' failed: RuntimeError"):
            resolve_class("sg_raising_mod.C")
    finally:
        sys.modules.pop("sg_raising_mod", None)


def test_is_router_class() -> None:
    assert is_router_class("ModelRouter") and is_router_class("VotingEnsemble")
    assert is_router_class("SplitRouter") and is_router_class(
        "mlrun.serving.routers.BaseModelRouter"
    )
    assert is_router_class("mlrun.serving.ModelRouter")
    # one registry decides, whatever module path spells the class (not a module prefix)
    assert is_router_class("servegraph.serving.ensemble.VotingEnsemble")
    assert is_router_class("servegraph.serving.routers.VotingEnsemble")
    assert not is_router_class("servegraph.serving.routers.WeightedSplit")  # not registered
    assert not is_router_class("V2ModelServer") and not is_router_class("mypkg.Model")
    assert not is_router_class(None) and not is_router_class(Echo) and not is_router_class(Echo())
    # a class is a router when it says so (serving's BaseModelRouter does), not by its module
    router_cls = types.new_class(
        "CustomRouter", exec_body=lambda ns: ns.update(graph_kind="router")
    )
    subclass = types.new_class("MyRouter", (router_cls,))
    assert is_router_class(router_cls) and is_router_class(subclass) and is_router_class(subclass())
    moved = types.new_class("Moved")
    moved.__module__ = "servegraph.serving.routers"
    assert not is_router_class(moved)


def test_builtin_kinds_are_registered_by_the_layers_that_define_them() -> None:
    from servegraph.graph import kinds
    from servegraph.serving.routers import BaseModelRouter

    assert BUILTIN_CLASSES["ParallelRun"] == "servegraph.serving.parallel:ParallelRun"
    assert "ParallelRun" in kinds.ROUTERS and "V2ModelServer" not in kinds.ROUTERS
    assert builtin_name("servegraph.serving.merge.Merge") == "Merge"  # the path itself too
    assert BaseModelRouter.graph_kind == kinds.ROUTER_KIND
    with pytest.raises(GraphError, match="module:Class"):
        kinds.register("Bad", "no_colon")


def test_object_path_and_import_object() -> None:
    assert object_path(Echo) == f"{__name__}.Echo"
    assert object_path(Echo()) == f"{__name__}.Echo"
    assert object_path(add_one) == f"{__name__}.add_one"
    assert object_path(Echo.Inner) == f"{__name__}.Echo.Inner"
    assert import_object("json.dumps") is json.dumps
    assert import_object("json:dumps") is json.dumps


# -- resolve_handler ---------------------------------------------------------------------


def test_handler_forms() -> None:
    assert resolve_handler(add_one) is add_one
    assert resolve_handler("add_one", {"add_one": add_one}) is add_one
    assert resolve_handler(f"{__name__}.add_one") is add_one
    assert resolve_handler("json.dumps") is json.dumps
    assert resolve_handler("len") is len


def test_expression_handlers_see_the_namespace() -> None:
    assert resolve_handler("(event + 1)")(1) == 2
    assert resolve_handler(" (event['x'] * 2) ")({"x": 4}) == 8
    assert resolve_handler("(add_one(event))", {"add_one": add_one})(1) == 2
    assert resolve_handler("(len(event))")([1, 2]) == 2


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (None, "no handler given"),
        ("", "no handler given"),
        ("(event +)", "cannot resolve handler '\\(event \\+\\)': bad expression"),
        ("nope", "cannot resolve handler 'nope': not in the namespace and not a dotted path"),
        (f"{__name__}.NOT_A_CLASS", "it names 5, not a function"),
        ("no_such_pkg.fn", "no module found"),
        (5, "not a function or a name"),
    ],
)
def test_unresolvable_handlers(handler: object, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        resolve_handler(handler)


# -- construct ---------------------------------------------------------------------------


def test_construct_passes_context_and_name_only_when_accepted() -> None:
    made = construct(WithContext, {"factor": 3}, context="ctx", name="s")
    assert isinstance(made, WithContext)
    assert (made.context, made.name, made.factor) == ("ctx", "s", 3)
    plain = construct(Plain, {"factor": 2}, context="ctx", name="s")
    assert isinstance(plain, Plain) and plain.factor == 2


def test_construct_passes_everything_to_kwargs_constructors() -> None:
    made = construct(Open, {"a": 1}, context="ctx", name="s")
    assert isinstance(made, Open)
    assert made.kwargs == {"a": 1, "context": "ctx", "name": "s"}


def test_construct_class_arg_may_override_name() -> None:
    made = construct(WithContext, {"name": "given"}, context=None, name="s")
    assert isinstance(made, WithContext) and made.name == "given"


def test_construct_resolves_underscore_handler_args() -> None:
    made = construct(Open, {"_fn": "add_one"}, namespace={"add_one": add_one})
    assert isinstance(made, Open) and made.kwargs["fn"] is add_one


def test_construct_rejects_unknown_class_args() -> None:
    with pytest.raises(
        GraphError,
        match="step 's': class Plain does not accept argument 'bad' \\(accepts: factor\\)",
    ):
        construct(Plain, {"factor": 1, "bad": 2}, name="s")


def test_construct_reports_constructor_type_errors() -> None:
    with pytest.raises(GraphError, match=r"class Plain: cannot create Plain: .*factor"):
        construct(Plain, {})
    with pytest.raises(GraphError, match="cannot create Failing: boom inside"):
        construct(Failing)


def test_accepted_parameters() -> None:
    assert accepted_parameters(WithContext) == ({"context", "name", "factor"}, False)
    assert accepted_parameters(Open) == (set(), True)
    names, var_keyword = accepted_parameters(dict)
    assert var_keyword or "self" not in names
