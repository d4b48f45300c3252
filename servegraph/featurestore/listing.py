"""``servegraph get feature-sets``: the feature sets saved in the catalog."""

from __future__ import annotations

import argparse
from typing import Any

from servegraph.console import Listing, shorten
from servegraph.featurestore.catalog import Catalog


def feature_sets(args: argparse.Namespace, url: str | None) -> Listing:
    """Feature sets (of one project, or all) with entities, features and targets."""
    catalog = Catalog(url)
    rows = []
    for project, name, tag in sorted(catalog.list("feature-sets", args.project)):
        if args.name and name != args.name:
            continue
        body = catalog.load("feature-sets", project, name, tag)
        spec = body.get("spec", {})
        rows.append(
            {
                "project": project, "name": name, "tag": tag,
                "entities": [e["name"] for e in spec.get("entities", [])],
                "features": [f["name"] for f in spec.get("features", [])],
                "timestamp_key": spec.get("timestamp_key"),
                "targets": [t.get("kind", "") for t in spec.get("targets", [])],
            }
        )  # fmt: skip

    def cells(r: dict[str, Any]) -> list[Any]:
        return [
            r["project"], r["name"], r["tag"], shorten(r["entities"]), shorten(r["features"]),
            r["timestamp_key"] or "", shorten(r["targets"]),
        ]  # fmt: skip

    columns = ("project", "name", "tag", "entities", "features", "timestamp", "targets")
    return Listing(rows, columns, cells)
