"""The CLI dispatcher: sub-commands are found, missing ones are skipped, errors exit 1."""

from __future__ import annotations

import argparse

import pytest

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
