"""Hyper-parameter runs: one child run per parameter set, the best one selected.

Strategies: ``grid`` (every combination), ``list`` (the i-th value of every
list), ``random`` (``max_iterations`` draws from the grid). Options:
``max_iterations``, ``max_errors``, ``stop_condition`` (``"accuracy >= 0.9"``),
``selector`` (``"max.accuracy"`` / ``"min.loss"``), ``parallel_runs``, ``seed``,
``param_file`` (a table of parameter sets, one child per row).
The parent run records every child's parameters and results as the
``iterations`` table, and the best child's results and ``best_iteration``.

>>> generate({"a": [1, 2], "b": ["x"]}, {"strategy": "grid"})
[{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
>>> parse_selector("max.accuracy")
('max', 'accuracy')
>>> stop_condition_met("accuracy >= 0.9", {"accuracy": 0.95})
True
"""

from __future__ import annotations

import copy
import itertools
import operator
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from servegraph.errors import RunError
from servegraph.functions.runspec import now_str, plain
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import RunDB

if TYPE_CHECKING:
    from servegraph.functions.base import Function

STRATEGIES = ("grid", "list", "random")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.eE+-]+)\s*$")


def generate(hyperparams: dict[str, list[Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameter sets of a hyper-parameter run.

    ``options["param_file"]`` (a CSV/JSON/Parquet data item URL) gives the sets as rows
    instead, one child per row.
    """
    if options.get("param_file"):
        records = get_dataitem(str(options["param_file"])).as_df().to_dict("records")
        from_file = [{str(k): plain(v) for k, v in row.items()} for row in records]
        limit = int(options.get("max_iterations") or 0)
        return from_file[:limit] if limit else from_file
    strategy = options.get("strategy", "grid")
    if strategy not in STRATEGIES:
        raise RunError(
            f"The hyper-parameter 'strategy' must be one of {STRATEGIES}. Got {strategy!r}."
        )
    for key, values in hyperparams.items():
        if not isinstance(values, list) or not values:
            raise RunError(f"The hyper-parameter {key!r} must be a non-empty list. Got {values!r}.")
    keys = list(hyperparams)
    max_iter = int(options.get("max_iterations") or 0)
    if strategy == "list":
        lengths = {len(v) for v in hyperparams.values()}
        if len(lengths) > 1:
            raise RunError(f"The 'list' strategy needs equal-length lists. Got {sorted(lengths)}.")
        rows = zip(*hyperparams.values(), strict=True)
        sets = [dict(zip(keys, values, strict=True)) for values in rows]
    else:
        sets = [dict(zip(keys, c, strict=True)) for c in itertools.product(*hyperparams.values())]
    if strategy == "random":
        rng = random.Random(options.get("seed"))
        count = max_iter or len(sets)
        return [dict(rng.choice(sets)) for _ in range(count)]
    return sets[:max_iter] if max_iter else sets


def parse_selector(selector: str) -> tuple[str, str]:
    """Split ``"max.accuracy"`` into ``("max", "accuracy")``."""
    op, sep, key = selector.partition(".")
    if not sep or op not in ("max", "min") or not key:
        raise RunError(f"The 'selector' must be max.RESULT or min.RESULT. Got {selector!r}.")
    return op, key


def stop_condition_met(condition: str, results: dict[str, Any]) -> bool:
    """Evaluate ``"key op number"`` against a child's results."""
    match = _CONDITION.match(condition)
    if not match:
        raise RunError(
            f"The 'stop_condition' must look like 'accuracy >= 0.9'. Got {condition!r} instead."
        )
    key, op, number = match.groups()
    if key not in results:
        return False
    return bool(_OPS[op](results[key], float(number)))


def select_best(children: list[dict[str, Any]], selector: str) -> dict[str, Any] | None:
    """The completed child with the max/min result (the first completed one without selector)."""
    done = [c for c in children if c["status"]["state"] == "completed"]
    if not selector:
        return done[0] if done else None
    op, key = parse_selector(selector)
    scored = [c for c in done if isinstance(c["status"]["results"].get(key), int | float)]
    if not scored:
        return None
    pick = max if op == "max" else min
    return pick(scored, key=lambda c: c["status"]["results"][key])


def _child(run: dict[str, Any], iteration: int, params: dict[str, Any]) -> dict[str, Any]:
    child = copy.deepcopy(run)
    child["metadata"]["iteration"] = iteration
    child["spec"]["parameters"] = {**run["spec"]["parameters"], **params}
    child["spec"]["hyperparams"] = {}
    child["spec"]["hyper_param_options"] = {}
    child["spec"]["output_path"] = child["spec"]["default_output_path"] = ""
    return child


def iterations_table(children: list[dict[str, Any]]) -> list[list[Any]]:
    """``[header, row...]`` with state, iteration, ``param.*`` and ``output.*`` columns."""
    params = sorted({k for c in children for k in c["spec"]["parameters"]})
    outputs = sorted({k for c in children for k in c["status"]["results"]})
    header = ["state", "iter", *[f"param.{p}" for p in params], *[f"output.{o}" for o in outputs]]
    rows = [
        [
            c["status"]["state"],
            c["metadata"]["iteration"],
            *[c["spec"]["parameters"].get(p) for p in params],
            *[c["status"]["results"].get(o) for o in outputs],
        ]
        for c in children
    ]
    return [header, *rows]


def run_hyper(
    fn: Function,
    run: dict[str, Any],
    hyperparams: dict[str, list[Any]],
    options: dict[str, Any],
    secrets: dict[str, str],
    watch: bool,
    db: RunDB,
    local: bool | None,
) -> dict[str, Any]:
    """Run every child, then record the parent with the iterations and the best child."""
    sets = generate(hyperparams, options)
    selector = str(options.get("selector") or "")
    if selector:
        parse_selector(selector)
    condition = str(options.get("stop_condition") or "")
    if condition:
        stop_condition_met(condition, {})  # a malformed condition fails before any record
    run["spec"]["hyperparams"] = hyperparams
    run["spec"]["hyper_param_options"] = options
    run["status"].update(state="running", start_time=now_str())
    db.store_run(run)
    try:
        children = _run_children(fn, run, sets, options, secrets, watch, db, local)
    except BaseException as exc:  # never leave the parent "running"
        run["status"].update(state="error", error=f"{type(exc).__name__}: {exc}")
        run["status"]["last_update"] = now_str()
        db.store_run(run)
        raise
    if not run["metadata"]["name"] and children:  # the code named its children
        run["metadata"]["name"] = children[0]["metadata"]["name"]
    best = select_best(children, selector)
    status = run["status"]
    status["iterations"] = iterations_table(children)
    if best is None:
        status.update(state="error", error="no child run completed with the selector's result")
    else:
        status.update(state="completed", best_iteration=best["metadata"]["iteration"])
        status["results"] = dict(best["status"]["results"])
        status["results"]["best_iteration"] = status["best_iteration"]
        status["outputs"] = dict(status["results"])
        status["artifacts"] = best["status"]["artifacts"]
        _tag_best_artifacts(db, best)
        status["output_artifacts"] = best["status"]["output_artifacts"]
    status["last_update"] = now_str()
    db.store_run(run)
    return run


def _run_children(
    fn: Function,
    run: dict[str, Any],
    sets: list[dict[str, Any]],
    options: dict[str, Any],
    secrets: dict[str, str],
    watch: bool,
    db: RunDB,
    local: bool | None,
) -> list[dict[str, Any]]:
    """Run the children in batches until done, ``max_errors`` or the stop condition."""
    condition = str(options.get("stop_condition") or "")
    parallel = int(options.get("parallel_runs") or fn.default_parallel_runs)
    max_errors = int(options.get("max_errors") or 0)
    children: list[dict[str, Any]] = []
    batch = parallel if parallel > 1 else 1
    for start in range(0, len(sets), batch):
        chunk = [_child(run, start + i + 1, p) for i, p in enumerate(sets[start : start + batch])]
        done = fn.run_children(chunk, secrets, parallel, db, local)
        children.extend(done)
        if watch:
            for c in done:
                print(f"iteration {c['metadata']['iteration']}: {c['status']['state']} "
                      f"{c['status']['results']}")  # fmt: skip
        errors = sum(c["status"]["state"] == "error" for c in children)
        if max_errors and errors >= max_errors:
            break
        if condition and any(stop_condition_met(condition, c["status"]["results"]) for c in done):
            break
    return children


def _tag_best_artifacts(db: RunDB, best: dict[str, Any]) -> None:
    """Point ``latest`` (and each artifact's own tag) back at the best child's versions.

    Every child logged its artifacts under the same keys, so ``latest`` was left
    at whichever child finished last.
    """
    for record in best["status"]["artifacts"]:
        meta = record["metadata"]
        tag = meta.get("tag") or "latest"
        tags = ("latest", tag) if tag != "latest" else ("latest",)
        db.store_artifact(meta["key"], record, meta["hash"], meta.get("project", ""), tags,
                          producer=best["metadata"]["uid"])  # fmt: skip
