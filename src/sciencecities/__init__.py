"""sciencecities: open, reproducible science-city rankings from bibliographic records.

The public Python API; every CLI verb is a thin layer over these functions.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sciencecities.audit import Audit, audit  # noqa: E402
from sciencecities.config import Settings  # noqa: E402
from sciencecities.demo import build_demo_store, demo_store  # noqa: E402
from sciencecities.errors import ScienceCitiesError  # noqa: E402
from sciencecities.pipeline import build, ingest_openalex  # noqa: E402
from sciencecities.rank.ranking import Ranking, rank  # noqa: E402
from sciencecities.store import Store  # noqa: E402

__all__ = [
    "Audit",
    "Ranking",
    "ScienceCitiesError",
    "Settings",
    "Store",
    "__version__",
    "audit",
    "build",
    "build_demo_store",
    "demo_store",
    "ingest_openalex",
    "rank",
]
