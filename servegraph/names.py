"""One rule for names that become paths or keys, and paths that stay under their root.

Project, feature-set, stream and artifact names (and run ids) end up as folder
and file names, Redis keys and table keys. They follow one rule: 1 to 128
letters, digits, ``_``, ``.`` or ``-``, starting with a letter or digit (so
never ``..``, ``/``, ``:``, ``*`` or an empty string). :func:`check_name`
raises :class:`~servegraph.errors.InvalidNameError` naming what was wrong;
:func:`under` joins checked parts to a root and refuses a result outside it.

>>> check_name("feature set", "churn_v2.daily")
'churn_v2.daily'
>>> check_name("project", "../..")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
servegraph.errors.InvalidNameError: The project name must be 1-128 letters, ... Got '../..' instead.
>>> under("/srv/data", "p1", "set").as_posix()
'/srv/data/p1/set'
"""

from __future__ import annotations

import re
from pathlib import Path

from servegraph.errors import InvalidNameError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_name(kind: str, value: object) -> str:
    """``value`` if it is a valid ``kind`` name (see the module docstring), else raise."""
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    raise InvalidNameError(
        f"The {kind} name must be 1-128 letters, digits, '_', '.' or '-', starting with a "
        f"letter or digit. Got {value!r} instead."
    )


def under(root: str | Path, *parts: str) -> Path:
    """``root/parts...`` resolved; InvalidNameError if it is not strictly inside ``root``."""
    base = Path(root).expanduser().resolve()
    path = base.joinpath(*parts).resolve()
    if path == base or base not in path.parents:
        raise InvalidNameError(f"The path {'/'.join(parts)!r} is not inside {str(base)!r}.")
    return path
