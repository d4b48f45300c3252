"""Entry point of a ``job`` run's subprocess: ``python -m servegraph.functions.child``.

Reads the run spec and secrets from the environment (set by the job runtime or
the CLI), executes the run and exits 0 when it completed, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys

from servegraph.functions.context import EXEC_CONFIG_ENV, EXEC_SECRETS_ENV
from servegraph.functions.execute import execute


def main() -> int:
    """Execute the run described by ``$SERVEGRAPH_EXEC_CONFIG``."""
    run = json.loads(os.environ[EXEC_CONFIG_ENV])
    secrets = json.loads(os.environ.pop(EXEC_SECRETS_ENV, "") or "{}")
    result = execute(run, secrets=secrets, store_log=False)  # the parent stores the stream
    return 0 if result["status"]["state"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
