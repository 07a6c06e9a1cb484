"""sciencecities: open, reproducible science-city rankings from bibliographic records."""

from __future__ import annotations

__version__ = "0.1.0"
