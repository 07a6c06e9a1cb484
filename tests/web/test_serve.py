"""`sciencecities serve` as a user runs it: a subprocess that serves the API and the dashboard on loopback, and
clear errors before it listens."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sciencecities import Store
from web.live import free_port

pytestmark = pytest.mark.slow


def _serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "sciencecities", "serve", *args]


def test_serve_answers_on_loopback_and_stops(served_store: Store) -> None:
    port = free_port()
    process = subprocess.Popen(
        _serve("--store", str(served_store.root), "--port", str(port), "--edition", "all-articles"),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=5) as reply:
                    status = reply.read().decode()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert '"default_edition":"all-articles"' in status
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b'id="map"' in page.read()
    finally:
        process.terminate()
        _, said = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in said


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("--port", "70000"), 2, "port 70000 is out of range"),
        (("--edition", "nature-index-2018"), 2, "is not built"),
        (("--cache-size", "-1"), 2, "cannot be negative"),
    ],
)
def test_serve_refuses_bad_options(served_store: Store, args: tuple[str, ...], code: int, said: str) -> None:
    done = subprocess.run(
        _serve("--store", str(served_store.root), *args),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code and said in done.stderr


def test_serve_without_a_store_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        _serve("--store", str(tmp_path / "none")), check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "no store at" in done.stderr and "sciencecities demo" in done.stderr
