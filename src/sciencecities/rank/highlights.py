"""Highlights: the facts a news story about a ranking states, computed from the ranking of one year against
another, never written by hand; each fact is a sentence and the numbers behind it.

The facts, in order: the top 10 and the move of each; new entrants to each tier (top 10, 50, 200); the biggest
risers and fallers by change in Adjusted Share (DESIGN §4) among entities of a minimum size; entities per
country in each tier against the earlier year; subject sweeps (one country holding more than half of a
subject's top 10); and overtakes within the top 10.

Rules that are choices, recorded in each result's `meta`:

- Ranks within the top 10, a tier or a subject's top 10 include ties at the last place (as `rank --top`).
- A tier larger than the number of entities ranked in the year gives no facts; so does a subject with fewer
  than 10 entities ranked.
- Risers and fallers: the 5 largest positive (negative) changes among entities whose Share in the year is
  at least `min_share`. Its default is the Share of the entity at the position of the largest tier (200th),
  or the smallest Share when fewer are ranked: a change measured on a few articles (one to two is +100%)
  says little, and news stories report risers among the top 200. Changes equal when rounded to 1e-9 are
  ordered by rank, then name.
- Overtakes: A overtakes B when both are in the year's top 10, A ranks above B in the year and was ranked
  below B in the earlier year (both ranked then). All such pairs count, not only neighbours, since a city that
  climbs from 8th to 2nd overtakes each city it passed; they are grouped by the overtaker, so there is at most
  one overtake fact per entity of the top 10.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sciencecities.countries import countries
from sciencecities.errors import InputError
from sciencecities.rank.access import built_edition
from sciencecities.rank.queries import rank
from sciencecities.store import Store

__all__ = [
    "KINDS",
    "Fact",
    "Highlights",
    "country_phrase",
    "format_change",
    "format_share",
    "highlights",
    "ordinal",
]

KINDS = (
    "top10",
    "top10_move",
    "new_entrant",
    "riser",
    "faller",
    "country_count",
    "subject_sweep",
    "overtake",
)
"""The kinds of fact, in the order a story (and `Highlights.facts`) gives them."""

TOP = 10
"""The head of the ranking whose moves, subject sweeps and overtakes are reported."""

MOVERS = 5
"""How many risers and how many fallers are reported."""

_TITLE = {
    "city": ("science city", "science cities"),
    "institution": ("institution", "institutions"),
    "country": ("country", "countries"),
    "group": ("group", "groups"),
}
_NOUN = {
    "city": ("city", "cities"),
    "institution": ("institution", "institutions"),
    "country": ("country", "countries"),
    "group": ("group", "groups"),
}
_SECTIONS = (
    ("top10", "The top 10"),
    ("top10_move", None),
    ("new_entrant", "New entrants"),
    ("riser", "Biggest risers"),
    ("faller", "Biggest fallers"),
    ("country_count", "{Plural} per country"),
    ("subject_sweep", "Subject sweeps"),
    ("overtake", "Overtakes"),
)
"""Markdown sections by kind; None continues the section above."""


@dataclass(frozen=True)
class Fact:
    """One statement of a story: its kind (one of KINDS), its sentence, and every number the sentence
    states."""

    kind: str
    text: str
    numbers: dict[str, Any]


@dataclass(frozen=True)
class Highlights:
    """The facts of the ranking of `year` against `vs`, with the metadata of how the ranking was made."""

    year: int
    vs: int
    level: str
    edition: str
    boundaries: str | None
    facts: list[Fact]
    meta: dict[str, Any]

    def to_markdown(self) -> str:
        """A title naming edition, boundaries and years, a section of bullet sentences per kind of fact, and a
        note on what the measures are."""
        where = f", boundaries {self.boundaries}" if self.boundaries else ""
        lines = [f"# Highlights: {_TITLE[self.level][1]}, {self.edition}{where}, {self.year} vs {self.vs}"]
        for kind, heading in _SECTIONS:
            facts = [f for f in self.facts if f.kind == kind]
            if not facts:
                continue
            if heading is not None:
                lines += ["", "## " + heading.format(Plural=_NOUN[self.level][1].capitalize()), ""]
            if kind in ("riser", "faller"):
                floor = format_share(self.meta["min_share"])
                lines += [
                    f"Among {_TITLE[self.level][1]} with a Share of at least {floor} in {self.year}:",
                    "",
                ]
            lines += [f"- {f.text}" for f in facts]
        note = (
            f"Share: fractional count of articles. Adjusted Share: Share scaled to the article total of "
            f"{self.meta['base_year']}, so that years compare; changes are in Adjusted Share from {self.vs} "
            f"to {self.year}. Ties at the last place of a top 10 or tier are included."
        )
        lines += ["", note]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The facts with their numbers, and the metadata, as plain JSON-ready values."""
        return {
            "year": self.year,
            "vs": self.vs,
            "level": self.level,
            "edition": self.edition,
            "boundaries": self.boundaries,
            "facts": [asdict(f) for f in self.facts],
            "meta": self.meta,
        }


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 101st, 111th."""
    if n % 100 in (11, 12, 13):
        return f"{n:,}th"
    return f"{n:,}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def format_share(value: float) -> str:
    """A Share as the sentences write it: one decimal with thousands separators ('1,234.5'); below 1, two
    significant digits ('0.046'), so that small Shares do not all read 0.0. Rounded to 1e-9 first, as ranks
    are."""
    value = round(value, 9)
    if value >= 1 or value <= 0:
        return f"{value:,.1f}"
    return f"{value:.{1 - math.floor(math.log10(value))}f}"


def format_change(change: float) -> str:
    """The size of a change as a percentage with one decimal ('12.3%'); the sentence says more or less."""
    return f"{abs(change) * 100:,.1f}%"


_THE_ENDINGS = ("Islands", "Antilles", "Territories", "Emirates", "Grenadines")
_THE_NAMES = {"Bahamas", "Comoros", "Gambia", "Isle of Man", "Maldives", "Netherlands", "Philippines"}


def country_phrase(name: str, *, start: bool = False) -> str:
    """A country's name as a sentence uses it: 'China', 'the United States', 'The Netherlands' to begin
    one."""
    bare = name.strip().removeprefix("The ")
    if not (
        bare.startswith("United ") or "Republic" in bare or bare.endswith(_THE_ENDINGS) or bare in _THE_NAMES
    ):
        return bare
    return ("The " if start else "the ") + bare


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _row_numbers(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "country_code", *keys)}


@dataclass(frozen=True)
class _Story:
    """What every fact builder needs: the years, the level, country names and how often each rank occurs."""

    year: int
    vs: int
    level: str
    country_names: dict[str, str]
    ranks_now: Counter[int]
    ranks_before: Counter[int]

    def place(self, rank: int, *, before: bool = False) -> str:
        """The ordinal of a rank, 'joint' when another entity holds it too."""
        tied = (self.ranks_before if before else self.ranks_now)[rank] > 1
        return ("joint " if tied else "") + ordinal(rank)

    def country(self, code: str, *, start: bool = False) -> str:
        """The country's name as a sentence uses it (see country_phrase); its code when it has no name."""
        return country_phrase(self.country_names.get(code, code), start=start)

    def name(self, row: dict[str, Any], *, start: bool = False) -> str:
        """An entity's name as a sentence uses it: countries with their article ('the United States')."""
        return country_phrase(row["name"], start=start) if self.level == "country" else row["name"]

    def count(self, n: int) -> str:
        singular, plural = _NOUN[self.level]
        return f"no {plural}" if n == 0 else f"{n:,} {singular if n == 1 else plural}"

    def change(self, change: float | None) -> str:
        """', 12.3% more Adjusted Share than in 2023', or nothing when there is no change to state."""
        if change is None:
            return ""
        if format_change(change) == "0.0%":
            return f", as much Adjusted Share as in {self.vs}"
        return (
            f", {format_change(change)} {'more' if change > 0 else 'less'} Adjusted Share than in {self.vs}"
        )


