"""Fixtures of the web tests: a copy of the demo store served on a free loopback port for the whole session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sciencecities import Store
from web.live import Server, start


@pytest.fixture(scope="session")
def served_store(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A copy of the demo store, so nothing a server does can touch the session's demo."""
    root = tmp_path_factory.mktemp("web") / "store"
    shutil.copytree(demo.root, root)
    return Store(root)


@pytest.fixture(scope="session")
def server(served_store: Store) -> Iterator[Server]:
    """The web app on a free loopback port, for the whole session."""
    running, thread, url = start(served_store)
    yield Server(url, served_store)
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a browser test saves its screenshots."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
