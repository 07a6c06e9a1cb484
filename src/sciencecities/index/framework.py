"""The framework of a composite index as data: dimensions -> sub-dimensions -> indicators, each indicator
with its source, direction, weight and transformation, and every step of the JRC/OECD Handbook as a
switchable choice. Loaded from YAML; a bad key is reported with the file and the key's path."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sciencecities.errors import InputError

METRICS: dict[str, str] = {
    "share": "Share (fractional counting) over the window",
    "count": "Count: articles with at least one author in the city",
    "adjusted_share_growth": "Change in Adjusted Share against the previous window (ratio - 1)",
    "collaboration_strength": "Total collaboration score with every other science city",
    "international_coauthorship": "Fraction of the city's articles co-authored with another country",
    "share_per_million": "Share per million inhabitants of the science city",
}
"""The project's bibliometric metrics an indicator can name as its source (`source: {metric: NAME}`)."""

NORMALISATIONS = ("minmax", "zscore", "rank", "distance_to_frontier", "goalposts")
AGGREGATIONS = ("arithmetic", "geometric", "harmonic", "copeland")
IMPUTATIONS = ("mean", "median", "group_mean", "none")
WEIGHTINGS = ("equal", "manual", "pca")
TRANSFORMS = ("none", "log", "winsorise")

RESERVED = (
    "index",
    "rank",
    "id",
    "name",
    "country_code",
    "score",
    "tier",
    "tier_label",
    "median_rank",
    "rank_lo",
    "rank_hi",
)
"""Ids a dimension, sub-dimension or indicator cannot take: the index itself and the columns of `scores`."""

_Strict = ConfigDict(extra="forbid", frozen=True)
_Id = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=60)


class Source(BaseModel):
    """Where an indicator's values come from: a metric of the store, or a column of the user's file."""

    model_config = _Strict
    metric: (
        Literal[
            "share",
            "count",
            "adjusted_share_growth",
            "collaboration_strength",
            "international_coauthorship",
            "share_per_million",
        ]
        | None
    ) = None
    column: str | None = None
    years: str | None = None
    """A window for the metric (e.g. "2020-2024"); default: the framework's `scope.years`."""
    vs: str | None = None
    """For adjusted_share_growth: the earlier window (default: the same length just before `years`)."""

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.metric is None) == (self.column is None):
            raise ValueError("give exactly one of `metric` (a metric of the store) or `column` (of the file)")
        if self.column is not None and (self.years or self.vs):
            raise ValueError("`years` and `vs` go with a `metric`, not a `column`")
        return self

    @property
    def label(self) -> str:
        """How the source reads in tables: metric:share (2020-2024) or column:rd_intensity."""
        if self.column is not None:
            return f"column:{self.column}"
        window = f" ({self.years}{' vs ' + self.vs if self.vs else ''})" if self.years else ""
        return f"metric:{self.metric}{window}"


class Indicator(BaseModel):
    """One indicator: its source, whether more is better (direction 1) or worse (-1), its weight within its
    sub-dimension, its transformation (none, log, winsorise; default: the outlier step decides) and the
    goalposts [low, high] that goalpost normalisation needs."""

    model_config = _Strict
    id: str = _Id
    name: str = ""
    source: Source
    direction: Literal[1, -1] = 1
    weight: float = Field(1.0, gt=0)
    transform: Literal["none", "log", "winsorise"] | None = None
    goalposts: tuple[float, float] | None = None
    unit: str = ""

    @field_validator("goalposts")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError("goalposts are [low, high] with low < high")
        return value


class SubDimension(BaseModel):
    """A group of indicators, aggregated into one score."""

    model_config = _Strict
    id: str = _Id
    name: str = ""
    weight: float = Field(1.0, gt=0)
    indicators: tuple[Indicator, ...] = Field(min_length=1)


class Dimension(BaseModel):
    """A pillar of the index (e.g. innovative talent), aggregated from its sub-dimensions."""

    model_config = _Strict
    id: str = _Id
    name: str = ""
    weight: float = Field(1.0, gt=0)
    subdimensions: tuple[SubDimension, ...] = Field(min_length=1)


