"""Editions: the method as data. Each names its journal set, eligibility rules and weights (DESIGN §5)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from sciencecities.errors import EditionError


class Eligibility(BaseModel):
    """Which works count: OpenAlex types, and whether retracted works and paratext are left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    types: tuple[str, ...] = ("article",)
    exclude_retracted: bool = True
    exclude_paratext: bool = True


class Edition(BaseModel):
    """A named, versioned method: the journal set (here `all`), eligibility and weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    version: int = 1
    title: str = ""
    description: str = ""
    eligibility: Eligibility = Eligibility()
    journals: Literal["all"] = "all"


def shipped() -> list[str]:
    """Names of the editions that ship with the package."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load(name_or_path: str) -> Edition:
    """Load a shipped edition by name, or a user's edition from a YAML file path."""
    path = Path(name_or_path)
    if name_or_path in shipped():
        text = resources.files(__name__).joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
        origin = f"shipped edition {name_or_path!r}"
    elif path.suffix in (".yaml", ".yml") and path.is_file():
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    else:
        raise EditionError(
            f"unknown edition {name_or_path!r}",
            f"use one of {', '.join(shipped())}, or the path of an edition .yaml file",
        )
    try:
        return Edition.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise EditionError(
            f"{origin} is not a valid edition: {exc}", "fix the file (see docs/method.md)"
        ) from exc
