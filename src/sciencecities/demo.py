"""The demo world: the embedded real OpenAlex sample, ingested and built into a store (one function for the
CLI's `demo`, the tests and the doc examples)."""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

from sciencecities.config import Settings
from sciencecities.errors import StoreError
from sciencecities.pipeline import BuildReport, IngestReport, Progress, build, ingest_openalex
from sciencecities.store import Store

DEFAULT_DEMO_STORE = Path("sciencecities-demo")


def sample_files() -> Path:
    """The folder of the embedded sample (584 works, 196 institutions, 126 sources; OpenAlex, CC0)."""
    return Path(str(resources.files("sciencecities").joinpath("data/sample/openalex")))


DEMO_EDITIONS = ("nature-index", "all-articles")
"""Built in the demo store: the default edition first, and every article of the sample for comparison."""


def build_demo_store(
    root: str | Path, progress: Progress | None = None
) -> tuple[Store, IngestReport, BuildReport]:
    """Create a fresh store at `root` from the sample and build the demo editions; report the default's build.

    An existing demo store there is replaced; any other non-empty directory is refused, never deleted.
    """
    root = Path(root).expanduser().absolute()
    if root.exists() and any(root.iterdir()):
        store = Store(root)
        if not (store.exists and store.manifest().get("demo")):
            raise StoreError(
                f"{root} is not empty and is not a demo store", "give `demo` another --store folder"
            )
        shutil.rmtree(root)
    store = Store(root)
    ingest = ingest_openalex(store, [sample_files()], progress=progress)
    with store.transaction() as txn:
        txn.manifest["demo"] = True
    built = [build(store, Settings(store=root, edition=name)) for name in DEMO_EDITIONS]
    return store, ingest, built[0]


_CACHED: dict[str, Store] = {}


def demo_store() -> Store:
    """A demo store built once per process in a temporary folder (for examples and interactive use)."""
    if "store" not in _CACHED:
        root = Path(tempfile.mkdtemp(prefix="sciencecities-demo-"))
        _CACHED["store"] = build_demo_store(root / "store")[0]
    return _CACHED["store"]
