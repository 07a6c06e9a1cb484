"""Editions: the method as data. Each names its journal set, subjects, eligibility rules and weights (DESIGN §5)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sciencecities.errors import EditionError

OPENALEX_FIELDS: dict[str, str] = {
    "11": "Agricultural and Biological Sciences",
    "12": "Arts and Humanities",
    "13": "Biochemistry, Genetics and Molecular Biology",
    "14": "Business, Management and Accounting",
    "15": "Chemical Engineering",
    "16": "Chemistry",
    "17": "Computer Science",
    "18": "Decision Sciences",
    "19": "Earth and Planetary Sciences",
    "20": "Economics, Econometrics and Finance",
    "21": "Energy",
    "22": "Engineering",
    "23": "Environmental Science",
    "24": "Immunology and Microbiology",
    "25": "Materials Science",
    "26": "Mathematics",
    "27": "Medicine",
    "28": "Neuroscience",
    "29": "Nursing",
    "30": "Pharmacology, Toxicology and Pharmaceutics",
    "31": "Physics and Astronomy",
    "32": "Psychology",
    "33": "Social Sciences",
    "34": "Veterinary",
    "35": "Dentistry",
    "36": "Health Professions",
}
"""The 26 OpenAlex fields by id (the topic taxonomy's second level); a multidisciplinary mapping covers all."""

OPENALEX_DOMAINS: dict[str, str] = {
    "1": "Life Sciences",
    "2": "Social Sciences",
    "3": "Physical Sciences",
    "4": "Health Sciences",
}

_Strict = ConfigDict(extra="forbid", frozen=True)


class Eligibility(BaseModel):
    """Which works count: OpenAlex types, retracted works and paratext, and the journals counted only in part."""

    model_config = _Strict
    types: tuple[str, ...] = ("article",)
    exclude_retracted: bool = True
    exclude_paratext: bool = True
    flagged_only_journals: tuple[str, ...] = ()
    """Journals of which the Nature Index counts only flagged articles (e.g. Physical Review B): left out
    unless `include_flagged` is set, since OpenAlex does not carry the flag."""
    include_flagged: bool = False


class Weights(BaseModel):
    """Article weights: 1, or the legacy weighted method with astronomy journals at `astronomy_weight`."""

    model_config = _Strict
    legacy: bool = False
    astronomy_weight: float = Field(0.2, gt=0, le=1)
    astronomy_journals: tuple[str, ...] = ()


class Journal(BaseModel):
    """One journal of the set: how to recognise its sources, and its subjects (empty if routed per article)."""

    model_config = _Strict
    title: str
    subjects: tuple[str, ...] = ()
    openalex_ids: tuple[str, ...] = ()
    issns: tuple[str, ...] = ()
    multidisciplinary: bool = False


class JournalList(BaseModel):
    """Journals from a CSV file (shipped lists, or a path relative to the edition file) and/or inline."""

    model_config = _Strict
    file: str | None = None
    subject_labels: dict[str, str] = {}
    """Maps the list's subject-group labels (e.g. 'Life Sciences') to subject ids of the edition."""
    extra_openalex_ids: dict[str, tuple[str, ...]] = {}
    extra_issns: dict[str, tuple[str, ...]] = {}
    inline: tuple[Journal, ...] = ()


class Routing(BaseModel):
    """Subjects of articles in multidisciplinary journals, from the OpenAlex primary topic's field, else domain.

    A field or domain mapped to [] is outside the edition's subjects: such articles do not count at all.
    An article without a topic is 'unclassified': it counts in the overall table only.
    """

    model_config = _Strict
    fields: dict[str, tuple[str, ...]] = {}
    domains: dict[str, tuple[str, ...]] = {}


class Edition(BaseModel):
    """A named, versioned method: journal set, subjects, eligibility, weights and base year."""

    model_config = _Strict
    name: str
    version: int = 1
    title: str = ""
    description: str = ""
    eligibility: Eligibility = Eligibility()
    journals: Literal["all"] | JournalList = "all"
    subjects: dict[str, str] = {}
    """Subject id -> display name."""
    multidisciplinary: Routing = Routing()
    weights: Weights = Weights()
    base_year: int | None = None
    """Base year of Adjusted Share; None means the latest year with eligible works."""
    origin: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _check_subjects(self) -> Edition:
        known = set(self.subjects)
        if isinstance(self.journals, JournalList):
            unknown = {s for s in self.journals.subject_labels.values() if s not in known}
            unknown |= {s for j in self.journals.inline for s in j.subjects if s not in known}
            if unknown:
                raise ValueError(f"subjects {sorted(unknown)} are not declared under `subjects`")
        routed = [*self.multidisciplinary.fields.values(), *self.multidisciplinary.domains.values()]
        unknown = {s for subjects in routed for s in subjects if s not in known}
        if unknown:
            raise ValueError(f"multidisciplinary routing names undeclared subjects {sorted(unknown)}")
        if self.multidisciplinary.fields and set(self.multidisciplinary.fields) != set(OPENALEX_FIELDS):
            missing = sorted(set(OPENALEX_FIELDS) - set(self.multidisciplinary.fields))
            extra = sorted(set(self.multidisciplinary.fields) - set(OPENALEX_FIELDS))
            raise ValueError(
                f"multidisciplinary.fields must map all 26 OpenAlex fields (ids 11-36); missing {missing}, "
                f"unknown {extra}"
            )
        return self

    def with_options(
        self,
        *,
        include_flagged: bool | None = None,
        legacy_weights: bool | None = None,
        base_year: int | None = None,
    ) -> Edition:
        """This edition with the given choices overridden (None keeps the edition's own)."""
        update: dict[str, object] = {}
        if include_flagged is not None:
            update["eligibility"] = self.eligibility.model_copy(update={"include_flagged": include_flagged})
        if legacy_weights is not None:
            update["weights"] = self.weights.model_copy(update={"legacy": legacy_weights})
        if base_year is not None:
            update["base_year"] = base_year
        return self.model_copy(update=update)

    @property
    def has_journal_list(self) -> bool:
        """Whether the edition counts a journal set (False: every source)."""
        return isinstance(self.journals, JournalList)

    def journal_list(self) -> list[Journal]:
        """The journals of the set, with ids, ISSNs and subject ids resolved (empty for `journals: all`)."""
        if not isinstance(self.journals, JournalList):
            return []
        spec = self.journals
        found: dict[str, Journal] = {}
        if spec.file is not None:
            for journal in self._read_list(spec):
                found[journal.title] = journal
        for journal in spec.inline:
            found[journal.title] = journal
        named = {
            *spec.extra_openalex_ids,
            *spec.extra_issns,
            *self.eligibility.flagged_only_journals,
            *self.weights.astronomy_journals,
        }
        unknown = sorted(t for t in named if t not in found)
        if unknown:
            raise EditionError(
                f"edition {self.name!r} names journals that are not in its list: {unknown}",
                "use the titles exactly as the journal list writes them",
            )
        return list(found.values())

    def _read_list(self, spec: JournalList) -> Iterator[Journal]:
        text = _read_text(spec.file or "", self.origin)
        for row in csv.DictReader(io.StringIO(text)):
            title = row["journal"].strip()
            multidisciplinary = row.get("multidisciplinary_partial", "").strip().lower() == "yes"
            labels = [s.strip() for s in row.get("subject_groups", "").split(";") if s.strip()]
            missing = [label for label in labels if label not in spec.subject_labels]
            if missing and not multidisciplinary:
                raise EditionError(
                    f"journal {title!r} of {spec.file} has subject groups {missing} that the edition "
                    f"{self.name!r} does not map",
                    "add them under journals.subject_labels",
                )
            subjects = (
                () if multidisciplinary else tuple(dict.fromkeys(spec.subject_labels[x] for x in labels))
            )
            ids = [*_split(row.get("openalex_source_id", "")), *spec.extra_openalex_ids.get(title, ())]
            issns = [*_split(row.get("issns", "")), *_split(row.get("issn_l", ""))]
            issns += list(spec.extra_issns.get(title, ()))
            yield Journal(
                title=title,
                subjects=subjects,
                openalex_ids=tuple(dict.fromkeys(ids)),
                issns=tuple(dict.fromkeys(i.upper() for i in issns)),
                multidisciplinary=multidisciplinary,
            )


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in re.split(r"[;|,]", value or "") if v.strip()]