class Scope(BaseModel):
    """Which units are scored: the science cities of a boundary set in a built edition of the store, with at
    least `min_count` articles over `years` (all years when not given)."""

    model_config = _Strict
    edition: str = "nature-index"
    boundaries: str = "metro"
    years: str | None = None
    subject: str | None = None
    min_count: int = Field(1, ge=1)


class Screening(BaseModel):
    """Data availability: indicators with values for fewer than `min_indicator_coverage` of the units, then
    units with values for fewer than `min_unit_coverage` of the indicators, are left out."""

    model_config = _Strict
    enabled: bool = True
    min_indicator_coverage: float = Field(0.5, ge=0, le=1)
    min_unit_coverage: float = Field(0.66, ge=0, le=1)


class Outliers(BaseModel):
    """Outlier treatment (COINr's rule): an indicator is flagged when |skewness| > `skew` and kurtosis >
    `kurtosis`; `winsorise` then clips its most extreme values one at a time (at most `max_winsorised`) and
    takes the log when that is not enough, `log` takes the log at once, `none` leaves it."""

    model_config = _Strict
    method: Literal["none", "winsorise", "log"] = "winsorise"
    skew: float = Field(2.0, gt=0)
    kurtosis: float = Field(3.5, gt=0)
    max_winsorised: int = Field(5, ge=1)


class Imputation(BaseModel):
    """Missing values: the indicator's mean or median, the mean of the unit's `group` (a column of the units,
    e.g. country_code; the overall mean when the group has no value), or none (such units are left out)."""

    model_config = _Strict
    method: Literal["mean", "median", "group_mean", "none"] = "mean"
    group: str = "country_code"


class Normalisation(BaseModel):
    """Normalisation onto a common scale: min-max, rank and goalposts onto `range`; z-scores with mean and sd
    `zscore`; distance to frontier as `range[1]` x value / best value."""

    model_config = _Strict
    method: Literal["minmax", "zscore", "rank", "distance_to_frontier", "goalposts"] = "minmax"
    range: tuple[float, float] = (0.0, 100.0)
    zscore: tuple[float, float] = (0.0, 1.0)

    @model_validator(mode="after")
    def _valid(self) -> Normalisation:
        if not self.range[0] < self.range[1]:
            raise ValueError("range is [low, high] with low < high")
        if self.zscore[1] <= 0:
            raise ValueError("zscore is [mean, sd] with sd > 0")
        return self


class Weighting(BaseModel):
    """Weights within each group: equal, manual (the framework's `weight`s) or PCA-based (Handbook)."""

    model_config = _Strict
    method: Literal["equal", "manual", "pca"] = "manual"


class Aggregation(BaseModel):
    """How children make their parent's score, at every level: weighted arithmetic, geometric or harmonic
    mean, or the non-compensatory Copeland score (pairwise wins minus losses, weighted majority)."""

    model_config = _Strict
    method: Literal["arithmetic", "geometric", "harmonic", "copeland"] = "arithmetic"


class Tiers(BaseModel):
    """Tiers of the final score: `thresholds` (descending; score >= the first is tier 1, ...), `kmeans`
    clusters of the scores (`k`, seeded), or none."""

    model_config = _Strict
    method: Literal["thresholds", "kmeans", "none"] = "kmeans"
    thresholds: tuple[float, ...] = ()
    k: int = Field(4, ge=1)
    labels: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> Tiers:
        if self.method == "thresholds":
            if not self.thresholds:
                raise ValueError("tiers by thresholds need `thresholds`, e.g. [75, 50, 25]")
            if list(self.thresholds) != sorted(self.thresholds, reverse=True):
                raise ValueError("thresholds go from the highest to the lowest")
        count = len(self.thresholds) + 1 if self.method == "thresholds" else self.k
        if self.labels and len(self.labels) != count:
            raise ValueError(f"give {count} labels (one per tier), or none")
        return self


