"""A loopback stand-in for the OpenAlex API: serves recorded real records as cursor pages, with faults.

It answers `/works`, `/institutions` and `/sources` list requests (filters `primary_location.source.id`,
`primary_location.source.issn`, `publication_year`, `openalex`; `cursor`; `per-page`; `select`) and single
works (`/works/W…`) the way the API does: `select` keeps only the root-level fields named and refuses a field
the entity does not have (HTTP 400); list results cut `authorships` at 100. Pages are smaller than the
client asks (`page_size`) so that the recorded records make several pages. `faults` maps a request number
(1-based, over all requests) to a failure served instead of the answer.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

DATA = Path(__file__).parent / "data"


def records(entity: str) -> list[dict[str, Any]]:
    """The recorded records of an entity (see data/PROVENANCE.md)."""
    with gzip.open(DATA / f"{entity}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def short(value: str) -> str:
    return value.rsplit("/", 1)[-1]


@dataclass
class Fault:
    """A failure: `status` 429/500 (with `retry_after`), `truncated` body, `cut` body without length, `sleep`."""

    kind: str
    retry_after: str | None = None
    seconds: float = 0.0


@dataclass
class Replay:
    """The server's state: its records, page size, faults and the log of the requests it answered."""

    pool: dict[str, list[dict[str, Any]]]
    fields: dict[str, list[str]]
    page_size: int = 7
    faults: dict[int, Fault] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def matches(self, entity: str, filters: str) -> list[dict[str, Any]]:
        """The records of `entity` that the filter string selects, in id order."""
        rows = self.pool[entity]
        for part in filters.split(","):
            key, _, value = part.partition(":")
            wanted = set(value.split("|"))
            if key == "primary_location.source.id":
                rows = [r for r in rows if short(_source(r).get("id") or "") in wanted]
            elif key == "primary_location.source.issn":
                rows = [r for r in rows if {i.upper() for i in _source(r).get("issn") or []} & wanted]
            elif key == "publication_year":
                first, _, last = value.partition("-")
                rows = [
                    r for r in rows if int(first) <= (r.get("publication_year") or 0) <= int(last or first)
                ]
            elif key == "openalex":
                rows = [r for r in rows if short(r["id"]) in wanted]
            else:
                raise ValueError(f"unknown filter {key}")
        return sorted(rows, key=lambda r: r["id"])

    def served(self, entity: str, filters: str) -> set[str]:
        """Ids of the records a filter selects: what a correct client must end up with."""
        return {short(r["id"]) for r in self.matches(entity, filters)}


def _source(record: dict[str, Any]) -> dict[str, Any]:
    return (record.get("primary_location") or {}).get("source") or {}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, "sciencecities-replay"]).encode()).decode()


def _offset(cursor: str) -> int:
    return 0 if cursor == "*" else int(json.loads(base64.urlsafe_b64decode(cursor.encode()))[0])


class _Handler(BaseHTTPRequestHandler):
    replay: Replay

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the replay keeps its own log."""

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        with self.replay.lock:
            number = len(self.replay.log) + 1
            fault = self.replay.faults.get(number)
            self.replay.log.append({"path": parsed.path, "params": params, "fault": fault and fault.kind})
        if fault and fault.kind == "sleep":
            time.sleep(fault.seconds)
        if fault and fault.kind in ("429", "500"):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(int(fault.kind), {"error": "injected", "message": f"fault {fault.kind}"}, headers)
            return
        status, payload = self._answer(parsed.path, params)
        if fault and fault.kind in ("truncated", "cut"):
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if fault.kind == "truncated":
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, payload)

    def _answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = [p for p in path.split("/") if p]
        entity = parts[0] if parts else ""
        if entity not in self.replay.pool:
            return 404, {"error": "not found"}
        select = params.get("select", "").split(",") if params.get("select") else None
        unknown = [f for f in select or [] if f not in self.replay.fields[entity]]
        if unknown:
            return 400, {
                "error": "Invalid query parameters error.",
                "message": f"{unknown[0]} is not a valid field",
            }
        if len(parts) == 2:
            found = [r for r in self.replay.pool[entity] if short(r["id"]) == parts[1]]
            return (200, _select(found[0], select)) if found else (404, {"error": "not found"})
        rows = self.replay.matches(entity, params.get("filter", ""))
        offset = _offset(params.get("cursor", "*"))
        size = min(int(params.get("per-page", "25")), 200, self.replay.page_size)
        page = [_select(_listed(r), select) for r in rows[offset : offset + size]]
        meta = {
            "count": len(rows),
            "db_response_time_ms": 12,
            "page": None,
            "per_page": size,
            "next_cursor": _cursor(offset + size) if page else None,
            "groups_count": None,
        }
        return 200, {"meta": meta, "results": page, "group_by": []}

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _listed(record: dict[str, Any]) -> dict[str, Any]:
    """A record as list responses give it: authorships cut at 100."""
    if len(record.get("authorships") or []) > 100:
        return record | {"authorships": record["authorships"][:100], "is_authors_truncated": True}
    return record


def _select(record: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    return record if select is None else {k: v for k, v in record.items() if k in select}


class ReplayServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a thread, serving a Replay; use as a context manager."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        handler = type("Handler", (_Handler,), {"replay": replay})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def recorded_replay(**options: Any) -> Replay:
    """A Replay of the recorded works, institutions and sources."""
    fields = json.loads((DATA / "fields.json").read_text())
    pool = {entity: records(entity) for entity in ("works", "institutions", "sources")}
    return Replay(pool, fields, **options)
