"""The JSON API against a real server on loopback: every endpoint answers what the Python API computes, bad input
gets a 4xx in the one error shape, downloads hold the whole table, and results are cached per store version."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import openpyxl
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import sciencecities as sc
from sciencecities import editions as edition_files
from sciencecities.rank.collaboration import collaboration
from sciencecities.rank.profile import city_profile
from sciencecities.rank.queries import city_locations
from web.live import Server, start

ERROR_KEYS = {"ok", "status", "error", "hint", "errors"}


def same(actual: object, expected: object) -> bool:
    """Equal, floats to 1e-12 relative: DuckDB sums in parallel, so two computations of a Share may differ in the
    last bit (rankings order by Share rounded to 1e-9 for that reason)."""
    if isinstance(expected, float) and isinstance(actual, float | int):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, float) and math.isnan(expected):
        return actual is None
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected, strict=True))
    return actual == expected


def _years(store: sc.Store, edition: str = "nature-index") -> list[int]:
    totals = store.read("article_totals", edition)
    return sorted(set(totals.filter(pc.equal(totals["subject"], "all"))["year"].to_pylist()))


def test_status_editions_years_subjects_boundaries(server: Server) -> None:
    status = server.get("/api").json()
    assert status["default_edition"] == "nature-index"
    assert status["editions"] == ["nature-index", "all-articles"]
    assert status["store_version"] == str(server.store.manifest()["version"])
    editions = {e["name"]: e for e in server.get("/api/editions").json()}
    assert set(editions) == {"nature-index", "all-articles"}
    method = edition_files.load("nature-index")
    assert [s["id"] for s in editions["nature-index"]["subjects"]] == list(method.subjects)
    assert editions["nature-index"]["years"] == _years(server.store)
    assert editions["nature-index"]["boundaries"][0] == "metro"
    assert set(editions["nature-index"]["boundaries"]) == set(
        server.store.manifest()["builds"]["nature-index"]["geography"]["boundaries"]
    )
    years = server.get("/api/years?subject=chemistry").json()
    totals = server.store.read("article_totals", "nature-index")
    chemistry = totals.filter(pc.equal(totals["subject"], "chemistry")).sort_by("year")
    assert [(y["year"], y["articles"]) for y in years] == list(
        zip(chemistry["year"].to_pylist(), chemistry["weighted"].to_pylist(), strict=True)
    )
    assert server.get("/api/subjects?edition=all-articles").json() == []
    assert [b["name"] for b in server.get("/api/boundaries").json()] == editions["nature-index"]["boundaries"]
    countries = {c["code"]: c["name"] for c in server.get("/api/countries").json()}
    assert countries["CN"] == "China"


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ("level=city", {"level": "city"}),
        ("level=country&year=2020", {"level": "country", "years": (2020, 2020)}),
        ("level=institution&subject=chem", {"level": "institution", "subject": "chemistry"}),
        (
            "level=city&years=2012-2021&boundaries=clusters",
            {"level": "city", "years": (2012, 2021), "boundaries": "clusters"},
        ),
        ("level=group&edition=all-articles", {"level": "group", "edition": "all-articles"}),
    ],
)
def test_rankings_equal_the_python_api(server: Server, query: str, kwargs: dict[str, object]) -> None:
    expected = sc.rank(server.store, **kwargs)  # type: ignore[arg-type]
    body = server.get(f"/api/rankings?{query}&per_page=1000").json()
    assert body["total"] == expected.table.num_rows > 0
    assert body["columns"] == expected.table.column_names
    assert same(body["data"], expected.table.to_pylist())
    assert body["meta"]["edition"] == expected.meta["edition"]
    assert body["meta"]["years"] == expected.meta["years"]


def test_paging_and_sorting(server: Server) -> None:
    full = sc.rank(server.store, level="city").table.to_pylist()
    second = server.get("/api/rankings?per_page=10&page=2").json()
    assert same(second["data"], full[10:20])
    assert (second["page"], second["pages"], second["count"]) == (2, -(-len(full) // 10), 10)
    by_count = server.get("/api/rankings?sort=count&per_page=1000").json()["data"]
    counts = [r["count"] for r in by_count]
    assert counts == sorted(counts, reverse=True) and counts != [r["count"] for r in full]
    by_name = [
        r["name"] for r in server.get("/api/rankings?sort=name&order=asc&per_page=1000").json()["data"]
    ]
    assert by_name == sorted(by_name)
    rising = server.get("/api/rankings?sort=share&order=asc&per_page=5").json()["data"]
    assert same([r["share"] for r in rising], sorted(r["share"] for r in full)[:5])


def test_country_filter_search_and_ids(server: Server) -> None:
    full = sc.rank(server.store, level="city").table
    chinese = server.get("/api/rankings?country=cn&per_page=1000").json()
    expected = full.filter(pc.equal(full["country_code"], "CN")).to_pylist()
    assert same(chinese["data"], expected) and chinese["total"] == len(expected) > 0
    two = server.get("/api/rankings?country=CN,US&per_page=1000").json()["data"]
    assert {r["country_code"] for r in two} == {"CN", "US"}
    assert server.get("/api/rankings?level=country&country=DE").json()["data"][0]["id"] == "DE"
    found = server.get("/api/rankings?q=bost").json()["data"]
    assert [r["name"] for r in found] == ["Boston metropolitan area"]
    assert (
        server.get("/api/rankings?q=S%C3%A3o").json()["total"]
        == server.get("/api/rankings?q=sao").json()["total"]
    )
    picked = server.get("/api/rankings?id=gb-london&id=us-csa-148").json()["data"]
    assert [r["id"] for r in picked] == ["us-csa-148", "gb-london"]


def test_map_points_are_the_ranking_with_locations(server: Server) -> None:
    body = server.get("/api/map?top=20").json()
    ranked = sc.rank(server.store, level="city", top=20).table
    places = {r["id"]: r for r in city_locations(server.store).to_pylist()}
    assert body["count"] + body["unplaced"] == ranked.num_rows
    for point in body["data"]:
        place = places[point["id"]]
        assert same((point["latitude"], point["longitude"]), (place["latitude"], place["longitude"]))
    shares = {r["id"]: r["share"] for r in ranked.to_pylist()}
    assert same({p["id"]: p["share"] for p in body["data"]}, {k: v for k, v in shares.items() if k in places})


def test_trend_and_collaboration(server: Server) -> None:
    trend = server.get("/api/trend?level=country&id=US&id=CN").json()
    expected = sc.trend(server.store, level="country", ids=["CN", "US"]).table
    assert same(trend["data"], expected.to_pylist())
    top = server.get("/api/trend?level=city").json()["data"]
    assert same(top, sc.trend(server.store, level="city", top=10).table.to_pylist())
    pairs = server.get("/api/collaboration?level=country&per_page=1000").json()
    assert same(pairs["data"], collaboration(server.store, level="country").table.to_pylist())
    partners = server.get("/api/collaboration?level=city&entity=us-csa-148&per_page=1000").json()["data"]
    assert partners and all(p["id_a"] == "us-csa-148" for p in partners)
    german = server.get("/api/collaboration?level=country&country=DE&per_page=1000").json()["data"]
    assert german and all("DE" in (p["id_a"], p["id_b"]) for p in german)


def test_city_profile_equals_the_python_api(server: Server) -> None:
    years = _years(server.store)
    body = server.get("/api/entities/city/us-csa-148?top=5").json()
    expected = city_profile(server.store, "us-csa-148", years=(years[0], years[-1]), top=5)
    assert same(body["summary"], expected.summary)
    assert set(body["sections"]) == {"by_year", "subjects", "institutions", "collaborators"}
    for name, table in expected.tables().items():
        if name != "summary":
            assert same(body["sections"][name], table.to_pylist()), name
    one_year = server.get("/api/entities/city/us-csa-148?year=2020").json()
    assert same(one_year["summary"], city_profile(server.store, "us-csa-148", years=(2020, 2020)).summary)


def test_country_profile(server: Server) -> None:
    body = server.get("/api/entities/country/US").json()
    ranked = {r["id"]: r for r in sc.rank(server.store, level="country").table.to_pylist()}
    assert same(
        (body["summary"]["share"], body["summary"]["rank"]), (ranked["US"]["share"], ranked["US"]["rank"])
    )
    by_year = sc.trend(server.store, level="country", ids=["US"]).table.drop_columns(
        ["id", "name", "country_code"]
    )
    assert same(body["sections"]["by_year"], by_year.to_pylist())
    institutions = body["sections"]["institutions"]
    assert institutions and all(r["country_code"] == "US" for r in institutions)
    chemistry = {
        r["id"]: r for r in sc.rank(server.store, level="country", subject="chemistry").table.to_pylist()
    }
    subject = next(s for s in body["sections"]["subjects"] if s["subject"] == "chemistry")
    assert same(subject["share"], chemistry.get("US", {}).get("share", 0.0))
    assert body["sections"]["collaborators"][0]["id"] != "US"


def test_highlights_and_audit(server: Server) -> None:
    years = _years(server.store)
    body = server.get("/api/highlights?level=country").json()
    story = sc.highlights(server.store, year=years[-1], level="country")
    assert body["year"] == years[-1] and body["vs"] == years[-1] - 1
    assert same(body["facts"], json.loads(json.dumps([asdict(f) for f in story.facts])))
    assert body["markdown"] == story.to_markdown()
    audit = server.get("/api/audit").json()
    expected = sc.audit(server.store)
    assert same(audit["totals"], json.loads(json.dumps(expected.totals, default=str)))
    assert set(audit["sections"]) == set(expected.sections)


def test_downloads_hold_the_whole_filtered_table(server: Server, tmp_path: Path) -> None:
    full = sc.rank(server.store, level="city").table
    us = full.filter(pc.equal(full["country_code"], "US"))
    reply = server.get("/api/rankings?country=US&per_page=5&format=csv")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    assert 'filename="nature-index-city-ranking.csv"' in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert [r["id"] for r in rows] == us["id"].to_pylist()
    assert same([float(r["share"]) for r in rows], us["share"].to_pylist())
    parquet = server.get("/api/rankings?country=US&format=parquet")
    table = pq.read_table(io.BytesIO(parquet.body))
    assert same(table.to_pylist(), us.to_pylist())
    assert json.loads(table.schema.metadata[b"sciencecities"])["edition"] == "nature-index"
    book_path = tmp_path / "r.xlsx"
    book_path.write_bytes(server.get("/api/rankings?country=US&format=xlsx").body)
    book = openpyxl.load_workbook(book_path, read_only=True)
    sheet = book[book.sheetnames[0]]
    ids = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == us["id"].to_pylist() and "about" in book.sheetnames
    profile_path = tmp_path / "p.xlsx"
    profile_path.write_bytes(server.get("/api/entities/city/us-csa-148?format=xlsx").body)
    assert {"summary", "by_year", "subjects", "institutions", "collaborators"} <= set(
        openpyxl.load_workbook(profile_path, read_only=True).sheetnames
    )
    section = server.get("/api/entities/city/us-csa-148?format=csv&section=institutions")
    assert section.status == 200 and section.body.decode().startswith("rank,")
    assert server.get("/api/entities/city/us-csa-148?format=csv").status == 400
    audit = server.get("/api/audit?format=csv&section=places_by_source")
    assert audit.status == 200 and b"source" in audit.body.splitlines()[0]


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/api/rankings?level=planet", 400, "level"),
        ("/api/rankings?year=abc", 400, "year"),
        ("/api/rankings?year=1800", 400, "no articles in 1800"),
        ("/api/rankings?years=2024-2020", 400, "empty"),
        ("/api/rankings?years=twenty", 400, "cannot read"),
        ("/api/rankings?year=2020&years=2020", 400, "not both"),
        ("/api/rankings?vs=2019", 400, "vs needs"),
        ("/api/rankings?subject=astrology", 400, "no subject"),
        ("/api/rankings?edition=nature-index-2018", 400, "not built"),
        ("/api/rankings?edition=..%2F..%2Fetc%2Fpasswd.yaml", 400, "not built"),
        ("/api/rankings?boundaries=%2Ftmp%2Fmine.yaml", 400, "boundary set"),
        ("/api/rankings?country=XX", 400, "unknown country"),
        ("/api/rankings?sort=password", 400, "cannot sort"),
        ("/api/rankings?per_page=0", 400, "per_page"),
        ("/api/rankings?page=999", 404, "past the last page"),
        ("/api/rankings?level=country&per_capita=true", 400, "per-capita"),
        ("/api/rankings?level=city&city=Boston", 400, "--city"),
        ("/api/rankings?level=institution&city=Atlantis", 400, "no city"),
        ("/api/entities/city/atlantis", 404, "no city with id"),
        ("/api/entities/country/ZZ", 404, "no country with id"),
        ("/api/entities/planet/earth", 400, "level"),
        ("/api/collaboration?level=group", 400, "level"),
        ("/api/highlights?year=1916", 400, "no articles in 1915"),
        ("/api/editions/nope", 400, "not built"),
        ("/api/nothing-here", 404, "Not Found"),
    ],
)
def test_bad_input_gets_a_4xx_in_one_shape(server: Server, path: str, status: int, said: str) -> None:
    reply = server.get(path)
    body = reply.json()
    assert reply.status == status, body
    assert set(body) == ERROR_KEYS and body["ok"] is False and body["status"] == status
    assert said in body["error"]
    assert body["hint"]


def test_unknown_city_suggests_the_right_id(server: Server) -> None:
    body = server.get("/api/entities/city/bostn").json()
    assert "us-csa-148" in body["hint"]


def test_parameters_never_reach_sql(server: Server) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in server.store.current.rglob("*.parquet")}
    hostile = "x'; DROP TABLE credit; --"
    for path in (
        f"/api/rankings?q={hostile}",
        f"/api/rankings?level=institution&city={hostile}",
        f"/api/collaboration?entity={hostile}",
        f"/api/entities/institution/{hostile}",
        f"/api/rankings?subject={hostile}",
    ):
        reply = server.get(path.replace(" ", "%20").replace(";", "%3B").replace("'", "%27"))
        assert reply.status in (200, 400, 404), path
    assert {p.name: p.stat().st_mtime_ns for p in server.store.current.rglob("*.parquet")} == before
    assert same(
        server.get("/api/rankings?per_page=1").json()["data"],
        sc.rank(server.store, level="city", top=1).table.to_pylist(),
    )


def test_results_are_cached_per_store_version(served_store: sc.Store, tmp_path: Path) -> None:
    store = sc.Store(tmp_path / "store")
    shutil.copytree(served_store.root, store.root)
    running, thread, url = start(store, cache_size=64)
    try:
        client = Server(url, store)
        first = client.get("/api/rankings?level=country&year=2020").body
        misses = client.get("/api").json()["cache"]["misses"]
        again = client.get("/api/rankings?level=country&year=2020&page=1").body
        stats = client.get("/api").json()["cache"]
        assert again == first and stats["misses"] == misses and stats["hits"] >= 1
        with store.transaction() as txn:  # a new store version: the cache must not answer from the old one
            txn.manifest["note"] = "touched"
        assert client.get("/api").json()["store_version"] != json.loads(first)["meta"]["store_version"]
        fresh = client.get("/api/rankings?level=country&year=2020").json()
        assert client.get("/api").json()["cache"]["misses"] > misses
        assert fresh["meta"]["store_version"] == store.manifest()["version"]
        assert same(fresh["data"], json.loads(first)["data"])
    finally:
        running.should_exit = True
        thread.join(timeout=10)


def test_dashboard_is_served_offline(server: Server) -> None:
    page = server.get("/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    html = page.body.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {"/static/app.js", "/static/app.css", "/static/vendor/vega.min.js"} <= set(assets)
    for asset in assets:
        assert server.get(asset).status == 200, asset
    script = server.get("/static/app.js").body.decode()
    external = [u for u in re.findall(r"https?://[^\s\"'`)]+", html + script) if "/schema/" not in u]
    assert external == []  # only the Vega-Lite $schema identifier, which nothing fetches
    assert server.get("/static/vendor/PROVENANCE.md").status == 200
    world = server.get("/api/world").json()
    assert world["type"] == "Topology" and "countries" in world["objects"]


def test_openapi_schema_lists_every_endpoint(server: Server) -> None:
    schema = server.get("/api/openapi.json").json()
    assert {
        "/api",
        "/api/editions",
        "/api/editions/{name}",
        "/api/boundaries",
        "/api/years",
        "/api/subjects",
        "/api/countries",
        "/api/world",
        "/api/rankings",
        "/api/map",
        "/api/trend",
        "/api/collaboration",
        "/api/entities/{level}/{entity_id}",
        "/api/highlights",
        "/api/audit",
        "/api/index",
    } <= set(schema["paths"])
    for path, methods in schema["paths"].items():
        assert set(methods) == {"get"}, path  # read-only
