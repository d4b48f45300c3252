"""Secrets of a run: from files, the environment or a dict, never persisted.

A run record keeps only the *sources* (``{"kind": "file", "source": path}``,
``{"kind": "env", "source": "A,B"}``, ``{"kind": "inline", "source": [keys]}``);
values are read when the run starts. :meth:`SecretsStore.mask` replaces every
known value in text before it reaches a log.

>>> store = SecretsStore()
>>> store.add_source("inline", {"TOKEN": "s3cr3t"})
>>> store.get("TOKEN"), store.mask("token=s3cr3t"), store.sources()
('s3cr3t', 'token=***', [{'kind': 'inline', 'source': ['TOKEN']}])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from servegraph.errors import RunError

MASK = "***"
KINDS = ("file", "env", "inline")


def parse_secrets_file(path: str) -> dict[str, str]:
    """Read ``KEY=VALUE`` lines (blank lines and ``#`` comments skipped)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise RunError(f"The secrets file {path!r} cannot be read: {exc.strerror}") from exc
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise RunError(
                f"Line {number} of the secrets file {path!r} must be KEY=VALUE. Got no '=' instead."
            )
        out[key.strip()] = value.strip()
    return out


class SecretsStore:
    """Secret values by key, with the list of their sources (see module docstring)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._sources: list[dict[str, Any]] = []

    def add_source(self, kind: str, source: Any) -> None:
        """Load secrets from a ``file`` path, ``env`` names (``A,B``) or an ``inline`` dict."""
        if kind == "file":
            self._values.update(parse_secrets_file(str(source)))
            self._sources.append({"kind": "file", "source": str(source)})
        elif kind == "env":
            names = [n.strip() for n in str(source).split(",") if n.strip()]
            for name in names:
                if name in os.environ:
                    self._values[name] = os.environ[name]
            self._sources.append({"kind": "env", "source": ",".join(names)})
        elif kind == "inline":
            if not isinstance(source, dict):
                raise RunError(f"Inline secrets must be a dict. Got {type(source).__name__}.")
            self._values.update({str(k): str(v) for k, v in source.items()})
            self._sources.append({"kind": "inline", "source": sorted(map(str, source))})
        else:
            raise RunError(f"The secret source kind must be one of {KINDS}. Got {kind!r} instead.")

    def add_sources(self, sources: list[dict[str, Any]], inline: dict[str, str] | None) -> None:
        """Load a list of recorded sources; ``inline`` holds the values of inline ones."""
        for src in sources:
            if src.get("kind") == "inline":
                keys = src.get("source") or []
                self.add_source("inline", {k: v for k, v in (inline or {}).items() if k in keys})
            else:
                self.add_source(str(src.get("kind")), src.get("source"))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The secret value of ``key`` (or ``default``)."""
        return self._values.get(key, default)

    def keys(self) -> list[str]:
        """Known secret keys."""
        return sorted(self._values)

    def items(self) -> dict[str, str]:
        """A copy of the values, to hand to a child process (never to a record)."""
        return dict(self._values)

    def sources(self) -> list[dict[str, Any]]:
        """The sources, safe to record."""
        return [dict(s) for s in self._sources]

    def mask(self, text: str) -> str:
        """Replace every secret value found in ``text`` with ``***``."""
        for value in sorted(self._values.values(), key=len, reverse=True):
            if value:
                text = text.replace(value, MASK)
        return text

    def mask_values(self, data: Any) -> Any:
        """A copy of ``data`` (dicts, lists, strings) with secrets masked in string values."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, dict):
            return {k: self.mask_values(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.mask_values(v) for v in data]
        return data


def parse_secret_option(option: str) -> tuple[str, str]:
    """Parse a CLI ``-s`` option: ``file=PATH`` or ``env=NAME,...``.

    >>> parse_secret_option("env=A,B")
    ('env', 'A,B')
    """
    kind, sep, source = option.partition("=")
    if not sep or kind not in ("file", "env") or not source:
        raise RunError(
            f"The '-s' option must be file=PATH or env=NAME[,NAME...]. Got {option!r} instead."
        )
    return kind, source