class Uncertainty(BaseModel):
    """The uncertainty and sensitivity analysis: `samples` Monte Carlo draws (seeded) of the weights (each
    multiplied by a uniform factor in [1 - weights, 1 + weights]), the normalisation and the aggregation among
    the options listed; Sobol indices from `sobol` base samples (a power of 2; 0: none)."""

    model_config = _Strict
    samples: int = Field(200, ge=0)
    seed: int = Field(0, ge=0)
    weights: float = Field(0.25, ge=0, lt=1)
    normalisations: tuple[Literal["minmax", "zscore", "rank", "distance_to_frontier", "goalposts"], ...] = ()
    aggregations: tuple[Literal["arithmetic", "geometric", "harmonic", "copeland"], ...] = ()
    sobol: int = Field(64, ge=0)
    interval: tuple[float, float] = (5.0, 95.0)

    @model_validator(mode="after")
    def _valid(self) -> Uncertainty:
        if self.sobol and self.sobol & (self.sobol - 1):
            raise ValueError(f"sobol must be a power of 2 (e.g. 64), not {self.sobol}")
        if not 0 <= self.interval[0] < self.interval[1] <= 100:
            raise ValueError("interval is [low, high] percentiles with 0 <= low < high <= 100")
        return self


class Steps(BaseModel):
    """Every step of the construction, each switchable."""

    model_config = _Strict
    screening: Screening = Screening()
    outliers: Outliers = Outliers()
    imputation: Imputation = Imputation()
    normalisation: Normalisation = Normalisation()
    weighting: Weighting = Weighting()
    aggregation: Aggregation = Aggregation()
    tiers: Tiers = Tiers()
    uncertainty: Uncertainty = Uncertainty()


class Framework(BaseModel):
    """A composite index: its name, scope, dimensions and steps; `indicators_file` (relative to the framework
    file) is the default file of the `column` indicators."""

    model_config = _Strict
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    title: str = ""
    description: str = ""
    scope: Scope = Scope()
    indicators_file: str | None = None
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    steps: Steps = Steps()
    origin: Path | None = None
    checksum: str = ""

    @model_validator(mode="after")
    def _unique(self) -> Framework:
        seen: set[str] = set()
        for node in self.nodes():
            if node in seen or node in RESERVED:
                raise ValueError(f"the id {node!r} is used twice, or is reserved ({', '.join(RESERVED)})")
            seen.add(node)
        goalposts = "goalposts" in (self.steps.normalisation.method, *self.steps.uncertainty.normalisations)
        for indicator in self.indicators():
            if goalposts and indicator.goalposts is None:
                raise ValueError(f"goalpost normalisation needs `goalposts` on indicator {indicator.id!r}")
        return self

    def indicators(self) -> list[Indicator]:
        """Every indicator, in framework order."""
        return [i for d in self.dimensions for s in d.subdimensions for i in s.indicators]

    def nodes(self) -> list[str]:
        """Every id: dimensions, sub-dimensions and indicators."""
        ids = []
        for d in self.dimensions:
            ids.append(d.id)
            for s in d.subdimensions:
                ids.append(s.id)
                ids.extend(i.id for i in s.indicators)
        return ids

    def columns(self) -> list[str]:
        """The columns of the user's file that the framework reads."""
        return [i.source.column for i in self.indicators() if i.source.column is not None]

    def default_indicators_file(self) -> Path | None:
        """The framework's own indicators file (relative to the framework file), when it names one."""
        if self.indicators_file is None or self.origin is None:
            return None
        return self.origin.parent / self.indicators_file


def shipped_folder() -> Path:
    """The folder of the shipped example framework and its illustrative indicators."""
    return Path(str(resources.files("sciencecities").joinpath("data/index")))


def shipped() -> list[str]:
    """Names of the frameworks that ship with the package."""
    return sorted(p.stem for p in shipped_folder().glob("*.yaml"))


def load(name_or_path: str | Path) -> Framework:
    """A shipped framework by name, or a framework from a YAML file; an InputError names the file and the bad
    key (its path, e.g. dimensions.0.subdimensions.1.indicators.2.direction) otherwise."""
    path = Path(name_or_path)
    if str(name_or_path) in shipped():
        path = shipped_folder() / f"{name_or_path}.yaml"
    elif path.suffix not in (".yaml", ".yml") or not path.is_file():
        raise InputError(
            f"no framework {str(name_or_path)!r}",
            f"give a framework .yaml file, or a shipped one: {', '.join(shipped())}",
        )
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise InputError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", "fix the file") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a framework is a mapping (name, dimensions, steps)", "see docs/index.md")
    try:
        return Framework.model_validate(
            {**data, "origin": path.resolve(), "checksum": hashlib.sha256(raw).hexdigest()}
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InputError(
            f"{path} is not a valid framework: {problems}", "fix the key named (see docs/index.md)"
        ) from exc
