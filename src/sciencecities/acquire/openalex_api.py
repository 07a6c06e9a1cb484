"""Fetch an edition's works, and the institutions and sources they name, from the OpenAlex API.

Cursor paging (200 per page) over filters of batched journal ids or ISSNs and a year window; `select=` of the
fields that normalise reads; the polite pool (`mailto`) or an API key; retries with exponential backoff and
jitter on 429, 5xx, connection errors, timeouts and truncated or unparsable bodies, honouring Retry-After; a
request budget. Every page is written as a gzipped JSON Lines file before its cursor is recorded in a
checkpoint (written atomically), so an interrupted fetch resumes where it stopped without losing or
duplicating a record. The files are laid out as `acquire.files.discover` reads them, so that
`pipeline.ingest_openalex` takes them like any other OpenAlex input (`FetchReport.paths`).

HTTP goes through the standard library's urllib: the retry policy has to cover failures that a client
library's retry options do not (a truncated or unparsable body, a budget that stops cleanly with a
checkpoint), so it is ours either way, and a new dependency would buy only connection reuse.
"""

from __future__ import annotations

import email.utils
import fcntl
import gzip
import http.client
import json
import os
import random
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciencecities import __version__
from sciencecities.acquire.files import strip_id
from sciencecities.editions import Edition
from sciencecities.errors import InputError, ScienceCitiesError
from sciencecities.normalise.openalex import SCHEMAS
from sciencecities.store import now_iso

DEFAULT_BASE_URL = "https://api.openalex.org"
PER_PAGE = 200
BATCH = 50
"""Journal ids, ISSNs or entity ids per filter (OpenAlex accepts up to 100 values OR-ed in one filter)."""
FULL_AUTHORS = 100
"""List responses cut `authorships` at 100; works with that many are fetched again one by one, in full."""

_NOT_SELECTABLE = {"works": {"host_venue", "is_authors_truncated"}, "institutions": {"external_id"}}
"""Fields normalise reads from older records or snapshots that the API's `select=` does not accept."""
SELECT = {
    entity: [name for name in columns if name not in _NOT_SELECTABLE.get(entity, set())]
    for entity, columns in SCHEMAS.items()
}
"""The root-level fields asked for with `select=`: those normalise/openalex.py reads."""

_FORMAT = 1
_LOCK = ".lock"
_MAX_FILTER_CHARS = 2000
_MAX_BACKOFF = 60.0
_ID = {"institutions": re.compile(r"^I\d+$"), "sources": re.compile(r"^S\d+$")}


class FetchError(ScienceCitiesError):
    """The API could not be read (after retries), refused a request, or the fetch folder cannot be resumed."""


@dataclass(frozen=True)
class Client:
    """How to reach the API: base URL, polite-pool address, key, timeout, attempts, backoff and a budget."""

    base_url: str = DEFAULT_BASE_URL
    mailto: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    attempts: int = 6
    backoff: float = 1.0
    max_wait: float = 600.0
    """The longest Retry-After honoured; a longer one (a daily limit) stops the fetch with a hint."""
    min_interval: float = 0.1
    """Seconds between requests: the API allows 10 a second."""
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class FetchProgress:
    """What a fetch has done so far: phase, records written, records expected (when known), requests sent."""

    phase: str
    records: int
    total: int | None
    requests: int


@dataclass
class FetchReport:
    """What a fetch did in this run, where its files are, and whether it finished."""

    directory: Path
    finished: bool = False
    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    refetched: int = 0
    stopped: str | None = None

    @property
    def paths(self) -> list[Path]:
        """The folders to ingest, once the fetch has finished: works, institutions, sources."""
        folders = [self.directory / e for e in ("works", "institutions", "sources")]
        return [f for f in folders if f.is_dir()] if self.finished else []


class _BudgetSpent(Exception):
    """The request budget is used up: stop cleanly, the checkpoint holds the place."""


