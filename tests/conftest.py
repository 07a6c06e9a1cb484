"""Shared fixtures: the demo store (built once per session), helpers to build stores from raw records."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from sciencecities import Settings, Store, build, build_demo_store, ingest_openalex


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--snapshot-update", action="store_true", help="Rewrite golden files from the current output.")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The demo store: the embedded real sample, ingested and built with the default edition."""
    return build_demo_store(tmp_path_factory.mktemp("demo") / "store")[0]


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write records as JSON Lines (gzipped when the name ends in .gz)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def work(
    n: int, updated: str, institutions: list[list[str]], year: int = 2020, **fields: Any
) -> dict[str, Any]:
    """A work record with one authorship per entry of `institutions` (ids without the URL prefix)."""
    record: dict[str, Any] = {
        "id": f"https://openalex.org/W{n}",
        "publication_year": year,
        "type": "article",
        "updated_date": updated,
        "authorships": [
            {
                "author": {"id": f"https://openalex.org/A{n}{position}"},
                "institutions": [{"id": f"https://openalex.org/{i}"} for i in insts],
            }
            for position, insts in enumerate(institutions)
        ],
    }
    record.update(fields)
    return record


def store_from_records(
    root: Path, works: list[dict[str, Any]], institutions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *, count_unaffiliated: bool = False,
) -> Store:
    """Ingest raw works (and institution entity records) into a fresh store and build all-articles."""
    root.mkdir(parents=True, exist_ok=True)
    paths = [write_jsonl(root / "works.jsonl", works)]
    if institutions:
        paths.append(write_jsonl(root / "institutions.jsonl", institutions))
    store = Store(root / "store")
    ingest_openalex(store, paths)
    build(store, Settings(store=store.root, edition="all-articles", count_unaffiliated=count_unaffiliated))
    return store


def placed_institution(
    iid: str, name: str, city: str, geonames: int, latitude: float, longitude: float, country: str, **extra: Any
) -> dict[str, Any]:
    """An OpenAlex institution record with `geo` (a GeoNames place), so the build places it without parsing."""
    return {
        "id": f"https://openalex.org/{iid}",
        "display_name": name,
        "country_code": country,
        **extra,
        "geo": {
            "city": city,
            "geonames_city_id": str(geonames),
            "country_code": country,
            "latitude": latitude,
            "longitude": longitude,
        },
    }


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m sciencecities ARGS` as a user would, in a subprocess with a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "sciencecities", *args], check=False, capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
