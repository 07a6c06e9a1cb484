"""Settings: one typed configuration, layered defaults < environment (SCIENCECITIES_*) < CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE = Path("sciencecities-data")


class Settings(BaseSettings):
    """Every knob that can change a result or where it goes; passed down explicitly, never global."""

    model_config = SettingsConfigDict(env_prefix="SCIENCECITIES_", frozen=True, extra="forbid")

    store: Path = Field(DEFAULT_STORE, description="Store directory (Parquet tables and manifest).")
    edition: str = Field(
        "nature-index", description="Edition: the journal set and method, by name or file path."
    )
    count_unaffiliated: bool = Field(
        False,
        description="Count authors without an institution in n_a (CWTS convention); their share is lost.",
    )
    include_flagged: bool | None = Field(
        None,
        description="Count all articles of the journals the edition counts only in part (Physical Review A/B/D, "
        "Astronomy & Astrophysics); None takes the edition's choice.",
    )
    legacy_weights: bool | None = Field(
        None,
        description="Legacy weighted method: astronomy journals at 0.2; None takes the edition's choice.",
    )
    base_year: int | None = Field(
        None, description="Base year of Adjusted Share; None takes the edition's, else the latest year."
    )
    boundaries: str = Field(
        "metro",
        description="Boundary set of the city level: metro, city, clusters, or a .yaml file of your own.",
    )
    places: Path | None = Field(
        None, description="CSV of place overrides (institution_id, geonames_id or latitude and longitude)."
    )
    population: Path | None = Field(
        None,
        description="CSV of science-city populations (unit_id, population[, boundaries]) for per-capita Share.",
    )
    groups: str = Field(
        "groups", description="Groups of science cities: the shipped 'groups' or a .yaml file."
    )
    cluster_eps_km: float = Field(15.0, gt=0, description="Neighbourhood radius of the clusters set, in km.")
    cluster_min_share: float | None = Field(
        None,
        gt=0,
        description="Share a cluster core's neighbourhood must reach; None: 0.05% of the placed Share.",
    )
    engine: str = Field(
        "duckdb", description="Engine of build and rank: duckdb (embedded) or spark (local or a cluster)."
    )
    spark_master: str | None = Field(
        None,
        description="Spark master URL, e.g. local[4] or spark://host:7077; None: Spark's own, else local[*].",
    )
    strict: bool = Field(False, description="Exit non-zero when any record was quarantined.")
    debug: bool = Field(False, description="Show tracebacks on errors.")
