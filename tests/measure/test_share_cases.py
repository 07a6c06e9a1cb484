"""The engine against the hand-computed YAML worlds and against the pure-Python oracle."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from conftest import store_from_records
from reference import load_jsonl, reference_metrics
from sciencecities import Settings, Store, build, rank
from sciencecities.demo import sample_files

CASES = sorted((Path(__file__).parent.parent / "cases").glob("*.yaml"))


def _by_id(store: Store, level: str, years: tuple[int, int] | None = None) -> dict[object, tuple[int, float]]:
    table = rank(store, level=level, years=years, edition="all-articles").table.to_pylist()
    return {row["id"]: (row["count"], row["share"]) for row in table}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_world(case: Path, tmp_path: Path) -> None:
    world = yaml.safe_load(case.read_text())
    options = world.get("options") or {}
    store = store_from_records(tmp_path, world["works"], world.get("institutions") or [],
                               count_unaffiliated=options.get("count_unaffiliated", False))
    institutions = _by_id(store, "institution")
    assert set(institutions) == set(world["expect"]["institution"])
    for key, want in world["expect"]["institution"].items():
        assert institutions[key][0] == want["count"], key
        assert institutions[key][1] == pytest.approx(want["share"], abs=1e-12), key
    countries = _by_id(store, "country")
    expected_countries = {k: v for k, v in world["expect"]["country"].items() if k not in (None, "null")}
    assert set(countries) == set(expected_countries)
    for key, want in expected_countries.items():
        assert countries[key] == (want["count"], pytest.approx(want["share"], abs=1e-12)), key


def _geography(store: Store, edition: str = "all-articles") -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The store's places and units of its institutions: inputs the oracle takes as given."""
    places = store.read("institution_places", edition).to_pylist()
    units = store.read("institution_units", edition).to_pylist()
    countries = {r["institution_id"]: r["place_country_code"] for r in places if r["place_country_code"]}
    located = {
        f"city:{name}": {r["institution_id"]: r["unit_id"] for r in units if r["boundaries"] == name}
        for name in ("metro", "city", "clusters")
    }
    return countries, located


def test_sample_matches_oracle_every_year_and_window(demo: Store) -> None:
    sample = sample_files()
    works = load_jsonl(sample / "works_academic_explorer.jsonl.gz")
    institutions = load_jsonl(sample / "institutions_academic_explorer.jsonl.gz")
    countries, located = _geography(demo)
    for years in (None, (2020, 2020), (2015, 2024), (1900, 2100)):
        oracle = reference_metrics(works, institutions, years=years, place_countries=countries, located=located)
        for level in ("institution", "country", *located):
            if level.startswith("city:"):
                ranked = rank(demo, level="city", years=years, edition="all-articles", boundaries=level[5:])
                engine = {r["id"]: (r["count"], r["share"]) for r in ranked.table.to_pylist()}
            else:
                engine = _by_id(demo, level, years)
            want = {k: v for k, v in oracle[level].items() if k is not None}
            assert set(engine) == set(want), (level, years)
            for key, value in want.items():
                assert engine[key][0] == value["count"], (level, years, key)
                assert math.isclose(engine[key][1], value["share"], abs_tol=1e-9), (level, years, key)


def test_count_unaffiliated_on_sample_loses_exactly_the_unaffiliated_share(demo: Store, tmp_path: Path) -> None:
    import shutil

    copy = Store(tmp_path / "copy")
    shutil.copytree(demo.root, copy.root)
    build(copy, Settings(store=copy.root, edition="all-articles", count_unaffiliated=True))
    sample = sample_files()
    works = load_jsonl(sample / "works_academic_explorer.jsonl.gz")
    institutions = load_jsonl(sample / "institutions_academic_explorer.jsonl.gz")
    oracle = reference_metrics(works, institutions, count_unaffiliated=True)
    engine = _by_id(copy, "institution")
    assert {k: v["count"] for k, v in oracle["institution"].items()} == {k: v[0] for k, v in engine.items()}
    for key, value in oracle["institution"].items():
        assert math.isclose(engine[key][1], value["share"], abs_tol=1e-9)
    full = sum(v[1] for v in _by_id(demo, "institution").values())
    lost = sum(v[1] for v in engine.values())
    assert lost < full
    manifest = copy.manifest()["builds"]["all-articles"]
    assert manifest["options"]["count_unaffiliated"] is True
    assert math.isclose(manifest["checks"]["total_share"], lost, abs_tol=1e-9)


def _work(wid: str, authors: list[list[str]], year: int = 2020) -> dict[str, object]:
    return {
        "id": f"https://openalex.org/{wid}", "type": "article", "publication_year": year,
        "authorships": [
            {"author": {"id": f"A{i}"}, "institutions": [{"id": inst, "country_code": "US"} for inst in insts]}
            for i, insts in enumerate(authors)
        ],
    }


def test_thousand_author_work_conserves_share(tmp_path: Path) -> None:
    authors = [["I1"]] * 1000 + [["I1", "I2"]] * 200 + [[]] * 50
    store = store_from_records(tmp_path, [_work("W1", authors)])
    got = _by_id(store, "institution")
    assert got["I1"] == (1, pytest.approx((1000 + 100) / 1200, abs=1e-12))
    assert got["I2"] == (1, pytest.approx(100 / 1200, abs=1e-12))
    assert _by_id(store, "country")["US"] == (1, pytest.approx(1.0, abs=1e-12))


def test_work_without_authors_gives_nothing_and_is_audited(tmp_path: Path) -> None:
    from sciencecities import audit

    store = store_from_records(tmp_path, [_work("W1", []), _work("W2", [["I1"]])])
    assert _by_id(store, "institution") == {"I1": (1, 1.0)}
    skipped = {r["reason"]: r["works"] for r in audit(store, "all-articles").sections["skipped_works"]}
    assert skipped["no authors"] == 1
