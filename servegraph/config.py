"""Configuration: where state lives and which services to use.

Every setting has an embedded default under ``$SERVEGRAPH_HOME`` (default
``./.servegraph``) and can be switched to a real service by URL through an
environment variable. Read the values through :func:`get_config`; it reads the
environment on every call so tests and the CLI can change it.

- ``SERVEGRAPH_HOME``: root of all embedded state (``./.servegraph``)
- ``SERVEGRAPH_DBPATH``: run database URL, ``sqlite:///...`` or ``postgresql+psycopg://...``
  (``sqlite:///$SERVEGRAPH_HOME/servegraph.db``)
- ``SERVEGRAPH_ARTIFACT_PATH``: default output path of runs, any fsspec URL
  (``$SERVEGRAPH_HOME/artifacts``)
- ``SERVEGRAPH_ONLINE_STORE``: online feature store, ``sqlite:///...`` or ``redis://...``
  (``sqlite:///$SERVEGRAPH_HOME/online.db``)
- ``SERVEGRAPH_OFFLINE_PATH``: offline feature store root, Parquet (``$SERVEGRAPH_HOME/offline``)
- ``SERVEGRAPH_STREAM_PATH``: default stream URL, ``file://...``, ``redis://host:port/stream``
  or ``kafka://broker/topic`` (``file://$SERVEGRAPH_HOME/streams``)
- ``SERVEGRAPH_HUB_PATH``: function hub directory (the hub shipped in the package)
- ``SERVEGRAPH_NUCLIO_DASHBOARD``: Nuclio dashboard URL used by ``fn.deploy()`` (none)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """A snapshot of the settings; see the module docstring for each field."""

    home: Path
    dbpath: str
    artifact_path: str
    online_store: str
    offline_path: str
    stream_path: str
    hub_path: str
    nuclio_dashboard: str


def get_config() -> Config:
    """Read the settings from the environment, filling in embedded defaults."""
    env = os.environ
    home = Path(env.get("SERVEGRAPH_HOME", "./.servegraph")).expanduser().resolve()
    return Config(
        home=home,
        dbpath=env.get("SERVEGRAPH_DBPATH", f"sqlite:///{home / 'servegraph.db'}"),
        artifact_path=env.get("SERVEGRAPH_ARTIFACT_PATH", str(home / "artifacts")),
        online_store=env.get("SERVEGRAPH_ONLINE_STORE", f"sqlite:///{home / 'online.db'}"),
        offline_path=env.get("SERVEGRAPH_OFFLINE_PATH", str(home / "offline")),
        stream_path=env.get("SERVEGRAPH_STREAM_PATH", f"file://{home / 'streams'}"),
        hub_path=env.get("SERVEGRAPH_HUB_PATH", str(Path(__file__).parent / "hub")),
        nuclio_dashboard=env.get("SERVEGRAPH_NUCLIO_DASHBOARD", ""),
    )