def highlights(
    store: Store,
    *,
    year: int,
    vs: int | None = None,
    level: str = "city",
    edition: str = "nature-index",
    boundaries: str = "metro",
    min_share: float | None = None,
    tiers: Sequence[int] = (10, 50, 200),
) -> Highlights:
    """The facts of a news story about the ranking of `year` against `vs` (default: the year before), each a
    sentence with the numbers it states; see the module docstring for the rules.

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> story = highlights(demo_store(), year=2023, level="country", edition="all-articles")
    >>> story.facts[0].kind
    'top10'
    """
    vs = year - 1 if vs is None else vs
    if vs >= year:
        raise InputError(
            f"the comparison year {vs} is not before {year}", f"give an earlier year, e.g. --vs {year - 1}"
        )
    wanted = sorted(set(tiers))
    if any(not isinstance(t, int) or t < 1 for t in wanted):
        raise InputError(f"tiers must be whole numbers from 1, not {list(tiers)}", "e.g. tiers=(10, 50, 200)")
    now = rank(store, level=level, years=(year, year), vs=(vs, vs), edition=edition, boundaries=boundaries)
    before = rank(store, level=level, years=(vs, vs), edition=edition, boundaries=boundaries)
    rows, previous = now.table.to_pylist(), before.table.to_pylist()
    for when, ranked in ((year, rows), (vs, previous)):
        if not ranked:
            raise InputError(
                f"edition {now.meta['edition']} has no {_TITLE[level][1]} ranked in {when}",
                "choose years the store holds; `sciencecities trend --level country` lists them",
            )
    if min_share is None:
        depth = min(max(wanted, default=len(rows)), len(rows))
        min_share = float(rows[depth - 1]["share"])
        floor_rule = f"the Share of the {ordinal(depth)} in {year}"
    else:
        floor_rule = "given"
    story = _Story(
        year,
        vs,
        level,
        dict(zip(countries()["country_code"].to_pylist(), countries()["name"].to_pylist(), strict=True)),
        Counter(r["rank"] for r in rows),
        Counter(r["rank"] for r in previous),
    )
    shown = [t for t in wanted if t <= len(rows)]
    by_country = level in ("city", "institution")
    facts = [
        *_top(story, rows),
        *_entrants(story, rows, shown),
        *_movers(story, rows, min_share, rising=True),
        *_movers(story, rows, min_share, rising=False),
        *(_country_counts(story, rows, previous, shown) if by_country else []),
        *(_sweeps(story, store, edition, boundaries) if by_country else []),
        *_overtakes(story, rows),
    ]
    meta = {
        **now.meta,
        "tiers": wanted,
        "tiers_reported": shown,
        "ranked": len(rows),
        "ranked_previous": len(previous),
        "min_share": min_share,
        "min_share_rule": floor_rule,
        "rules": {
            "top": f"the top {TOP} and each tier include ties at the last place",
            "movers": f"the {MOVERS} largest positive (negative) changes in Adjusted Share among entities "
            "with a Share of at least min_share in the year",
            "overtakes": f"A above B in the year's top {TOP} and below B in the earlier year; grouped by A",
            "subject_sweep": f"one country holds more than half of a subject's top {TOP}",
        },
    }
    return Highlights(year, vs, level, now.meta["edition"], now.meta["boundaries"], facts, meta)


