"""The local platform: functions as processes on this machine, from their specs alone.

``servegraph deploy`` / ``ps`` / ``stop`` and ``fn.deploy(local=True)`` use
:mod:`.launcher` (start, stop) over :mod:`.registry` (working folders and
state under ``$SERVEGRAPH_HOME/platform``); :mod:`.runner` is the detached
process that runs each function and records how it ended.

>>> read_record("scorer").url  # doctest: +SKIP
'http://127.0.0.1:41234'
"""

from servegraph.functions.platform.launcher import Deployment, start, stop
from servegraph.functions.platform.registry import (
    FunctionRecord,
    FunctionState,
    list_records,
    read_record,
)

__all__ = [
    "Deployment",
    "FunctionRecord",
    "FunctionState",
    "list_records",
    "read_record",
    "start",
    "stop",
]
