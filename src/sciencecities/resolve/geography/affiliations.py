"""Place a raw affiliation string ('Dept. of Physics, University of Oxford, Oxford OX1 3PU, UK') at a GeoNames place.

The last source of DESIGN §6, for institutions that neither OpenAlex nor ROR places. The string is split on commas
and semicolons; postal codes, e-mail addresses and remarks in parentheses are dropped. From the end, country names
('Peoples R China', 'U.S.A.') and first-level regions (US states and USPS codes, provinces and states of Canada,
Australia, Brazil, China, India and Pakistan, Japanese prefectures, the four parts of the UK) are peeled off; the
readings they allow ('Georgia': the country, or the US state) are all kept. City names are then looked for from the
end backwards, in the country and region read, the most populous place winning among same-named places. The
rule that found the answer sets its confidence (CONFIDENCE). Everything is precomputed dictionaries: batch use runs
at some 15,000 strings per second on one core.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from sciencecities.resolve.geography.gazetteer import Area, Gazetteer, normalise_name
from sciencecities.resolve.geography.model import Place

__all__ = ["CONFIDENCE", "ParsedPlace", "parse_affiliation"]

CONFIDENCE: dict[str, float] = {
    "city+region": 0.95,
    "city+country": 0.9,
    "city-state": 0.85,
    "region-city": 0.8,
    "country": 0.8,
    "city-in-segment+country": 0.75,
    "name-in-text+country": 0.6,
    "city": 0.6,
    "city-in-segment": 0.45,
    "name-in-text": 0.35,
}
"""Confidence of each rule: how the place was found. Set by hand, in the order of the precision measured per rule
on the gold strings of tests/geography (city+region 0.96 of 296, city+country 0.94 of 140, region-city 0.93 of 27,
country 1.0 of 25; the rules inside text are rarer there and less sure in a reading of 6,000 ROR strings).

