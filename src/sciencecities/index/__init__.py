"""Composite innovation-hub indices built from the project's bibliometric indicators and indicators users
bring, by the steps of the JRC/OECD Handbook on Constructing Composite Indicators, with their robustness."""

from __future__ import annotations

from sciencecities.index.build import (
    Explanation,
    IndexResult,
    build_index,
    built_names,
    explain,
    load_index,
    save,
)
from sciencecities.index.framework import Framework, load

__all__ = [
    "Explanation",
    "Framework",
    "IndexResult",
    "build_index",
    "built_names",
    "explain",
    "load",
    "load_index",
    "save",
]
