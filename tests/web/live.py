"""A real server on loopback: uvicorn in a thread serving a store, and `Server.get` to fetch from it with the
standard library."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

import uvicorn

from sciencecities import Store
from sciencecities.present.web import create_app


@dataclass(frozen=True)
class Reply:
    """What the server answered: status, headers and body."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Server:
    """A running server: its base URL and the store it serves."""

    url: str
    store: Store

    def get(self, path: str) -> Reply:
        """GET `path` (with its query string), never raising on 4xx or 5xx."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(store: Store, **options: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn on a free loopback port in a thread; return once it accepts connections."""
    port = free_port()
    config = uvicorn.Config(create_app(store, **options), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"