def _top(story: _Story, rows: list[dict[str, Any]]) -> list[Fact]:
    """The top 10 as a list, then each one's move (stays, rises, falls or enters) with Share and change."""
    top = [r for r in rows if r["rank"] <= TOP]
    singular, plural = _TITLE[story.level]
    names = _listed([story.name(r) for r in top])
    if len(rows) == 1:
        text = f"The only {singular} ranked in {story.year} is {names}."
    elif len(rows) < TOP:
        text = f"The {len(rows)} {plural} ranked in {story.year}, by Share: {names}."
    else:
        ties = f" ({len(top)} with ties)" if len(top) > TOP else ""
        text = f"The top {TOP} {plural} of {story.year} by Share{ties}: {names}."
    listing = [_row_numbers(r, "rank", "share") for r in top]
    numbers = {"year": story.year, "tier": TOP, "size": len(top), "ranked": len(rows), "entities": listing}
    facts = [Fact("top10", text, numbers)]
    for row in top:
        name, place, share = story.name(row, start=True), story.place(row["rank"]), format_share(row["share"])
        previous = row["previous_rank"]
        if previous is None:
            text = f"{name} enters at {place} with a Share of {share} (not ranked in {story.vs})."
        else:
            if previous == row["rank"]:
                move = f"stays {place}"
            else:
                verb = "rises" if previous > row["rank"] else "falls"
                move = f"{verb} from {story.place(previous, before=True)} to {place}"
            text = f"{name} {move} with a Share of {share}{story.change(row['change'])}."
        numbers = _row_numbers(
            row, "rank", "previous_rank", "share", "adjusted_share", "adjusted_share_previous", "change"
        )
        facts.append(Fact("top10_move", text, numbers | {"year": story.year, "vs": story.vs}))
    return facts


def _entrants(story: _Story, rows: list[dict[str, Any]], tiers: Iterable[int]) -> list[Fact]:
    """Per tier, each entity in it this year that was below it, or not ranked, in the earlier year."""
    facts = []
    for tier in tiers:
        for row in rows:
            previous = row["previous_rank"]
            if row["rank"] > tier or (previous is not None and previous <= tier):
                continue
            who, place = story.name(row, start=True), story.place(row["rank"])
            if previous is None:
                text = f"{who} enters at {place}: new in the top {tier:,} (not ranked in {story.vs})."
            else:
                before = story.place(previous, before=True)
                text = f"{who} rises from {before} to {place}: new in the top {tier:,}."
            numbers = _row_numbers(row, "rank", "previous_rank", "share")
            facts.append(
                Fact("new_entrant", text, numbers | {"tier": tier, "year": story.year, "vs": story.vs})
            )
    return facts