class _Session:
    """Sends GET requests for one fetch: counts them against the budget, retries, and keeps the key out of
    every message."""

    def __init__(self, client: Client, max_requests: int | None, report: FetchReport) -> None:
        self.client = client
        self.max_requests = max_requests
        self.report = report
        self._last = 0.0

    def url(self, path: str, params: dict[str, str]) -> str:
        query = dict(params)
        if self.client.mailto:
            query["mailto"] = self.client.mailto
        if self.client.api_key:
            query["api_key"] = self.client.api_key
        return f"{self.client.base_url.rstrip('/')}/{path.lstrip('/')}?{urllib.parse.urlencode(query, safe=':|,*')}"

    def shown(self, url: str) -> str:
        """The URL as messages show it: without the API key, and cut short after 160 characters."""
        url = re.sub(r"([?&]api_key=)[^&]*", r"\1***", url)
        return url if len(url) <= 160 else f"{url[:160]}... ({len(url):,} characters)"

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """The JSON object at `path`, None when the API answers 404; retries transient failures."""
        url = self.url(path, params)
        agent = f"sciencecities/{__version__}" + (
            f" (mailto:{self.client.mailto})" if self.client.mailto else ""
        )
        headers = {"User-Agent": agent, "Accept": "application/json"}
        failures: list[str] = []
        for attempt in range(1, self.client.attempts + 1):
            if self.max_requests is not None and self.report.requests >= self.max_requests:
                raise _BudgetSpent
            self._pace()
            self.report.requests += 1
            if attempt > 1:
                self.report.retries += 1
            payload, failure, wait = self._attempt(url, headers)
            if failure is None:
                return payload
            failures.append(failure)
            if attempt == self.client.attempts:
                break
            if wait is not None and wait > self.client.max_wait:
                raise FetchError(
                    f"OpenAlex asks to wait {wait:,.0f}s before {self.shown(url)} (a daily limit?)",
                    "run the same command again later: the fetch resumes from its checkpoint",
                )
            self.client.sleep(wait if wait is not None else self._backoff(attempt))
        raise FetchError(
            f"{self.shown(url)} failed {len(failures)} times: {', '.join(failures)}",
            "run the same command again to resume from the checkpoint; --retries and --timeout allow more",
        )

    def _attempt(
        self, url: str, headers: dict[str, str]
    ) -> tuple[dict[str, Any] | None, str | None, float | None]:
        """One request: (the JSON object or None for 404, None) or (None, why it failed, Retry-After)."""
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=self.client.timeout
            ) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None, None, None
            if exc.code != 429 and exc.code < 500:
                raise FetchError(
                    f"OpenAlex refused {self.shown(url)}: HTTP {exc.code} {_error_text(exc)}",
                    "check --api-key and --base-url"
                    if exc.code in (401, 403)
                    else "this is not a transient failure; please report it with the URL",
                ) from exc
            return None, f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            return None, f"connection failed ({getattr(exc, 'reason', exc)})", None
        except http.client.HTTPException as exc:
            return None, f"broken response ({type(exc).__name__})", None
        except ValueError as exc:
            return None, f"unreadable body ({str(exc)[:80]})", None
        if not isinstance(payload, dict):
            return None, f"the body is a JSON {type(payload).__name__}, not an object", None
        return payload, None, None

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: about 1, 2, 4, ... times `backoff` seconds, at most a minute."""
        return min(self.client.backoff * 2 ** (attempt - 1) * (0.5 + self.client.rng.random()), _MAX_BACKOFF)

    def _pace(self) -> None:
        gap = self.client.min_interval - (time.monotonic() - self._last)
        if gap > 0:
            self.client.sleep(gap)
        self._last = time.monotonic()


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode("utf-8", errors="replace")
        payload = json.loads(body)
        return str(payload.get("message") or payload.get("error") or body)[:300]
    except (ValueError, OSError, AttributeError):
        return exc.reason if isinstance(exc.reason, str) else ""


def works_queries(edition: Edition, years: tuple[int, int], batch: int = BATCH) -> list[dict[str, Any]]:
    """The works queries of an edition and years: its journals' OpenAlex source ids (ISSNs for journals
    without one), batched into `primary_location.source.*` filters with the year window."""
    journals = edition.journal_list()
    if not edition.has_journal_list:
        raise InputError(
            f"edition {edition.name!r} counts every source, too many works to fetch through the API",
            "fetch an edition with a journal list (e.g. nature-index), or ingest an OpenAlex snapshot",
        )
    ids = sorted({i for j in journals for i in j.openalex_ids})
    issns = sorted({i for j in journals if not j.openalex_ids for i in j.issns})
    window = f"publication_year:{years[0]}-{years[1]}"
    queries = []
    for key, values in (("primary_location.source.id", ids), ("primary_location.source.issn", issns)):
        for chunk in _batches(values, batch):
            queries.append(_query("works", f"{key}:{'|'.join(chunk)},{window}"))
    return queries


def _batches(values: list[str], size: int) -> Iterator[list[str]]:
    """Runs of at most `size` values whose joined length stays within the URL budget of one filter."""
    chunk: list[str] = []
    for value in values:
        if chunk and (len(chunk) >= size or len("|".join([*chunk, value])) > _MAX_FILTER_CHARS):
            yield chunk
            chunk = []
        chunk.append(value)
    if chunk:
        yield chunk


def _query(entity: str, filter_: str) -> dict[str, Any]:
    return {"entity": entity, "filter": filter_, "cursor": "*", "pages": 0, "records": 0, "count": None}


def run_name(edition: Edition, years: tuple[int, int]) -> str:
    """The fetch folder's name: the same edition and years resume the same fetch."""
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', edition.name)}_{years[0]}-{years[1]}"