city+region: a whole segment names a city of the region (state, province) written after it; city+country: of the
country written after it; city-state: only the country is written and it is a city (Singapore, Hong Kong);
region-city: the region written is also its main city (Beijing, Tokyo, New York) and no other city is named;
country: a country or region is written but no city (ParsedPlace.place is None); city-in-segment: the last words of
a segment name a city ('University of Oxford'); name-in-text: a city name inside a segment ('Oxford Univ.').
Rules without '+country' found no country in the string and took the most populous place of that name.
"""

CITY_STATES = {
    "SG": "singapore",
    "HK": "hong kong",
    "MO": "macau",
    "MC": "monaco",
    "VA": "vatican city",
    "GI": "gibraltar",
}
"""Countries that are one city: a string naming only the country is placed in that city."""

CHINESE_TERRITORIES = frozenset({"HK", "MO", "TW"})
"""Written before 'China' ('Kowloon, Hong Kong, China'), these name the country the place is in."""

NO_COUNTRY_MIN_POPULATION = 100_000
"""Without a country in the string, a city name found inside a segment counts only for a place this large."""


# fmt: off
STOPWORDS = frozenset({
    "academy", "agency", "and", "association", "authority", "board", "bureau", "business", "campus", "center",
    "central", "centre", "chair", "clinic", "clinical", "co", "college", "company", "corp", "corporation", "council",
    "department", "dept", "dipartimento", "division", "ecole", "engineering", "facultad", "faculty", "for",
    "foundation", "general", "graduate", "group", "health", "hospital", "hospitals", "inc", "institut", "institute",
    "instituto", "international", "key", "lab", "laboratories", "laboratory", "limited", "ltd", "medical",
    "medicine", "ministry", "museum", "national", "of", "office", "program", "programme", "research", "school",
    "science", "sciences", "service", "society", "state", "station", "technology", "the", "universidad",
    "universidade", "universita", "universitat", "universite", "university", "univ", "unit",
})
# fmt: on
"""Words of institution names: a city read inside a segment may not contain one (a whole segment may: 'University
Park'), and a segment that is only one of them ('University') is not read as a city."""

MUNICIPAL_WORDS = frozenset(
    {"city", "shi", "si", "ku", "gu", "cho", "machi", "town", "qu", "xian", "district"}
)
"""Written after a city's name ('Shihezi City', 'Noda-shi', 'Haidian District'); tried without when the whole fails."""

_SPLIT = re.compile(r"[,;|\n\t]")
_WORD = re.compile(r"[^\W_]+(?:['’`´ʻʼ][^\W_]+)*")
_NOISE = re.compile(
    r"\S+@\S+"  # e-mail addresses
    r"|(?i:\b(?:e-?mail|electronic address)\b)"
    r"|\b\d{4} ?[A-Z]{2}\b"  # Dutch postal codes (1098 XH)
    r"|\b[A-Z]{1,2}-(?=\d)"  # country prefixes of postal codes (D-69120, SE-751 05)
    r"|\([^()]*\)"  # remarks in parentheses: author initials, '(Group)', '(Beijing)'
)
_LETTER_GAP = re.compile(r"[ .]*")
"""What may separate single letters that are joined into one word ('U.S.A.', 'P. R.')."""
_DROPPED = frozenset({"cedex"})
"""Words of French postal addresses, dropped like postal codes."""
_MAX_NAME_WORDS = 6
"""Longest place or area name tried, in words ('united kingdom of great britain and northern ireland' is not)."""
_MIN_INSIDE_AREA_LENGTH = 4
"""Inside the string, area names shorter than this ('co', 'in', 'usa') are ordinary words."""


@dataclass(frozen=True)
class ParsedPlace:
    """Where an affiliation string says it is: the place (None when only the country is known), and how sure.

    `confidence` is that of the rule (CONFIDENCE[rule]) and concerns the most precise thing given: the place, or
    the country when place is None. `matched` is the written text the answer was read from.
    """

    place: Place | None
    country_code: str
    confidence: float
    matched: str
    rule: str


def parse_affiliation(text: str, gazetteer: Gazetteer) -> ParsedPlace | None:
    """Find the city and country an affiliation string names; None when it names neither.

    Examples: 'Department of Physics, University of Oxford, Parks Road, Oxford OX1 3PU, UK' -> Oxford, GB
    (city+country); 'Peking University, Beijing, China' -> Beijing (region-city); 'University of British
    Columbia' -> country CA with place None (rule 'country'). When no country or region ends the string, one
    named inside it is used ('University of North Carolina at Chapel Hill' -> Chapel Hill, US); when one does, text
    before an earlier country name is another affiliation and is ignored. A section of a city (a Tokyo ward, a
    Beijing district) is replaced by the place Gazetteer.nearest() puts it in. No I/O; a few dozen look-ups.
    """
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():  # composed, so that 'a' + combining acute is one letter to the word pattern
        text = unicodedata.normalize("NFC", text)
    text = _NOISE.sub(lambda m: " " * len(m.group()), text)
    segments = [segment for start, end in _spans(text) if (segment := _segment(text, start, end)).words]
    areas = _peel_areas(segments, gazetteer)
    areas = _last_affiliation(areas, gazetteer) if areas.options else _areas_named_inside(areas, gazetteer)
    found = _find_city(areas, gazetteer)
    if found is not None:
        named, words, rule = found
        place = _unsectioned(named, gazetteer)
        return ParsedPlace(place, place.country_code, CONFIDENCE[rule], _text_of(text, words), rule)
    if not areas.options:
        return None
    country = areas.options[0][0]
    matched = _text_of(text, areas.words)
    city = CITY_STATES.get(country)
    if city is not None and (capital := gazetteer.lookup(city, country)) is not None:
        return ParsedPlace(capital, country, CONFIDENCE["city-state"], matched, "city-state")
    return ParsedPlace(None, country, CONFIDENCE["country"], matched, "country")


class _Word(NamedTuple):
    """One normalised word of the string, where it is written in the (unescaped) text, whether single letters."""

    text: str
    start: int
    end: int
    letters: bool


class _Segment(NamedTuple):
    """The words of one comma-separated part of the string, with their normalised texts for building keys."""

    words: tuple[_Word, ...]
    texts: tuple[str, ...]

    def key(self, start: int, end: int) -> str:
        """The normalise_name form of words[start:end]."""
        return " ".join(self.texts[start:end])

    def head(self, end: int) -> _Segment:
        """The segment cut before word `end`."""
        return _Segment(self.words[:end], self.texts[:end])


_Option = tuple[str, str | None]
"""One reading of the area names found: (country, admin1 or None)."""


@dataclass(frozen=True)
class _Areas:
    """What the area names say: readings (most likely first), their words, the region's words, the segments left."""

    options: list[_Option]
    words: tuple[_Word, ...]
    region: tuple[_Word, ...]
    segments: list[_Segment]


def _spans(text: str) -> list[tuple[int, int]]:
    """Start and end of each comma- or semicolon-separated segment."""
    bounds = [-1, *(m.start() for m in _SPLIT.finditer(text)), len(text)]
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]