def _movers(story: _Story, rows: list[dict[str, Any]], min_share: float, *, rising: bool) -> list[Fact]:
    """The MOVERS largest rises (or falls) in Adjusted Share among entities with Share >= min_share."""
    sign = 1 if rising else -1
    moved = [
        r for r in rows if r["share"] >= min_share and r["change"] is not None and sign * r["change"] > 0
    ]
    moved.sort(key=lambda r: (-sign * round(r["change"], 9), r["rank"], r["name"]))
    facts = []
    for position, row in enumerate(moved[:MOVERS], start=1):
        was = (
            f"; {story.vs}: {story.place(row['previous_rank'], before=True)}"
            if row["previous_rank"] is not None
            else ""
        )
        more = "more" if rising else "less"
        text = (
            f"{story.name(row, start=True)} has {format_change(row['change'])} {more} Adjusted Share than in "
            f"{story.vs}, with a Share of {format_share(row['share'])} ({story.place(row['rank'])}{was})."
        )
        numbers = _row_numbers(
            row, "rank", "previous_rank", "share", "adjusted_share", "adjusted_share_previous", "change"
        )
        numbers |= {"position": position, "min_share": min_share, "year": story.year, "vs": story.vs}
        facts.append(Fact("riser" if rising else "faller", text, numbers))
    return facts


def _country_counts(
    story: _Story, rows: list[dict[str, Any]], previous: list[dict[str, Any]], tiers: Iterable[int]
) -> list[Fact]:
    """Per tier, how many entities of each country are in it, against the earlier year's ranking."""
    facts = []
    for tier in tiers:
        now = Counter(r["country_code"] for r in rows if r["rank"] <= tier and r["country_code"])
        before = Counter(r["country_code"] for r in previous if r["rank"] <= tier and r["country_code"])
        for code in sorted(
            now.keys() | before.keys(), key=lambda c: (-now[c], -before[c], story.country_names.get(c, c))
        ):
            text = (
                f"{story.country(code, start=True)} has {story.count(now[code])} in the top {tier:,} "
                f"({story.vs}: {before[code]:,})."
            )
            numbers = {
                "country_code": code,
                "country": story.country_names.get(code, code),
                "tier": tier,
                "count": now[code],
                "count_previous": before[code],
                "change": now[code] - before[code],
                "year": story.year,
                "vs": story.vs,
            }
            facts.append(Fact("country_count", text, numbers))
    return facts


def _sweeps(story: _Story, store: Store, edition: str, boundaries: str) -> list[Fact]:
    """Each subject of the edition whose top 10 in the year is more than half in one country."""
    facts = []
    for subject, label in built_edition(store, edition)[1].subjects.items():
        top = rank(
            store,
            level=story.level,
            years=(story.year, story.year),
            subject=subject,
            edition=edition,
            boundaries=boundaries,
            top=TOP,
        ).table.to_pylist()
        held = Counter(r["country_code"] for r in top if r["country_code"])
        if len(top) < TOP or not held:
            continue
        code, count = held.most_common(1)[0]
        if count * 2 <= len(top):
            continue
        size = f"top {TOP}" if len(top) == TOP else f"{len(top)} in the top {TOP} (with ties)"
        text = f"In {label.lower()}, {count} of the {size} are in {story.country(code)}."
        numbers = {
            "subject": subject,
            "subject_name": label,
            "country_code": code,
            "country": story.country_names.get(code, code),
            "count": count,
            "size": len(top),
            "tier": TOP,
            "year": story.year,
            "entities": [_row_numbers(r, "rank", "share") for r in top if r["country_code"] == code],
        }
        facts.append(Fact("subject_sweep", text, numbers))
    return facts


def _overtakes(story: _Story, rows: list[dict[str, Any]]) -> list[Fact]:
    """Each entity of the top 10 with those of the top 10 it now ranks above but ranked below in the earlier
    year (both ranked then)."""
    top = [r for r in rows if r["rank"] <= TOP and r["previous_rank"] is not None]
    facts = []
    for row in top:
        passed = [b for b in top if row["rank"] < b["rank"] and row["previous_rank"] > b["previous_rank"]]
        if not passed:
            continue
        places = _listed([story.place(r["rank"]) for r in (row, *passed)])
        passed_names = _listed([story.name(b) for b in passed])
        text = f"{story.name(row, start=True)} overtakes {passed_names} (now {places})."
        numbers = _row_numbers(row, "rank", "previous_rank") | {
            "overtaken": [_row_numbers(b, "rank", "previous_rank") for b in passed],
            "year": story.year,
            "vs": story.vs,
        }
        facts.append(Fact("overtake", text, numbers))
    return facts
