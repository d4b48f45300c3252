"""servegraph: a serverless function platform for real-time ML serving graphs.

Write a model class and a few transforms, wire them into a serving graph,
test it in-process, serve it over HTTP or from a stream, deploy it to Nuclio,
and track every run. MLRun users can bring their code over by changing the
import (``import servegraph as mlrun``).

Names are imported lazily, so ``import servegraph`` is cheap and a layer is
only loaded when it is used.
"""

from __future__ import annotations

from servegraph._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # functions (serving kind first; runs/runtimes fill in the other kinds)
    "new_function": "servegraph.functions.factory",
    "code_to_function": "servegraph.functions.factory",
    "import_function": "servegraph.functions.factory",
    "deploy_function": "servegraph.functions.deploy",
    # runs
    "get_or_create_ctx": "servegraph.functions.context",
    "get_run_db": "servegraph.storage.rundb",
    "get_dataitem": "servegraph.storage.dataitem",
    # the model registry and lineage
    "get_model": "servegraph.functions.registry",
    "list_models": "servegraph.functions.registry",
    "tag_model": "servegraph.functions.registry",
    "lineage": "servegraph.monitoring.lineage",
    # projects
    "new_project": "servegraph.functions.project",
    "load_project": "servegraph.functions.project",
    "get_or_create_project": "servegraph.functions.project",
    # configuration and errors
    "get_config": "servegraph.config",
    "mlconf": "servegraph.config",
    "ServegraphError": "servegraph.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("servegraph", _EXPORTS, globals())
