"""The one ``store://`` grammar of servegraph.

    store://{kind}/{project}/{key}[:{tag}][@{uid}]

``kind`` is ``artifacts``, ``models``, ``datasets``, ``feature-sets`` or
``feature-vectors``; ``tag`` defaults to ``latest``; ``uid`` (the content hash
of one version) pins a version whatever the tags say.

>>> parse_store_uri("store://models/churn/clf:v2@ab12")
StoreUri(kind='models', project='churn', key='clf', tag='v2', uid='ab12')
>>> str(parse_store_uri("store://datasets/p/data"))
'store://datasets/p/data:latest'
>>> parse_store_uri("store://models/churn/clf", kinds=("feature-sets",))  # doctest: +ELLIPSIS
Traceback (most recent call last):
servegraph.errors.DataItemError: A store URI must look like store://feature-sets/...
"""

from __future__ import annotations

from typing import NamedTuple

from servegraph.errors import DataItemError

STORE_PREFIX = "store://"
ARTIFACT_KINDS = ("artifacts", "models", "datasets")
KINDS = (*ARTIFACT_KINDS, "feature-sets", "feature-vectors")
LATEST = "latest"


class StoreUri(NamedTuple):
    """A parsed ``store://`` URI; ``str()`` gives it back in full form."""

    kind: str
    project: str
    key: str
    tag: str = LATEST
    uid: str = ""

    def __str__(self) -> str:
        return make_store_uri(self.kind, self.project, self.key, self.tag, self.uid)


def is_store_uri(text: object) -> bool:
    """Whether ``text`` is a ``store://`` URI (of any kind)."""
    return isinstance(text, str) and text.startswith(STORE_PREFIX)


def make_store_uri(kind: str, project: str, key: str, tag: str = LATEST, uid: str = "") -> str:
    """The URI of an object.

    >>> make_store_uri("models", "churn", "clf", "v1")
    'store://models/churn/clf:v1'
    """
    uri = f"{STORE_PREFIX}{kind}/{project}/{key}:{tag or LATEST}"
    return f"{uri}@{uid}" if uid else uri


def parse_store_uri(uri: str, kinds: tuple[str, ...] = KINDS) -> StoreUri:
    """Split a ``store://`` URI into its parts (see the module docstring)."""
    rest = uri[len(STORE_PREFIX) :] if is_store_uri(uri) else ""
    parts = rest.split("/", 2)
    if len(parts) != 3 or parts[0] not in kinds or not parts[1]:
        raise DataItemError(
            f"A store URI must look like store://{kinds[0]}/{{project}}/{{key}}[:tag][@uid] "
            f"(kind one of {', '.join(kinds)}). Got {uri!r} instead."
        )
    kind, project, key = parts
    key, _, uid = key.partition("@")
    key, _, tag = key.partition(":")
    if not key or "/" in key or ":" in tag:
        raise DataItemError(
            f"The key of store URI {uri!r} must be a name without '/' "
            "followed by an optional :tag and @uid."
        )
    return StoreUri(kind, project, key, tag or LATEST, uid)


__all__ = ["KINDS", "STORE_PREFIX", "StoreUri", "is_store_uri", "make_store_uri", "parse_store_uri"]