def fetch_directory(store_root: Path, edition: Edition, years: tuple[int, int]) -> Path:
    """Where a fetch keeps its files and checkpoint by default: `<store>/fetch/openalex/<edition>_<years>`."""
    return store_root / "fetch" / "openalex" / run_name(edition, years)


def fetch_openalex(
    directory: Path,
    edition: Edition,
    years: tuple[int, int],
    *,
    client: Client | None = None,
    max_requests: int | None = None,
    restart: bool = False,
    batch: int = BATCH,
    progress: Callable[[FetchProgress], None] | None = None,
) -> FetchReport:
    """Fetch the works of an edition's journals and years into `directory`, then the institutions and sources
    they name, resuming from the folder's checkpoint when there is one; a finished fetch sends no request.

    Stops cleanly (finished False, `stopped` says how to continue) when `max_requests` is spent.
    """
    client = client or Client()
    plan = works_queries(edition, years, batch)
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        if restart:
            for path in sorted(directory.rglob("*"), reverse=True):
                if path.name != _LOCK:
                    path.rmdir() if path.is_dir() else path.unlink()
        state = _load_state(directory, edition, years, client.base_url, plan)
        report = FetchReport(directory)
        fetcher = _Fetcher(_Session(client, max_requests, report), directory, state, report, progress)
        try:
            fetcher.run("works")
            if "entities" not in state:
                state["entities"] = _entity_queries(directory, batch)
                _save_state(directory, state)
            fetcher.run("institutions")
            fetcher.run("sources")
            fetcher.refetch_full_authors()
        except _BudgetSpent:
            report.stopped = (
                f"stopped after {report.requests} requests (--max-requests); the checkpoint in {directory} "
                "holds the place: run the same command again to continue"
            )
            return report
        report.finished = True
        if "finished" not in state:
            state["finished"] = now_iso()
            _save_state(directory, state)
    return report


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One fetch at a time per folder."""
    with open(directory / _LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchError(
                f"another fetch is writing to {directory}",
                "wait for it to finish, or fetch into another --store",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Fetcher:
    """Runs the queries of one phase page by page, writing each page before recording its cursor."""

    def __init__(
        self,
        session: _Session,
        directory: Path,
        state: dict[str, Any],
        report: FetchReport,
        progress: Callable[[FetchProgress], None] | None,
    ) -> None:
        self.session = session
        self.directory = directory
        self.state = state
        self.report = report
        self.progress = progress

    def queries(self, entity: str) -> list[dict[str, Any]]:
        if entity == "works":
            return self.state["works"]  # type: ignore[no-any-return]
        return [q for q in self.state.get("entities", []) if q["entity"] == entity]

    def run(self, entity: str) -> None:
        queries = self.queries(entity)
        for number, query in enumerate(queries, start=1):
            while query["cursor"] is not None:
                self._notify(entity, queries)
                payload = self.session.get(
                    entity,
                    {
                        "filter": query["filter"],
                        "per-page": str(PER_PAGE),
                        "cursor": query["cursor"],
                        "select": ",".join(SELECT[entity]),
                    },
                )
                if payload is None:
                    raise FetchError(
                        f"OpenAlex has no /{entity} endpoint at {self.session.client.base_url}",
                        "check --base-url",
                    )
                results = payload.get("results")
                meta = payload.get("meta") or {}
                if not isinstance(results, list):
                    raise FetchError(
                        f"the /{entity} answer to filter {query['filter'][:120]} has no results list",
                        "check --base-url: it must point at the OpenAlex API",
                    )
                if results:
                    query["pages"] += 1
                    _write_jsonl(
                        self.directory / entity / f"q{number:03d}-{query['pages']:05d}.jsonl.gz", results
                    )
                    query["records"] += len(results)
                    self.report.pages += 1
                    self.report.records[entity] = self.report.records.get(entity, 0) + len(results)
                if query["count"] is None and isinstance(meta.get("count"), int):
                    query["count"] = meta["count"]
                following = meta.get("next_cursor")
                query["cursor"] = following if results and isinstance(following, str) and following else None
                _save_state(self.directory, self.state)
            if entity != "works" and query.get("asked"):
                self.report.missing[entity] = self.report.missing.get(entity, 0) + max(
                    0, query["asked"] - query["records"]
                )
        self._notify(entity, queries)

    def refetch_full_authors(self) -> None:
        """Fetch again, one by one, the works whose list record was cut at 100 authorships; they are written
        after the pages, so the ingest keeps the full record."""
        entry = self.state.get("full_authors")
        if entry is None:
            entry = {"ids": _cut_works(self.directory), "done": 0}
            self.state["full_authors"] = entry
            _save_state(self.directory, self.state)
        ids: list[str] = entry["ids"]
        while entry["done"] < len(ids):
            chunk = ids[entry["done"] : entry["done"] + BATCH]
            records = []
            for work_id in chunk:
                self._notify_full(entry["done"] + len(records), len(ids))
                record = self.session.get(f"works/{work_id}", {"select": ",".join(SELECT["works"])})
                if record is not None:
                    records.append(record)
            if records:
                _write_jsonl(
                    self.directory / "works" / f"r-full-{entry['done'] // BATCH + 1:05d}.jsonl.gz", records
                )
            self.report.refetched += len(records)
            entry["done"] += len(chunk)
            _save_state(self.directory, self.state)

    def _notify(self, entity: str, queries: list[dict[str, Any]]) -> None:
        if self.progress is None:
            return
        counts = [q["count"] for q in queries]
        total = None if any(c is None for c in counts) else sum(counts)
        self.progress(FetchProgress(entity, sum(q["records"] for q in queries), total, self.report.requests))

    def _notify_full(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(FetchProgress("works in full", done, total, self.report.requests))


def _entity_queries(directory: Path, batch: int) -> list[dict[str, Any]]:
    """Queries for the institutions (with their lineage) and sources that the fetched works name."""
    found: dict[str, set[str]] = {"institutions": set(), "sources": set()}
    for work in _records(directory / "works"):
        source = ((work.get("primary_location") or {}).get("source") or {}).get("id")
        if isinstance(source, str):
            found["sources"].add(strip_id(source))
        for authorship in work.get("authorships") or []:
            for institution in authorship.get("institutions") or []:
                found["institutions"].update(
                    strip_id(i)
                    for i in [institution.get("id"), *(institution.get("lineage") or [])]
                    if isinstance(i, str)
                )
            for affiliation in authorship.get("affiliations") or []:
                found["institutions"].update(
                    strip_id(i) for i in affiliation.get("institution_ids") or [] if isinstance(i, str)
                )
    queries = []
    for entity, ids in found.items():
        for chunk in _batches(sorted(i for i in ids if _ID[entity].match(i)), batch):
            queries.append(_query(entity, f"openalex:{'|'.join(chunk)}") | {"asked": len(chunk)})
    return queries


def _cut_works(directory: Path) -> list[str]:
    """Ids of the fetched works whose authorships may have been cut by the list endpoint."""
    return sorted(
        {
            strip_id(w["id"])
            for w in _records(directory / "works")
            if isinstance(w.get("id"), str)
            and (w.get("is_authors_truncated") or len(w.get("authorships") or []) >= FULL_AUTHORS)
        }
    )


def _records(folder: Path) -> Iterator[dict[str, Any]]:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("q*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if isinstance(record, dict):
                    yield record


def _write_jsonl(path: Path, records: list[Any]) -> None:
    """Write records as gzipped JSON Lines, atomically and byte for byte the same for the same records (gzip
    time 0), so a page written again replaces itself and its checksum does not change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    _atomic_write(path, gzip.compress(text.encode("utf-8"), mtime=0))


