"""Charts of rankings, trends, subject profiles, cities on the world and collaboration, as Vega-Lite (Altair)
built from the tables of the Python API; `save` renders them offline to PNG, SVG or self-contained HTML."""

from __future__ import annotations

from sciencecities.present.charts.collaboration import network
from sciencecities.present.charts.profile import subject_profile
from sciencecities.present.charts.ranking import bump, top_bars
from sciencecities.present.charts.render import FORMATS, save
from sciencecities.present.charts.world import world_map

__all__ = ["FORMATS", "bump", "network", "save", "subject_profile", "top_bars", "world_map"]
