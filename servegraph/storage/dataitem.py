"""Data items: read and write any URL the same way, through fsspec.

``get_dataitem(url)`` accepts a local path, ``file://``, ``http(s)://``,
``s3://`` (when ``s3fs`` is installed) or any other fsspec protocol, and the
``store://artifacts/{project}/{key}[:tag]`` / ``store://models/...`` URIs of
logged artifacts, resolved through the run database.

>>> item = get_dataitem("data/iris.csv")                  # doctest: +SKIP
>>> item.get()[:20], item.as_df().shape                   # doctest: +SKIP
>>> get_dataitem("store://artifacts/churn/model:latest").local()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from fsspec.core import url_to_fs

from servegraph.config import get_config
from servegraph.errors import DataItemError
from servegraph.storage.uri import (
    ARTIFACT_KINDS,
    STORE_PREFIX,
    is_store_uri,
    parse_store_uri,
)

if TYPE_CHECKING:
    import pandas as pd


def resolve_store_uri(uri: str, db: Any = None) -> tuple[str, dict[str, Any]]:
    """Return the target path of a store URI and the artifact record behind it."""
    from servegraph.storage.rundb import get_run_db

    ref = parse_store_uri(uri, ARTIFACT_KINDS)
    artifact = (db or get_run_db()).read_artifact(
        ref.key, tag=ref.tag, project=ref.project, hash_=ref.uid or None
    )
    target = artifact.get("spec", {}).get("target_path")
    if not target:
        raise DataItemError(f"artifact {uri!r} has no stored data (no target_path)")
    return str(target), artifact


def resolve_model_path(model_path: str, db: Any = None) -> str:
    """The file or URL behind a model path: a ``store://`` URI resolves to its target.

    Any other path is returned as given. Model servers call this before loading,
    so ``model_path="store://models/{project}/{key}[:tag][@uid]"`` works everywhere.
    """
    if not is_store_uri(model_path):
        return model_path
    return resolve_store_uri(model_path, db)[0]


class DataItem:
    """A readable/writable object at a URL (see the module docstring)."""

    def __init__(
        self,
        url: str,
        key: str = "",
        storage_options: dict[str, Any] | None = None,
        artifact: dict[str, Any] | None = None,
        target: str | None = None,
    ) -> None:
        self.url = url
        self.key = key or PurePosixPath(url.split("?")[0]).name
        self.artifact = artifact
        self._target = target or url
        self._options = storage_options or {}
        self._local: str | None = None

    def __repr__(self) -> str:
        return f"DataItem({self.url!r})"

    @property
    def suffix(self) -> str:
        """File suffix of the underlying object (``.csv``), or ``""``."""
        return PurePosixPath(self._target.split("?")[0]).suffix.lower()

    def _fs(self) -> tuple[Any, str]:
        try:
            fs, path = url_to_fs(self._target, **self._options)
        except (ImportError, ValueError) as exc:
            protocol = self._target.split("://", 1)[0]
            raise DataItemError(
                f"The protocol {protocol!r} of data item {self.url!r} is not available: {exc}"
            ) from exc
        return fs, str(path)

    def get(self, size: int | None = None, offset: int = 0, encoding: str | None = None) -> Any:
        """Read the bytes (or ``str`` with ``encoding``), optionally a range."""
        fs, path = self._fs()
        try:
            with fs.open(path, "rb") as f:
                if offset:
                    f.seek(offset)
                data: bytes = f.read(size if size is not None else -1)
        except (OSError, ValueError) as exc:
            raise DataItemError(f"cannot read data item {self.url!r}: {exc}") from exc
        except Exception as exc:  # fsspec backends raise their own (aiohttp, botocore) errors
            raise DataItemError(f"cannot read data item {self.url!r}: {exc!r}") from exc
        return data.decode(encoding) if encoding else data

    def put(self, data: bytes | str) -> None:
        """Write ``data`` to the URL, creating parent directories of local paths."""
        fs, path = self._fs()
        try:
            if "file" in _protocols(fs):
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            with fs.open(path, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        except Exception as exc:
            raise DataItemError(f"cannot write data item {self.url!r}: {exc!r}") from exc

    def upload(self, src_path: str) -> None:
        """Copy a local file to the URL."""
        self.put(Path(src_path).read_bytes())

    def exists(self) -> bool:
        """Whether the object exists."""
        fs, path = self._fs()
        try:
            return bool(fs.exists(path))
        except Exception:
            return False

    def local(self) -> str:
        """A local file path with the data (remote objects are downloaded to the cache once)."""
        fs, path = self._fs()
        if "file" in _protocols(fs):
            return str(path)
        if self._local is None:
            digest = hashlib.sha1(self._target.encode()).hexdigest()[:16]
            folder = get_config().home / "cache" / digest
            folder.mkdir(parents=True, exist_ok=True)
            local = os.path.join(folder, PurePosixPath(path).name or "data")
            Path(local).write_bytes(self.get())
            self._local = local
        return self._local

    def as_df(self, format: str = "", **kwargs: Any) -> pd.DataFrame:
        """Read a CSV, Parquet or JSON object into a DataFrame (format from the suffix)."""
        import pandas as pd  # imported here: the CLI lists runs without loading pandas

        fmt = (format or self.suffix.lstrip(".")).lower()
        data = io.BytesIO(self.get())
        try:
            if fmt in ("csv", "txt"):
                return pd.DataFrame(pd.read_csv(data, **kwargs))
            if fmt in ("parquet", "pq"):
                return pd.DataFrame(pd.read_parquet(data, **kwargs))
            if fmt in ("json", "jsonl"):
                return pd.DataFrame(pd.read_json(data, lines=fmt == "jsonl", **kwargs))
        except (ValueError, OSError) as exc:
            raise DataItemError(f"cannot read {self.url!r} as {fmt}: {exc}") from exc
        raise DataItemError(
            f"The 'format' of data item {self.url!r} must be csv, parquet or json. "
            f"Got {fmt!r} instead."
        )


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def get_dataitem(
    url: str, key: str = "", storage_options: dict[str, Any] | None = None, db: Any = None
) -> DataItem:
    """Return a :class:`DataItem` for a path, fsspec URL or ``store://`` URI."""
    if not url:
        raise DataItemError(f"The 'url' parameter of get_dataitem must not be empty. Got {url!r}.")
    if url.startswith(STORE_PREFIX):
        target, artifact = resolve_store_uri(url, db)
        return DataItem(url, key, storage_options, artifact=artifact, target=target)
    return DataItem(url, key, storage_options)


__all__ = [
    "STORE_PREFIX",
    "DataItem",
    "get_dataitem",
    "parse_store_uri",
    "resolve_model_path",
    "resolve_store_uri",
]