def _atomic_write(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _checkpoint(directory: Path) -> Path:
    return directory / "checkpoint.json"


def _save_state(directory: Path, state: dict[str, Any]) -> None:
    state["updated"] = now_iso()
    _atomic_write(_checkpoint(directory), json.dumps(state, indent=1).encode("utf-8"))


def _load_state(
    directory: Path, edition: Edition, years: tuple[int, int], base_url: str, plan: list[dict[str, Any]]
) -> dict[str, Any]:
    """The folder's checkpoint, checked against this fetch; a new one when there is none."""
    path = _checkpoint(directory)
    state: dict[str, Any]
    if not path.exists():
        state = {
            "format": _FORMAT,
            "edition": edition.name,
            "years": list(years),
            "base_url": base_url,
            "select": SELECT,
            "started": now_iso(),
            "works": plan,
        }
        _save_state(directory, state)
        return state
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FetchError(
            f"the checkpoint {path} is not valid JSON: {exc}", "fetch again with --restart"
        ) from exc
    mine = {"format": _FORMAT, "edition": edition.name, "years": list(years), "base_url": base_url}
    theirs = {key: state.get(key) for key in mine}
    if theirs != mine or [q["filter"] for q in state.get("works", [])] != [q["filter"] for q in plan]:
        differ = [k for k in mine if theirs[k] != mine[k]] or ["journal list"]
        raise FetchError(
            f"the checkpoint in {directory} is of another fetch (its {', '.join(differ)} differ)",
            "give the same options to resume it, or --restart to fetch from the start",
        )
    return state


__all__ = [
    "DEFAULT_BASE_URL",
    "PER_PAGE",
    "SELECT",
    "Client",
    "FetchError",
    "FetchProgress",
    "FetchReport",
    "fetch_directory",
    "fetch_openalex",
    "run_name",
    "works_queries",
]
