"""The web dashboard: ``servegraph ui`` serves pages and a JSON API over the run database.

Projects and runs, artifacts and models, functions with their graphs drawn,
model endpoints with traffic and drift over time, feature sets and vectors,
and schedules, read from the same stores the CLI uses (``get_config()``).
The pages are our own HTML, CSS and JavaScript under ``static/``: nothing is
fetched from the internet when a page is viewed. Charts and graph diagrams
are SVG drawn locally. The API is described at ``/api/openapi.json``.

>>> app = make_app()                                           # doctest: +SKIP
>>> web.run_app(app, host="127.0.0.1", port=8060)              # doctest: +SKIP
"""

from __future__ import annotations

from servegraph.ui.app import make_app

__all__ = ["make_app"]
