"""Configuration: where state lives and which services to use.

Every setting has an embedded default under ``$SERVEGRAPH_HOME`` and can be
switched to a real service by URL through an environment variable. Without
``SERVEGRAPH_HOME`` the home is found as git finds its repository: the nearest
``.servegraph`` folder in the current directory or one of its parents, else
``./.servegraph`` (created on first use). Read the values through :func:`get_config`; it reads the
environment on every call so tests and the CLI can change it.

- ``SERVEGRAPH_HOME``: root of all embedded state (the nearest ``.servegraph`` upward)
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
from dataclasses import dataclass, fields
from pathlib import Path

HOME_DIR = ".servegraph"

# modules that register their built-in step classes with the graph
# (servegraph.graph.kinds imports them on its first lookup of a built-in name)
KIND_PROVIDERS = ("servegraph.serving.kinds", "servegraph.featurestore.kinds")

# field -> (environment variable, default as text)
SETTINGS: dict[str, tuple[str, str]] = {
    "home": ("SERVEGRAPH_HOME", "nearest ./.servegraph upward"),
    "dbpath": ("SERVEGRAPH_DBPATH", "sqlite:///$SERVEGRAPH_HOME/servegraph.db"),
    "artifact_path": ("SERVEGRAPH_ARTIFACT_PATH", "$SERVEGRAPH_HOME/artifacts"),
    "online_store": ("SERVEGRAPH_ONLINE_STORE", "sqlite:///$SERVEGRAPH_HOME/online.db"),
    "offline_path": ("SERVEGRAPH_OFFLINE_PATH", "$SERVEGRAPH_HOME/offline"),
    "stream_path": ("SERVEGRAPH_STREAM_PATH", "file://$SERVEGRAPH_HOME/streams"),
    "hub_path": ("SERVEGRAPH_HUB_PATH", "the hub shipped in the package"),
    "nuclio_dashboard": ("SERVEGRAPH_NUCLIO_DASHBOARD", "none"),
}


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
    given = env.get("SERVEGRAPH_HOME")
    home = Path(given).expanduser().resolve() if given else find_home()[0]
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


def find_home(start: Path | None = None) -> tuple[Path, str]:
    """The home used without SERVEGRAPH_HOME, and how it was found.

    The nearest ``.servegraph`` folder in ``start`` (the current directory) or
    a parent, as git finds ``.git``; ``./.servegraph`` when there is none.
    """
    cwd = (start or Path.cwd()).resolve()
    for folder in (cwd, *cwd.parents):
        candidate = folder / HOME_DIR
        if candidate.is_dir():
            where = "the current directory" if folder == cwd else f"parent folder {folder}"
            return candidate, f"found {HOME_DIR} in {where}"
    return cwd / HOME_DIR, f"default: no {HOME_DIR} here or above, ./{HOME_DIR} is used"


def describe_config() -> list[tuple[str, str, str]]:
    """``(setting, value, where it came from)`` for every setting (``servegraph config``)."""
    config = get_config()
    rows = []
    for field in fields(config):
        variable, default = SETTINGS[field.name]
        value = str(getattr(config, field.name))
        if variable in os.environ:
            source = f"environment {variable}"
        elif field.name == "home":
            source = find_home()[1]
        else:
            source = "default, under the home" if "$SERVEGRAPH_HOME" in default else "default"
        rows.append((field.name, value, source))
    return rows


class MLConf:
    """MLRun's ``mlrun.mlconf`` for the fields serving code reads; assignable at run time.

    ``mock_nuclio_deployment``: ``"1"``/``"true"`` makes ``deploy_function`` and
    ``fn.invoke`` run functions in-process, ``"auto"`` does so when no Nuclio
    is configured (no ``nuclio_version`` and no dashboard), ``""`` never
    (default: ``$SERVEGRAPH_MOCK_NUCLIO_DEPLOYMENT``). ``nuclio_version`` is the
    version of the Nuclio deployed to, ``""`` when none.

    >>> conf = MLConf()
    >>> conf.mock_nuclio_deployment = "auto"
    >>> conf.nuclio_version = ""
    >>> conf.use_mock(None, dashboard="")
    True
    """

    def __init__(self) -> None:
        env = os.environ
        self.mock_nuclio_deployment: str = env.get("SERVEGRAPH_MOCK_NUCLIO_DEPLOYMENT", "")
        self.nuclio_version: str = env.get("SERVEGRAPH_NUCLIO_VERSION", "")
        self.log_level: str = env.get("SERVEGRAPH_LOG_LEVEL", "info")

    def use_mock(self, mock: bool | None, dashboard: str | None = None) -> bool:
        """Whether a deployment runs in-process: ``mock`` when given, else the setting."""
        if mock is not None:
            return mock
        setting = str(self.mock_nuclio_deployment or "").strip().lower()
        if setting == "auto":
            configured = dashboard if dashboard is not None else get_config().nuclio_dashboard
            return not self.nuclio_version and not configured
        return setting in ("1", "true", "yes", "on")


#: the process-wide instance (``servegraph.mlconf``, MLRun's ``mlrun.mlconf``)
mlconf = MLConf()
