"""Kind ``dask``: run the handler (and hyper-parameter children in parallel) on Dask.

``spec.scheduler_address`` names a running scheduler; without it a
``distributed.LocalCluster`` is started for the run (``processes=False`` by
default, ``spec.n_workers`` workers) and closed afterwards.

>>> fn = new_function("tune", kind="dask", command="train.py")       # doctest: +SKIP
>>> fn.run(handler="train", hyperparams={"C": [0.1, 1, 10]},
...        hyper_param_options={"parallel_runs": 3}, selector="max.accuracy")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from servegraph.errors import RunError
from servegraph.functions.base import Function
from servegraph.functions.execute import execute
from servegraph.functions.local import code_file
from servegraph.storage.rundb import RunDB


def _remote_execute(run: dict[str, Any], secrets: dict[str, str], rundb: str) -> dict[str, Any]:
    # workers may share the process (threads): do not swap sys.stdout there
    return execute(run, secrets=secrets, rundb=rundb, watch=False, capture=False)


class DaskFunction(Function):
    """Runs handlers as Dask tasks (see the module docstring)."""

    kind = "dask"
    default_parallel_runs = 16  # one cluster per batch: batch generously

    def __init__(
        self,
        name: str = "",
        project: str = "",
        scheduler_address: str = "",
        n_workers: int = 1,
        processes: bool = False,
        **spec: Any,
    ) -> None:
        if n_workers < 1:
            raise RunError(f"The 'n_workers' of a dask function must be >= 1. Got {n_workers}.")
        super().__init__(
            name=name,
            project=project,
            scheduler_address=scheduler_address,
            n_workers=n_workers,
            processes=processes,
            **spec,
        )

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A ``distributed.Client`` to the configured scheduler or to a new LocalCluster."""
        from distributed import Client, LocalCluster

        address = str(self.spec.get("scheduler_address") or "")
        if address:
            with Client(address) as client:  # type: ignore[no-untyped-call]
                yield client
            return
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=int(self.spec.get("n_workers") or 1),
                threads_per_worker=2,
                processes=bool(self.spec.get("processes")),
                dashboard_address=":0",  # the HTTP server always starts: a free port
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client

    def _prepare(self, run: dict[str, Any]) -> None:
        run["spec"]["runtime"]["command"] = code_file(self)
        if not run["spec"].get("handler"):
            raise RunError(f"The dask function {self.name!r} needs a 'handler' to run.")

    def _execute(
        self,
        run: dict[str, Any],
        secrets: dict[str, str],
        watch: bool,
        db: RunDB,
        local: bool | None,
    ) -> dict[str, Any]:
        self._prepare(run)
        if local:
            return execute(run, secrets=secrets, rundb=db.url, watch=watch)
        with self.client() as client:
            result: dict[str, Any] = client.submit(
                _remote_execute, run, secrets, db.url, pure=False
            ).result()
        return result

    def run_children(
        self,
        children: list[dict[str, Any]],
        secrets: dict[str, str],
        parallel: int,
        db: RunDB,
        local: bool | None,
    ) -> list[dict[str, Any]]:
        """Run every child as a Dask task, in parallel."""
        for child in children:
            self._prepare(child)
        with self.client() as client:
            futures = [
                client.submit(_remote_execute, child, secrets, db.url, pure=False)
                for child in children
            ]
            return list(client.gather(futures))
