"""Finding an entity by what a person types: its id, its name in any case and accents, 'Name, CC' for a country,
a unique prefix, and close matches as suggestions when nothing or more than one fits."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sciencecities.errors import InputError

_SUFFIXES = re.compile(r"\b(metropolitan area|metro area|metropolitan region|metro)\b")


@dataclass(frozen=True)
class Candidate:
    """An entity that a name may mean: its id, display name and country."""

    id: str
    name: str
    country_code: str | None


def normalise(text: str) -> str:
    """Lower case, no accents, no 'metropolitan area', single spaces: 'São Paulo Metro' -> 'sao paulo'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = _SUFFIXES.sub(" ", plain.replace("-", " "))
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", plain).split())


def find(query: str, candidates: Sequence[Candidate], what: str) -> Candidate:
    """The one candidate `query` names; InputError listing the matches (ambiguous) or suggestions (unknown).

    Tried in order: the id; the normalised name ('Boston' finds 'Boston metropolitan area'); 'Name, CC' or
    'Name (CC)' to pick a country; a unique prefix of the normalised name.
    """
    wanted = query.strip()
    for candidate in candidates:
        if candidate.id.lower() == wanted.lower():
            return candidate
    country = None
    match = re.fullmatch(r"(.+?)\s*(?:,\s*|\()([A-Za-z]{2})\)?", wanted)
    if match:
        wanted, country = match.group(1), match.group(2).upper()
    pool = [c for c in candidates if country is None or c.country_code == country]
    key = normalise(wanted)
    for matches in (
        [c for c in pool if normalise(c.name) == key],
        [c for c in pool if normalise(c.name).startswith(key)] if key else [],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = "; ".join(f"{c.name} ({c.country_code or '-'}, id {c.id})" for c in matches[:10])
            raise InputError(
                f"the {what} {query!r} is ambiguous: it matches {shown}",
                f"give the id, or the name with its country, e.g. '{matches[0].name}, {matches[0].country_code}'",
            )
    names: dict[str, list[Candidate]] = {}
    for candidate in pool:
        names.setdefault(normalise(candidate.name), []).append(candidate)
    close = difflib.get_close_matches(key, list(names), n=5, cutoff=0.6)
    suggested = [c for k in close for c in names[k]][:8]
    hint = (
        "did you mean: " + "; ".join(f"{c.name} ({c.country_code or '-'}, id {c.id})" for c in suggested)
        if close
        else f"list them with `sciencecities rank --level {what}`"
    )
    raise InputError(f"no {what} {query!r}" + (f" in {country}" if country else ""), hint)
