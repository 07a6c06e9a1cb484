"""`fetch_openalex` against a loopback server that replays recorded OpenAlex records as cursor pages.

What a correct fetch must end up with is computed by the server from its own records (`Replay.served`), never
by the client; faults are injected per request number.
"""

from __future__ import annotations

import csv
import email.utils
import fcntl
import gzip
import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acquire.replay import Fault, Replay, ReplayServer, recorded_replay, short
from conftest import cli
from sciencecities import Store, editions, ingest_openalex, rank
from sciencecities.acquire import openalex_api
from sciencecities.acquire.openalex_api import (
    PER_PAGE,
    SELECT,
    Client,
    FetchError,
    FetchReport,
    fetch_openalex,
    works_queries,
)
from sciencecities.errors import InputError
from sciencecities.present.cli.fetch import STOPPED

pytestmark = pytest.mark.core
EDITION = editions.load("nature-index")
YEARS = (2015, 2024)


@pytest.fixture
def replay() -> Iterator[tuple[Replay, str]]:
    state = recorded_replay()
    with ReplayServer(state) as server:
        yield state, server.url


def client(url: str, sleeps: list[float] | None = None, **options: Any) -> Client:
    """A client of the replay that records its waits instead of sleeping."""
    waits = sleeps if sleeps is not None else []
    return Client(base_url=url, min_interval=0, sleep=waits.append, mailto="ci@example.org", **options)


def served_works(state: Replay, years: tuple[int, int] = YEARS) -> set[str]:
    return set().union(*(state.served("works", q["filter"]) for q in works_queries(EDITION, years)))


