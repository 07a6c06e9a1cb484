"""The web API and the offline dashboard (`sciencecities serve`): a read-only FastAPI application over the
Python API, with a single-page dashboard whose scripts are vendored into `static/`."""

from __future__ import annotations

from sciencecities.present.web.app import create_app

__all__ = ["create_app"]
