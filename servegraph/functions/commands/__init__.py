"""CLI sub-commands of the functions layer: ``run``, ``get``, ``logs``, ``project``.

Each module has ``add_parser(subparsers)`` and ``run(args) -> int``. Exit codes:
0 success, 1 the run (or workflow) failed or a servegraph error, 2 bad arguments.
"""
