"""Model paths of model servers: ``store://models/...`` URIs resolved through storage.

    local_model_path("store://models/churn/clf:production")  # -> a local file

Serving never imports the functions layer: the run database is read through
``servegraph.storage`` (the one ``store://`` grammar lives in ``storage.uri``).
"""

from __future__ import annotations

from servegraph.errors import NotFoundError, NotFoundInStoreError
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.dataitem import resolve_model_path as _resolve
from servegraph.storage.uri import is_store_uri


def resolve_model_path(model_path: str) -> str:
    """The file or URL a model path names (a ``store://`` URI becomes its target)."""
    try:
        return _resolve(model_path)
    except NotFoundInStoreError as exc:
        raise NotFoundError(f"model_path {model_path!r}: {exc}") from exc


def local_model_path(model_path: str) -> str:
    """A local path for ``model_path``: store URIs resolved, remote files copied locally."""
    target = resolve_model_path(model_path)
    if "://" not in target or target.startswith("file://"):
        return target.removeprefix("file://")
    if is_store_uri(target):
        return target
    return get_dataitem(target).local()


__all__ = ["local_model_path", "resolve_model_path"]
