"""``servegraph get endpoints``: the registered model endpoints."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from servegraph.console import Listing, shorten
from servegraph.monitoring.endpoints import EndpointRegistry


def endpoints(args: argparse.Namespace, url: str | None) -> Listing:
    """Model endpoints (of one project, or all), without their reference statistics."""
    rows = []
    for endpoint in EndpointRegistry(url).list(project=args.project):
        row = asdict(endpoint)
        row["reference_features"] = sorted(row.pop("reference_stats"))
        if not args.name or args.name in (endpoint.model_name, endpoint.id):
            rows.append(row)

    def cells(e: dict[str, Any]) -> list[Any]:
        version = f":{e['model_version']}" if e["model_version"] else ""
        return [
            e["id"], e["project"], e["function"], f"{e['model_name']}{version}",
            shorten(e["feature_names"]), len(e["reference_features"]),
            e["updated"][:19].replace("T", " "),
        ]  # fmt: skip

    columns = ("id", "project", "function", "model", "features", "reference", "updated")
    return Listing(rows, columns, cells)
