"""A function's code carried in its spec, the way Nuclio carries it.

``spec.build`` of an exported function.yaml holds the code:

- one file: ``functionSourceCode`` is the file's text in base64
  (``codeEntryType: sourceCode``);
- a folder: ``functionSourceCode`` is a zip of the folder in base64
  (``codeEntryType: archive``).

``spec.handler`` is ``<module>:handler``: the code is the module the graph's
class and handler names resolve in. :func:`load_code` writes the code under
``$SERVEGRAPH_HOME/code/<digest>/`` and imports the module from there, so a
server started in an empty directory finds the user's classes::

    build = encode_file("app.py")              # {"functionSourceCode": ..., ...}
    module = load_code(build, "app")           # the user's module, imported
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import io
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from servegraph.config import get_config
from servegraph.errors import ConfigError

SOURCE_KEY = "functionSourceCode"
ENTRY_KEY = "codeEntryType"
SOURCE_CODE = "sourceCode"
ARCHIVE = "archive"
# folders never packed into an archive
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".servegraph", ".venv", ".mypy_cache"})


def encode_text(text: str) -> dict[str, str]:
    """The build fields of a single-file code."""
    return {SOURCE_KEY: base64.b64encode(text.encode()).decode(), ENTRY_KEY: SOURCE_CODE}


def encode_folder(folder: str | Path) -> dict[str, str]:
    """The build fields of a folder: a zip of its files (caches and ``.git`` left out)."""
    root = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not SKIPPED_DIRS.intersection(relative.parts):
                info = zipfile.ZipInfo(relative.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())  # fixed dates: same folder, same spec
    return {SOURCE_KEY: base64.b64encode(buffer.getvalue()).decode(), ENTRY_KEY: ARCHIVE}


def decode_text(build: Mapping[str, Any]) -> str:
    """The text of a single-file code (ConfigError for an archive or bad base64)."""
    if build.get(ENTRY_KEY, SOURCE_CODE) != SOURCE_CODE:
        raise ConfigError(f"The function's code is a {build.get(ENTRY_KEY)!r}, not one file.")
    return _decode(build).decode()


def _decode(build: Mapping[str, Any]) -> bytes:
    try:
        return base64.b64decode(str(build.get(SOURCE_KEY) or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"spec.build.{SOURCE_KEY} is not valid base64: {exc}") from exc


def code_folder(build: Mapping[str, Any], module: str) -> Path:
    """Write the code under ``$SERVEGRAPH_HOME/code/<digest>/`` (once) and return the folder."""
    data = _decode(build)
    entry = build.get(ENTRY_KEY) or SOURCE_CODE
    if entry not in (SOURCE_CODE, ARCHIVE):
        raise ConfigError(
            f"spec.build.{ENTRY_KEY} must be {SOURCE_CODE!r} or {ARCHIVE!r}. Got {entry!r}."
        )
    digest = hashlib.sha256(data + module.encode()).hexdigest()[:20]
    folder = get_config().home / "code" / digest
    if folder.is_dir():
        return folder
    staging = folder.with_name(f"{digest}.tmp{id(data)}")
    staging.mkdir(parents=True, exist_ok=True)
    if entry == ARCHIVE:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise ConfigError(f"The code archive holds an unsafe path {name!r}.")
                archive.extractall(staging)
        except zipfile.BadZipFile as exc:
            raise ConfigError(f"spec.build.{SOURCE_KEY} is not a zip archive: {exc}") from exc
    else:
        target = staging.joinpath(*module.split(".")).with_suffix(".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    try:
        staging.rename(folder)
    except OSError:  # another process wrote the same code first
        pass
    return folder


def load_code(build: Mapping[str, Any], module: str) -> ModuleType:
    """Import ``module`` from the code of ``build`` (an already imported module is kept)."""
    if not module or not all(part.isidentifier() for part in module.split(".")):
        raise ConfigError(f"The code module of the function must be a module name. Got {module!r}.")
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    folder = str(code_folder(build, module))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    except Exception as exc:
        raise ConfigError(
            f"importing the function's code module {module!r} failed: {exc!r}"
        ) from exc
