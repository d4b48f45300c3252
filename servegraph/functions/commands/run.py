"""``servegraph run``: run a code file, function spec, hub function or function URL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegraph.errors import RunError, UsageError
from servegraph.functions.commands.options import parse_pairs
from servegraph.functions.factory import KINDS, import_function, new_function
from servegraph.functions.hyper import parse_selector, stop_condition_met
from servegraph.functions.secrets import parse_secret_option

if TYPE_CHECKING:
    from servegraph.functions.base import Function

EXAMPLES = """\
examples:
  servegraph run -p p1=5 -s file=secrets.txt -i infile.txt=data/in.txt example.py
  servegraph run --handler train --hyperparam x=[1,2,3] --selector max.accuracy train.py
  servegraph run --hyperparam x=[1,2,3,4] --parallel-runs 4 train.py
  servegraph run -p p1=5 http://function-endpoint:8080
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``run``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run code locally or against a function URL",
        description="Run a code file, function spec, hub function or URL as a tracked run.",
        epilog=EXAMPLES,
    )
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="a parameter")
    p.add_argument(
        "-s", "--secrets", action="append", metavar="file=PATH|env=NAMES",
        help="secrets from a KEY=VALUE file or named environment variables (repeatable)",
    )  # fmt: skip
    p.add_argument("-i", "--input", action="append", metavar="KEY=URL", help="an input data item")
    p.add_argument("--name", default=None, help="run name (default: the name the code gives)")
    p.add_argument("--handler", default=None, help="function to call in the code")
    p.add_argument("--project", default="", help="project of the run")
    p.add_argument(
        "--kind", default="job", choices=sorted(k for k in KINDS if k != "serving"),
        help="runtime: job (a child process, default), local (in this process), dask...",
    )  # fmt: skip
    p.add_argument(
        "--hyperparam", action="append", metavar="KEY=[V1,V2,...]",
        help="values of a hyper-parameter to try (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--strategy", default=None, choices=["grid", "list", "random"],
        help="how hyper-parameter values combine (default: grid)",
    )  # fmt: skip
    p.add_argument(
        "--max-iterations", type=int, default=None, help="most child runs (random strategy)"
    )
    p.add_argument(
        "--stop-condition", default=None, metavar="'RESULT >= NUMBER'",
        help="stop the hyper-parameter runs once a child's result meets this",
    )  # fmt: skip
    p.add_argument(
        "--parallel-runs", type=int, default=None, help="child runs at once (default: serial)"
    )
    p.add_argument(
        "--selector", default=None, metavar="max.RESULT|min.RESULT",
        help="how the best child run is chosen",
    )  # fmt: skip
    p.add_argument("--artifact-path", default="", help="output path of the run's artifacts")
    p.add_argument("--no-watch", dest="watch", action="store_false", help="do not stream logs")
    p.add_argument(
        "code", metavar="CODE_OR_URL", help="a .py file, a function YAML, hub://name or URL"
    )
    return p


def _function(args: argparse.Namespace) -> Function:
    code: str = args.code
    if code.startswith(("http://", "https://")):
        fn: Function = new_function("", kind="nuclio", url=code, project=args.project)
        return fn
    if code.startswith("hub://"):
        return import_function(code, project=args.project)  # type: ignore[no-any-return]
    path = Path(code)
    if not path.is_file():
        raise UsageError(f"The code {code!r} is not a file, a hub:// name or an http(s) URL.")
    if path.suffix in (".yaml", ".yml"):
        return import_function(str(path), project=args.project)  # type: ignore[no-any-return]
    fn = new_function("", kind=args.kind, command=str(path.resolve()), project=args.project)
    return fn


def _secrets(options: list[str] | None) -> list[dict[str, Any]]:
    sources = []
    for option in options or []:
        try:
            kind, source = parse_secret_option(option)
        except RunError as exc:
            raise UsageError(str(exc)) from exc
        if kind == "file":
            if not Path(source).is_file():
                raise UsageError(f"The secrets file {source!r} (-s file=...) does not exist.")
            source = str(Path(source).resolve())
        sources.append({"kind": kind, "source": source})
    return sources


def _inputs(options: list[str] | None) -> dict[str, str]:
    inputs = parse_pairs(options, "-i", parse=False)
    for key, url in inputs.items():
        if "://" not in url:
            if not Path(url).exists():
                raise UsageError(f"The input file {url!r} (-i {key}=...) does not exist.")
            inputs[key] = str(Path(url).resolve())
    return inputs


def _hyper(args: argparse.Namespace) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    hyper = parse_pairs(args.hyperparam, "--hyperparam")
    for key, values in hyper.items():
        if not isinstance(values, list) or not values:
            raise UsageError(
                f"The '--hyperparam' {key!r} must be a list like [1,2]. Got {values!r}."
            )
    try:
        if args.selector:
            parse_selector(args.selector)
        if args.stop_condition:
            stop_condition_met(args.stop_condition, {})
    except RunError as exc:
        raise UsageError(str(exc)) from exc
    options = {
        "strategy": args.strategy,
        "max_iterations": args.max_iterations,
        "stop_condition": args.stop_condition,
        "parallel_runs": args.parallel_runs,
    }
    return hyper, {k: v for k, v in options.items() if v is not None}


def run(args: argparse.Namespace) -> int:
    """Run the code and print a summary; exit 1 when the run did not complete."""
    try:
        params = parse_pairs(args.param, "-p")
        secrets = _secrets(args.secrets)
        inputs = _inputs(args.input)
        hyper, options = _hyper(args)
        fn = _function(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = fn.run(
        handler=args.handler, params=params, inputs=inputs, hyperparams=hyper or None,
        hyper_param_options=options or None, selector=args.selector, watch=args.watch,
        name=args.name, secrets=secrets, artifact_path=args.artifact_path,
    )  # fmt: skip
    print(f"run {result.name!r} uid={result.uid} project={result.project} state={result.state()}")
    if result.results:
        print("results: " + ", ".join(f"{k}={v}" for k, v in result.results.items()))
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
    print(f"see: servegraph get runs --project {result.project}; servegraph logs {result.uid}")
    return 0 if result.state() == "completed" else 1
