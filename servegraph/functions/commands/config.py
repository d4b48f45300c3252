"""``servegraph config``: the effective settings and where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from servegraph.config import describe_config
from servegraph.console import add_output_option, hide_password, print_rows

EXAMPLES = """\
examples:
  servegraph config                 # home, run database, stores and streams in effect
  servegraph config -o json
  SERVEGRAPH_HOME=/srv/sg servegraph config
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``config``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "config",
        help="print the effective settings (home, databases, streams) and their source",
        description=(
            "Print the settings in effect: the home of embedded state, the run database,\n"
            "the artifact path, the online/offline feature stores and the stream defaults,\n"
            "each with where it came from (an environment variable or a default)."
        ),
        epilog=EXAMPLES,
    )
    add_output_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Print one line per setting."""
    rows = [
        {"setting": name, "value": hide_password(value), "source": source}
        for name, value, source in describe_config()
    ]
    print_rows(
        rows, args.output, ("name", "value", "source"),
        lambda r: (r["setting"], r["value"], r["source"]),
    )  # fmt: skip
    return 0