def _read_text(name: str, origin: Path | None) -> str:
    """A journal-list file: next to a user's edition file, else one shipped in editions/journals/."""
    if origin is not None and (origin.parent / name).is_file():
        return (origin.parent / name).read_text(encoding="utf-8")
    shipped_file = resources.files(__name__).joinpath("journals", name)
    if shipped_file.is_file():
        return shipped_file.read_text(encoding="utf-8")
    raise EditionError(
        f"journal list {name!r} not found",
        "give a path relative to the edition file, or a shipped list: "
        + ", ".join(sorted(p.name for p in resources.files(__name__).joinpath("journals").iterdir())),
    )


def shipped() -> list[str]:
    """Names of the editions that ship with the package."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load(name_or_path: str) -> Edition:
    """Load a shipped edition by name, or a user's edition from a YAML file path."""
    path = Path(name_or_path)
    origin: Path | None = None
    if name_or_path in shipped():
        text = resources.files(__name__).joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
        where = f"shipped edition {name_or_path!r}"
    elif path.suffix in (".yaml", ".yml") and path.is_file():
        text = path.read_text(encoding="utf-8")
        where, origin = str(path), path.resolve()
    else:
        raise EditionError(
            f"unknown edition {name_or_path!r}",
            f"use one of {', '.join(shipped())}, or the path of an edition .yaml file",
        )
    try:
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise TypeError("the file does not hold a mapping")
        edition = Edition.model_validate({**data, "origin": origin})
    except (ValidationError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise EditionError(
            f"{where} is not a valid edition: {exc}", "fix the file (see docs/editions.md)"
        ) from exc
    edition.journal_list()
    return edition
