"""Feature vectors: features picked from one or more feature sets.

Features are written ``"set.feature"``, ``"set.*"`` or ``"set.feature as alias"``:

>>> parse_feature("orders.amount_sum_1h as spend")
('orders', 'amount_sum_1h', 'spend')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servegraph.errors import FeatureNotFoundError, FeatureSetNotFoundError, FeatureStoreError

from .catalog import DEFAULT_PROJECT, DEFAULT_TAG, Catalog, make_uri, parse_uri
from .feature_set import FeatureSet, get_feature_set

KIND = "feature-vectors"


def parse_feature(text: str) -> tuple[str, str, str | None]:
    """(feature set, feature, alias) of a feature reference."""
    ref, alias = text, None
    if " as " in text:
        ref, alias = (part.strip() for part in text.split(" as ", 1))
    fset_name, dot, feature = ref.strip().rpartition(".")
    if not dot or not fset_name or not feature:
        raise FeatureNotFoundError(
            f"A feature reference must look like 'set.feature', 'set.*' or 'set.feature as alias'. "
            f"Got {text!r}."
        )
    return fset_name, feature, alias


@dataclass
class VectorPart:
    """The features (name, output column) a vector takes from one feature set."""

    fset: FeatureSet
    features: list[tuple[str, str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.features]


class FeatureVector:
    """A named selection of features, e.g.
    ``FeatureVector("churn", ["orders.*", "profile.age"], label_feature="labels.churned")``."""

    def __init__(
        self,
        name: str,
        features: list[str],
        label_feature: str | None = None,
        description: str = "",
        project: str = DEFAULT_PROJECT,
        tag: str = DEFAULT_TAG,
    ) -> None:
        if not features:
            raise FeatureStoreError(f"FeatureVector {name!r} needs at least one feature.")
        for text in [*features, *([label_feature] if label_feature else [])]:
            parse_feature(text)
        self.name = name
        self.features = list(features)
        self.label_feature = label_feature
        self.description = description
        self.project = project
        self.tag = tag
        self._parts: list[VectorPart] | None = None

    @property
    def uri(self) -> str:
        return make_uri(KIND, self.project, self.name, self.tag)

    def parts(self, with_label: bool = False) -> list[VectorPart]:
        """The vector resolved against the catalog: one part per feature set, in order."""
        refs = [
            *self.features,
            *([self.label_feature] if with_label and self.label_feature else []),
        ]
        parts: dict[str, VectorPart] = {}
        outputs: set[str] = set()
        for text in refs:
            set_name, feature, alias = parse_feature(text)
            if set_name not in parts:
                try:
                    fset = get_feature_set(set_name, project=self.project)
                except FeatureSetNotFoundError as exc:
                    raise FeatureSetNotFoundError(
                        f"Feature set {set_name!r} of feature {text!r} in vector {self.name!r} "
                        f"is not in the catalog ({exc})."
                    ) from exc
                parts[set_name] = VectorPart(fset)
            part = parts[set_name]
            names = part.fset.feature_names() if feature == "*" else [feature]
            part.fset.check_features(names)
            for name in names:
                column = alias if alias and feature != "*" else name
                if column in outputs:
                    raise FeatureStoreError(
                        f"Feature column {column!r} appears twice in vector {self.name!r}; "
                        f"name one of them with 'set.feature as alias'."
                    )
                outputs.add(column)
                part.features.append((name, column))
        return list(parts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "FeatureVector",
            "metadata": {"name": self.name, "project": self.project, "tag": self.tag},
            "spec": {
                "features": self.features,
                "label_feature": self.label_feature,
                "description": self.description,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureVector:
        meta, spec = data["metadata"], data["spec"]
        return cls(
            meta["name"],
            spec["features"],
            spec.get("label_feature"),
            spec.get("description", ""),
            meta.get("project", DEFAULT_PROJECT),
            meta.get("tag", DEFAULT_TAG),
        )

    def save(self) -> str:
        """Store in the catalog; return the URI."""
        return Catalog().save(KIND, self.project, self.name, self.tag, self.to_dict())


def get_feature_vector(
    name_or_uri: str | FeatureVector, project: str | None = None
) -> FeatureVector:
    """Load a vector from the catalog by name, ``name:tag`` or ``store://feature-vectors/`` URI."""
    if isinstance(name_or_uri, FeatureVector):
        return name_or_uri
    proj, name, tag = parse_uri(name_or_uri, KIND, project)
    return FeatureVector.from_dict(Catalog().load(KIND, proj, name, tag))