def page_ids(directory: Path, entity: str) -> list[str]:
    """Every record id in the fetched pages of an entity, duplicates kept (works fetched again in full, in
    `r-full-*` files, are not pages)."""
    ids = []
    for path in sorted((directory / entity).glob("q*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            ids += [short(json.loads(line)["id"]) for line in handle]
    return ids


def list_requests(state: Replay, entity: str = "works") -> Counter[tuple[str, str]]:
    """How often each (filter, cursor) list page was answered without a fault."""
    return Counter(
        (r["params"]["filter"], r["params"]["cursor"])
        for r in state.log
        if r["path"] == f"/{entity}" and r["fault"] is None
    )


def ingested(tmp_path: Path, report: FetchReport) -> Store:
    store = Store(tmp_path / "store")
    ingest_openalex(store, report.paths)
    return store


def test_fetch_gets_every_work_once_with_its_institutions_and_sources(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    report = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    assert report.finished and report.retries == 0 and report.requests == len(state.log)
    want = served_works(state)
    assert len(want) >= 40 and not want & {"W1451340244", "W1625660792"}  # another journal; before 2015
    fetched = page_ids(report.directory, "works")
    assert Counter(fetched).most_common(1)[0][1] == 1 and set(fetched) == want
    for entry in state.log:
        params = entry["params"]
        if "filter" in params:
            assert params["per-page"] == str(PER_PAGE) and params["mailto"] == "ci@example.org"
            assert params["select"] == ",".join(SELECT[entry["path"].strip("/").split("/")[0]])
            assert len(params["filter"].split(",")[0].split("|")) <= 50
    issn_filters = {
        r["params"]["filter"] for r in state.log if "source.issn:" in r["params"].get("filter", "")
    }
    assert len(issn_filters) >= 4
    store = ingested(tmp_path, report)
    assert set(store.read("works")["work_id"].to_pylist()) == want
    institutions = {r["institution_id"]: r for r in store.read("institutions").to_pylist()}
    entity_ids = {short(r["id"]) for r in state.pool["institutions"]}
    fetched_institutions = set(page_ids(report.directory, "institutions"))
    assert fetched_institutions and fetched_institutions <= entity_ids & set(institutions)
    assert all(institutions[i]["latitude"] is not None for i in fetched_institutions)
    assert set(page_ids(report.directory, "sources")) <= set(store.read("sources")["source_id"].to_pylist())
    asked = sum(
        len(r["params"]["filter"].split("|"))
        for r in state.log
        if r["path"] == "/institutions" and r["params"]["cursor"] == "*"
    )
    assert report.missing["institutions"] == asked - len(fetched_institutions)


def test_a_finished_fetch_sends_nothing_and_ingests_nothing_new(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    first = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    store = ingested(tmp_path, first)
    sent = len(state.log)
    again = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    assert again.finished and again.requests == 0 and again.records == {} and len(state.log) == sent
    assert ingest_openalex(store, again.paths).files == []


def test_retries_ride_out_429_500_truncated_bodies_and_timeouts(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    state.faults = {
        2: Fault("429", retry_after="3"),
        3: Fault("500"),
        5: Fault("truncated"),
        7: Fault("cut"),
        9: Fault("sleep", seconds=1.5),
        12: Fault("429", retry_after=later),
        30: Fault("500"),
    }
    sleeps: list[float] = []
    report = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url, sleeps, timeout=0.5))
    assert report.finished and report.retries == len(state.faults)
    for number in state.faults:
        failed, retried = state.log[number - 1], state.log[number]
        assert failed["fault"] and (retried["path"], retried["params"]) == (failed["path"], failed["params"])
    assert 3.0 in sleeps and any(100 < s <= 121 for s in sleeps)
    backoffs = [s for s in sleeps if s not in (3.0,) and s < 100]
    assert len(backoffs) == len(state.faults) - 2 and all(0 < s < 60 for s in backoffs)
    fetched = page_ids(report.directory, "works")
    assert len(fetched) == len(set(fetched)) and set(fetched) == served_works(state)
    assert set(ingested(tmp_path, report).read("works")["work_id"].to_pylist()) == served_works(state)


def test_giving_up_says_what_failed_and_a_rerun_resumes(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, url = replay
    state.faults = {n: Fault("500") for n in range(4, 7)}
    with pytest.raises(FetchError) as failed:
        fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url, attempts=3, api_key="SECRET"))
    message = str(failed.value)
    assert "failed 3 times: HTTP 500, HTTP 500, HTTP 500" in message and "resume" in message
    session = openalex_api._Session(Client(api_key="SECRET"), None, FetchReport(tmp_path))
    assert "SECRET" not in message and session.shown(session.url("works", {})).endswith("api_key=***")
    assert "SECRET" not in (tmp_path / "fetch" / "checkpoint.json").read_text()
    assert state.log[0]["params"]["api_key"] == "SECRET"
    done_before = sum(list_requests(state).values())
    report = fetch_openalex(
        tmp_path / "fetch", EDITION, YEARS, client=client(url, attempts=3, api_key="SECRET")
    )
    assert report.finished
    assert max(list_requests(state).values()) == 1 and done_before == 3
    assert set(page_ids(report.directory, "works")) == served_works(state)


def test_budget_stops_cleanly_and_the_next_run_fetches_only_the_rest(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    stopped = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url), max_requests=5)
    assert not stopped.finished and stopped.requests == 5 and len(state.log) == 5 and stopped.paths == []
    assert "run the same command again" in (stopped.stopped or "")
    checkpoint = json.loads((tmp_path / "fetch" / "checkpoint.json").read_text())
    assert sum(q["pages"] for q in checkpoint["works"]) == 5
    resumed = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url), max_requests=1000)
    assert resumed.finished and resumed.requests == len(state.log) - 5
    assert max(list_requests(state).values()) == 1
    fetched = page_ids(resumed.directory, "works")
    assert len(fetched) == len(set(fetched)) and set(fetched) == served_works(state)
    assert stopped.records["works"] + resumed.records["works"] == len(fetched)


