"""`ingest ror`: ROR records in the store become the place source between OpenAlex geo and parsed strings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sciencecities import Settings, Store, build
from sciencecities.pipeline import ingest_ror

FIXTURE = Path(__file__).parent.parent / "normalise" / "data" / "ror" / "ror_v2_search_response_20_records.json"


def _records() -> dict[str, dict[str, object]]:
    hits = json.loads(FIXTURE.read_text())["hits"]["hits"]
    return {h["_source"]["id"].rsplit("/", 1)[1]: h["_source"] for h in hits}


def test_ror_places_institutions_without_openalex_geo_and_resets_builds(demo: Store, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    shutil.copytree(demo.root, store.root)
    before = {r["institution_id"]: r for r in store.read("institution_places", "all-articles").to_pylist()}
    report = ingest_ror(store, [FIXTURE])
    assert report.taken == 20 and report.quarantined == 0
    assert store.manifest()["builds"] == {}
    assert store.read("ror_places").num_rows == 20
    build(store, Settings(store=store.root, edition="all-articles"))
    after = {r["institution_id"]: r for r in store.read("institution_places", "all-articles").to_pylist()}
    records = _records()
    ror_of = {r["institution_id"]: r["ror"] for r in store.read("institutions").to_pylist() if r["ror"]}
    moved = [i for i, r in after.items() if r["geo_source"] == "ror"]
    assert moved, "some sample institutions with these ROR ids have no OpenAlex geo"
    for iid in moved:
        record = records[ror_of[iid]]
        assert before[iid]["geo_source"] in ("parsed", None)  # ROR comes before parsing, after OpenAlex
        assert after[iid]["geonames_id"] == record["locations"][0]["geonames_id"]
        assert after[iid]["place_country_code"] == record["locations"][0]["geonames_details"]["country_code"]
    for iid, row in after.items():
        if before[iid]["geo_source"] == "openalex":
            assert row == before[iid]
    # Ingesting the same records again changes nothing: the newest record of each id is kept once.
    again = ingest_ror(store, [FIXTURE])
    assert again.taken == 20 and store.read("ror_places").num_rows == 20