@functools.lru_cache(maxsize=1 << 16)
def _normal_words(raw: str) -> tuple[str, ...]:
    """normalise_name of one written word, none for words with digits (postal codes); cached, as words recur."""
    if any(ch.isdigit() for ch in raw):
        return ()
    return tuple(w for w in normalise_name(raw).split() if w not in _DROPPED)


def _segment(text: str, start: int, end: int) -> _Segment:
    """The words of text[start:end]; single letters written apart ('U.S.A.', 'P. R. China') are joined."""
    words: list[_Word] = []
    for match in _WORD.finditer(text, start, end):
        for normal in _normal_words(match.group()):
            last = words[-1] if words else None
            letter = len(normal) == 1 and normal.isalpha()
            if (
                letter
                and last is not None
                and last.letters
                and _LETTER_GAP.fullmatch(text, last.end, match.start())
            ):
                words[-1] = _Word(last.text + normal, last.start, match.end(), True)
            else:
                words.append(_Word(normal, match.start(), match.end(), letter))
    return _Segment(tuple(words), tuple(w.text for w in words))


def _text_of(text: str, words: tuple[_Word, ...]) -> str:
    """The written text from the first to the last of these words."""
    return text[min(w.start for w in words) : max(w.end for w in words)] if words else ""


def _combine(options: list[_Option], areas: tuple[Area, ...], region_allowed: bool) -> list[_Option]:
    """The readings left after one more area name; empty when the name contradicts what was peeled before."""
    usable = [a for a in areas if region_allowed or a.admin1 is None]
    if not options:
        return [(a.country_code, a.admin1) for a in usable]
    combined: list[_Option] = []
    for country, admin1 in options:
        for area in usable:
            if area.country_code == country:
                combined.append((country, area.admin1 or admin1))
            elif country == "CN" and area.admin1 is None and area.country_code in CHINESE_TERRITORIES:
                combined.append((area.country_code, None))
    return list(dict.fromkeys(combined))


def _peel_areas(segments: list[_Segment], gazetteer: Gazetteer) -> _Areas:
    """Take country and region names off the end of the string, up to the first segment that does not end in one.

    At most one region is taken ('Bronx, New York, USA' reads 'New York' as the state, 'New York, NY, USA' as the
    city), and a second country only when it is a territory written before 'China'.
    """
    options: list[_Option] = []
    peeled: tuple[_Word, ...] = ()
    region: tuple[_Word, ...] = ()
    left = list(segments)
    while left:
        segment = left[-1]
        while segment.words:
            size = len(segment.words)
            for start in range(max(0, size - _MAX_NAME_WORDS), size):
                found = gazetteer.areas(segment.key(start, size))
                combined = _combine(options, found, not region) if found else []
                if combined:
                    if combined != options and any(a.admin1 is not None for a in found):
                        region = segment.words[start:]
                    peeled += segment.words[start:]
                    options, segment = combined, segment.head(start)
                    break
            else:
                break
        if segment.words:
            left[-1] = segment
            break
        left.pop()
    return _Areas(options, peeled, region, left)


def _named_areas(segment: _Segment, gazetteer: Gazetteer) -> tuple[int, int, tuple[Area, ...]] | None:
    """The last country or region name written inside a segment (not a short code), as (start, end, areas)."""
    for end in range(len(segment.words), 0, -1):
        if segment.texts[end - 1] not in gazetteer.area_final_words:
            continue
        for start in range(max(0, end - _MAX_NAME_WORDS), end):
            key = segment.key(start, end)
            if len(key) >= _MIN_INSIDE_AREA_LENGTH and (found := gazetteer.areas(key)):
                return start, end, found
    return None


