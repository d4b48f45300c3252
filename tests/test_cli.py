"""The CLI dispatcher: sub-commands are found, missing ones are skipped, errors exit 1."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

import servegraph
from servegraph import cli
from servegraph.errors import ConfigError


def test_help_lists_every_built_sub_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for name in ("run", "get", "logs", "project", "monitor"):
        assert name in out


def test_a_missing_sub_command_module_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.COMMANDS, "ghost", "servegraph.no_such_package.commands")
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["ghost"])


def test_a_servegraph_error_exits_1_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Failing:
        @staticmethod
        def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
            return sub.add_parser("fail")

        @staticmethod
        def run(args: argparse.Namespace) -> int:
            raise ConfigError("bad URL 'x://'")

    monkeypatch.setitem(cli.COMMANDS, "fail", "fake.failing")
    real_import = cli.importlib.import_module
    monkeypatch.setattr(
        cli.importlib,
        "import_module",
        lambda name: Failing if name == "fake.failing" else real_import(name),
    )
    assert cli.main(["fail"]) == 1
    assert "bad URL 'x://'" in capsys.readouterr().err


def _parsers(parser: argparse.ArgumentParser, path: str = "servegraph") -> list[tuple[str, Any]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _parsers(sub, f"{path} {name}")
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {action.option_strings or action.dest}"
        for path, parser in _parsers(cli.build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_examples_keep_their_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["get", "--help"])
    out = capsys.readouterr().out
    assert "\n  servegraph get runs --project churn --state error\n" in out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "\n  servegraph get runs " in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"servegraph {servegraph.__version__}"


def test_serve_imports_only_what_serving_needs() -> None:
    """`servegraph serve` builds its own parser alone: no feature store, run DB or UI."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from servegraph import cli\n"
        "try:\n"
        "    cli.main(['serve', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('storey', 'sqlalchemy', 'pandas', 'pyarrow', 'alembic', 'servegraph.ui')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
