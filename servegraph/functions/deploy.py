"""``deploy_function``: deploy a serving function in-process (mock) or to Nuclio."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from servegraph.config import mlconf
from servegraph.errors import DeployError
from servegraph.functions.serving import ServingFunction


def deploy_function(
    function: ServingFunction,
    models: list[dict[str, Any]] | None = None,
    env: Mapping[str, str] | None = None,
    mock: bool | None = None,
    dashboard: str | None = None,
    namespace: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ServingFunction:
    """Deploy a function: in-process with ``mock=True`` (then ``fn.invoke``), else to Nuclio.

    ``models`` is a list of ``add_model`` keyword dicts (``{"key": ..., "class_name": ...}``)
    and ``env`` environment variables, both applied first (MLRun's signature).
    Without ``mock``, ``servegraph.mlconf.mock_nuclio_deployment`` decides::

        deploy_function(fn, models=[{"key": "m1", "class_name": "MyModel"}], mock=True)
    """
    if not isinstance(function, ServingFunction):
        raise DeployError(
            f"deploy_function() needs a serving function. Got {type(function).__name__} instead."
        )
    for model in models or []:
        if not isinstance(model, Mapping) or "key" not in model:
            raise DeployError(
                f"Each entry of the 'models' parameter of deploy_function must be a dict "
                f"with a 'key'. Got {model!r} instead."
            )
        function.add_model(**model)
    for name, value in (env or {}).items():
        function.set_env(name, value)
    if mlconf.use_mock(mock, dashboard):
        if namespace is None:
            frame = inspect.currentframe()
            caller = frame.f_back if frame is not None else None
            namespace = caller.f_globals if caller is not None else None
            del frame, caller
        server = function.to_mock_server(namespace=namespace, **kwargs)
        if function._mock_server is not None:  # a redeploy: run the old one's close hooks
            function._mock_server.wait_for_completion()
        function._mock_server = server
    else:
        function._mock_server = None
        function.deploy(dashboard)
    return function
