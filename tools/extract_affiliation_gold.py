"""Write the gold affiliation strings of tests/geography/data; a developer tool, not run at runtime or in tests.

Usage (from the repository root)::

    python tools/extract_affiliation_gold.py openalex > tests/geography/data/openalex_affiliations.csv
    python tools/extract_affiliation_gold.py institutions > tests/geography/data/openalex_institution_places.csv
    python tools/extract_affiliation_gold.py ror-sample --ror /work/shared/data/ror > ror_sample_to_label.csv

`openalex` pairs each raw affiliation string of the embedded OpenAlex sample with the GeoNames city and country of
its institution, when the string names exactly one institution and that institution has a GeoNames city id.
`institutions` lists the sample's institutions that have coordinates, with their GeoNames city id when they have one.
`ror-sample` draws a seeded random sample of the ROR-labelled affiliation strings, with empty country_code and city
columns for a person to fill in by reading each string.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import sys
from pathlib import Path

SAMPLE = Path("src/sciencecities/data/sample/openalex")
ROR_FILES = (
    "affiliation_strings_to_ror_crossref_2024-02-19.json",
    "affiliation_strings_to_ror_springer_2023-10-31.json",
)
ROR_SAMPLE_SEED = 20250601
ROR_SAMPLE_SIZE = 180


def _jsonl(path: Path) -> list[dict[str, object]]:
    """The records of a gzipped JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def openalex_pairs(sample: Path) -> list[tuple[str, str, str, str]]:
    """(string, institution id, geonames id, country) for strings tied to one institution with a GeoNames city."""
    places = {}
    for institution in _jsonl(sample / "institutions_academic_explorer.jsonl.gz"):
        geo = institution.get("geo") or {}
        if isinstance(geo, dict) and geo.get("geonames_city_id") and geo.get("country_code"):
            places[institution["id"]] = (str(geo["geonames_city_id"]), str(geo["country_code"]))
    pairs: dict[str, tuple[str, str, str, str]] = {}
    for work in _jsonl(sample / "works_academic_explorer.jsonl.gz"):
        for authorship in work.get("authorships") or []:  # type: ignore[union-attr]
            for affiliation in authorship.get("affiliations") or []:
                ids = affiliation.get("institution_ids") or []
                text = affiliation.get("raw_affiliation_string") or ""
                if len(ids) == 1 and ids[0] in places and text.strip():
                    pairs[text] = (text, ids[0], *places[ids[0]])
    return sorted(pairs.values())


def institution_places(sample: Path) -> list[tuple[str, str, str, str, str, str]]:
    """(institution id, name, latitude, longitude, geonames id or '', country or '') of located institutions."""
    rows = []
    for institution in _jsonl(sample / "institutions_academic_explorer.jsonl.gz"):
        geo = institution.get("geo") or {}
        if isinstance(geo, dict) and geo.get("latitude") is not None and geo.get("longitude") is not None:
            rows.append(
                (
                    str(institution["id"]),
                    str(institution.get("display_name") or ""),
                    str(geo["latitude"]),
                    str(geo["longitude"]),
                    str(geo.get("geonames_city_id") or ""),
                    str(geo.get("country_code") or ""),
                )
            )
    return sorted(rows)


def ror_sample(ror: Path) -> list[tuple[str, str]]:
    """A seeded random sample of the distinct ROR-labelled strings, with the file each came from."""
    source = {}
    for name in ROR_FILES:
        for row in json.loads((ror / name).read_text(encoding="utf-8")):
            source.setdefault(row["affiliation"], name.split("_")[4])
    strings = sorted(source)
    return [(s, source[s]) for s in random.Random(ROR_SAMPLE_SEED).sample(strings, ROR_SAMPLE_SIZE)]


def main() -> None:
    """Write the chosen gold set as CSV to standard output."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["openalex", "institutions", "ror-sample"])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--ror", type=Path, default=Path("/work/shared/data/ror"))
    args = parser.parse_args()
    out = csv.writer(sys.stdout, lineterminator="\n")
    if args.what == "openalex":
        out.writerow(["affiliation", "institution_id", "geonames_id", "country_code"])
        out.writerows(openalex_pairs(args.sample))
    elif args.what == "institutions":
        out.writerow(["institution_id", "name", "latitude", "longitude", "geonames_id", "country_code"])
        out.writerows(institution_places(args.sample))
    else:
        out.writerow(["affiliation", "source", "country_code", "city"])
        out.writerows((text, source, "", "") for text, source in ror_sample(args.ror))


if __name__ == "__main__":
    main()