def _areas_named_inside(areas: _Areas, gazetteer: Gazetteer) -> _Areas:
    """Readings from the last country or region named inside the string ('University of Michigan'), regions first.

    Codes ('CO', 'IN', 'USA') count only at the end of the string, where they are peeled: inside, they are words.
    """
    for segment in reversed(areas.segments):
        if (named := _named_areas(segment, gazetteer)) is not None:
            start, end, found = named
            ordered = sorted(found, key=lambda a: a.admin1 is None)
            words = segment.words[start:end]
            region = words if ordered[0].admin1 is not None else ()
            return _Areas([(a.country_code, a.admin1) for a in ordered], words, region, areas.segments)
    return areas


def _last_affiliation(areas: _Areas, gazetteer: Gazetteer) -> _Areas:
    """Drop what precedes the last segment naming a country: an earlier affiliation ('..., Kanpur, India and ...')."""
    for index in range(len(areas.segments) - 1, 0, -1):
        named = _named_areas(areas.segments[index], gazetteer)
        if named is not None and any(a.admin1 is None for a in named[2]):
            return _Areas(areas.options, areas.words, areas.region, areas.segments[index:])
    return areas


def _best(
    key: str, options: list[_Option], gazetteer: Gazetteer, min_population: int = 0
) -> tuple[Place, bool] | None:
    """The place named `key` under the readings, and whether it is in the reading's region; region matches first.

    Without readings: the most populous place of that name anywhere, if it has `min_population`.
    """
    if not options:
        place = gazetteer.lookup(key)
        return (place, False) if place is not None and place.population >= min_population else None
    for country, admin1 in options:
        if (
            admin1 is not None
            and (place := gazetteer.lookup(key, country, admin1))
            and place.admin1 == admin1
        ):
            return place, True
    for country, _ in options:
        if (place := gazetteer.lookup(key, country)) is not None:
            return place, False
    return None


def _find_city(areas: _Areas, gazetteer: Gazetteer) -> tuple[Place, tuple[_Word, ...], str] | None:
    """The city named in the segments left after peeling, trying the surest ways first (see CONFIDENCE)."""
    options, segments = areas.options, areas.segments
    country = "+country" if options else ""
    for segment in reversed(segments):
        size = len(segment.words)
        if size == 1 and segment.texts[0] in STOPWORDS:
            continue
        ends = (size, size - 1) if size > 1 and segment.texts[-1] in MUNICIPAL_WORDS else (size,)
        for end in ends:
            if (found := _best(segment.key(0, end), options, gazetteer)) is not None:
                return found[0], segment.words[:end], "city+region" if found[1] else "city" + country
    for area in gazetteer.areas(" ".join(w.text for w in areas.region)) if areas.region else ():
        if area.city_geonames_id is not None and (area.country_code, area.admin1) in options:
            place = gazetteer.place(area.city_geonames_id)
            if place is not None:
                return place, areas.region, "region-city"
    minimum = 0 if options else NO_COUNTRY_MIN_POPULATION
    for inside in (False, True):
        for segment in reversed(segments):
            size = len(segment.words)
            for end in range(size - 1, 0, -1) if inside else (size,):
                if segment.texts[end - 1] not in gazetteer.final_words:
                    continue
                for start in range(max(1 if end == size else 0, end - _MAX_NAME_WORDS), end):
                    key = segment.key(start, end)
                    if (
                        not any(t in STOPWORDS for t in segment.texts[start:end])
                        and not gazetteer.areas(key)
                        and (found := _best(key, options, gazetteer, minimum)) is not None
                    ):
                        rule = "name-in-text" if inside else "city-in-segment"
                        return found[0], segment.words[start:end], rule + country
    return None


def _unsectioned(place: Place, gazetteer: Gazetteer) -> Place:
    """A section of a city (PPLX: a Tokyo ward) or a place of unknown population (a Beijing district), replaced by
    the place Gazetteer.nearest() puts its coordinates in when that one is neither."""
    if place.feature_code != "PPLX" and place.population > 0:
        return place
    containing = gazetteer.nearest(place.latitude, place.longitude, place.country_code).place
    return place if containing.feature_code == "PPLX" or containing.population == 0 else containing