def test_a_crash_between_page_and_checkpoint_rewrites_that_page_only(
    replay: tuple[Replay, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = replay
    save = openalex_api._save_state
    calls = {"n": 0}

    def crash_on_fourth(directory: Path, progress: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        save(directory, progress)

    monkeypatch.setattr(openalex_api, "_save_state", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    files_before = sorted(p.name for p in (tmp_path / "fetch" / "works").glob("*.jsonl.gz"))
    monkeypatch.setattr(openalex_api, "_save_state", save)
    report = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    assert report.finished
    counts = list_requests(state)
    assert sorted(counts.values())[-2:] == [1, 2] and len(files_before) == 3
    fetched = page_ids(report.directory, "works")
    assert len(fetched) == len(set(fetched)) and set(fetched) == served_works(state)
    assert set(ingested(tmp_path, report).read("works")["work_id"].to_pylist()) == served_works(state)


def test_works_cut_at_100_authors_are_fetched_again_in_full(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    full = next(r for r in state.pool["works"] if short(r["id"]) == "W2168909179")
    assert len(full["authorships"]) > 100
    report = fetch_openalex(tmp_path / "fetch", EDITION, (2001, 2001), client=client(url))
    assert report.refetched == 1 and any(r["path"] == "/works/W2168909179" for r in state.log)
    works = {r["work_id"]: r for r in ingested(tmp_path, report).read("works").to_pylist()}
    assert works["W2168909179"]["n_authors"] == len(full["authorships"])


def test_a_field_the_api_refuses_is_a_clear_error_without_retries(
    replay: tuple[Replay, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = replay
    monkeypatch.setitem(openalex_api.SELECT, "works", [*SELECT["works"], "host_venue"])
    with pytest.raises(FetchError, match=r"HTTP 400 host_venue is not a valid field"):
        fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url))
    assert len(state.log) == 1


def test_a_checkpoint_of_another_fetch_is_refused_unless_restarted(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, url = replay
    fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url), max_requests=2)
    with pytest.raises(FetchError, match="of another fetch .*base_url"):
        fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url + "/"))
    report = fetch_openalex(tmp_path / "fetch", EDITION, YEARS, client=client(url + "/"), restart=True)
    assert report.finished and set(page_ids(report.directory, "works")) == served_works(state)


def test_queries_cover_each_journal_once_in_batches() -> None:
    queries = works_queries(EDITION, YEARS)
    journals = EDITION.journal_list()
    by_key: dict[str, list[str]] = {}
    for query in queries:
        first, window = query["filter"].split(",")
        assert window == "publication_year:2015-2024"
        key, values = first.split(":")
        assert 0 < len(values.split("|")) <= 50
        by_key.setdefault(key, []).extend(values.split("|"))
    ids = by_key["primary_location.source.id"]
    issns = by_key["primary_location.source.issn"]
    assert sorted(ids) == sorted({i for j in journals for i in j.openalex_ids}) and len(ids) == len(set(ids))
    assert set(issns) == {i for j in journals if not j.openalex_ids for i in j.issns}
    assert len(issns) == len(set(issns))
    with pytest.raises(InputError, match="counts every source"):
        works_queries(editions.load("all-articles"), YEARS)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert openalex_api._retry_after("7") == 7.0
    wait = openalex_api._retry_after(email.utils.formatdate(time.time() + 60, usegmt=True))
    assert wait is not None and 55 <= wait <= 61
    assert openalex_api._retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert openalex_api._retry_after("soon") is None and openalex_api._retry_after(None) is None


@pytest.mark.slow
def test_cli_fetches_resumes_and_the_store_builds_and_ranks(tmp_path: Path) -> None:
    state = recorded_replay()
    store = tmp_path / "store"
    command = [
        "fetch",
        "openalex",
        "--edition",
        "nature-index",
        "--years",
        "2015-2024",
        "--store",
        str(store),
    ]
    with ReplayServer(state) as server:
        env = {"SCIENCECITIES_OPENALEX_URL": server.url}
        stopped = cli(*command, "--max-requests", "3", env=env)
        assert stopped.returncode == STOPPED, stopped.stderr
        assert "run the same command again" in stopped.stderr and len(state.log) == 3
        done = cli(*command, "--mailto", "ci@example.org", env=env)
        assert done.returncode == 0, done.stderr
        assert "ingested" in done.stderr and "next: sciencecities build" in done.stderr
        assert all(r["params"].get("mailto") == "ci@example.org" for r in state.log[3:])
        sent = len(state.log)
        again = cli(*command, env=env)
        assert again.returncode == 0 and "nothing new to ingest" in again.stderr and len(state.log) == sent
    assert set(Store(store).read("works")["work_id"].to_pylist()) == served_works(state)
    built = cli("build", "--store", str(store))
    assert built.returncode == 0, built.stderr
    for level in ("country", "city", "institution"):
        ranked = cli(
            "rank", "--store", str(store), "--level", level, "--years", "2015-2024", "--format", "csv"
        )
        assert ranked.returncode == 0, ranked.stderr
        rows = list(csv.DictReader(io.StringIO(ranked.stdout)))
        api = rank(Store(store), level=level, years=YEARS).table.to_pylist()
        assert rows and [(r["id"], int(r["count"])) for r in rows] == [(r["id"], r["count"]) for r in api]


def test_a_second_fetch_into_a_busy_folder_is_refused(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, url = replay
    folder = tmp_path / "fetch"
    folder.mkdir()
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(FetchError, match="another fetch is writing"):
            fetch_openalex(folder, EDITION, YEARS, client=client(url))
    assert state.log == [] and not (folder / "checkpoint.json").exists()
