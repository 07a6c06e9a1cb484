"""sciencecities: open, reproducible science-city rankings from bibliographic records.

The public Python API; every CLI verb is a thin layer over these functions.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sciencecities.audit import Audit, audit, edition_coverage
from sciencecities.config import Settings
from sciencecities.demo import build_demo_store, demo_store
from sciencecities.errors import ScienceCitiesError
from sciencecities.pipeline import build, ingest_export, ingest_openalex, ingest_ror
from sciencecities.rank.highlights import Fact, Highlights, highlights
from sciencecities.rank.indicators import size_independent
from sciencecities.rank.intervals import rank_intervals
from sciencecities.rank.profile import CityProfile, city_profile
from sciencecities.rank.queries import rank, trend
from sciencecities.rank.ranking import Ranking
from sciencecities.resolve.geography.locate import InstitutionLocation, Location, locate, locate_institution
from sciencecities.store import Store

__all__ = [
    "Audit",
    "CityProfile",
    "Fact",
    "Highlights",
    "InstitutionLocation",
    "Location",
    "Ranking",
    "ScienceCitiesError",
    "Settings",
    "Store",
    "__version__",
    "audit",
    "build",
    "build_demo_store",
    "city_profile",
    "demo_store",
    "edition_coverage",
    "highlights",
    "ingest_export",
    "ingest_openalex",
    "ingest_ror",
    "locate",
    "locate_institution",
    "rank",
    "rank_intervals",
    "size_independent",
    "trend",
]
