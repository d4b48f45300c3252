"""Kind ``local``: run the code in this process (fast, debuggable).

>>> fn = new_function("calc", kind="local", command="calc.py")   # doctest: +SKIP
>>> fn.run(handler="add", params={"a": 1, "b": 2}).outputs        # doctest: +SKIP
{'return': 3}
"""

from __future__ import annotations

from typing import Any

from servegraph.functions.base import Function
from servegraph.functions.execute import execute
from servegraph.storage.rundb import RunDB


class LocalFunction(Function):
    """Runs in-process: imports the code and calls the handler with the context."""

    kind = "local"

    def _execute(
        self,
        run: dict[str, Any],
        secrets: dict[str, str],
        watch: bool,
        db: RunDB,
        local: bool | None,
    ) -> dict[str, Any]:
        run["spec"]["runtime"]["command"] = code_file(self)
        return execute(run, secrets=secrets, rundb=db.url, watch=watch)


def code_file(fn: Function) -> str:
    """A file path with the function's code (embedded code is written under $SERVEGRAPH_HOME)."""
    from servegraph.config import get_config

    embedded = fn.spec.get("build", {}).get("functionSourceCode")
    if not embedded:
        return str(fn.spec.get("command") or "")
    folder = get_config().home / "code"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{fn.name or 'code'}_{fn.hash()[:12]}.py"
    if not path.exists():
        path.write_text(fn.code())
    return str(path)
