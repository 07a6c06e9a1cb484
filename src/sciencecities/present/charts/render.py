"""Write a chart to PNG, SVG or HTML without a browser or a network: vl-convert renders the Vega-Lite spec
in-process, and the HTML carries the Vega, Vega-Lite and Vega-Embed JavaScript inline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

from sciencecities.errors import InputError

FORMATS = (".png", ".svg", ".html")
"""The file suffixes `save` can write."""

_VEGA_LITE = "_".join(alt.SCHEMA_VERSION.split(".")[:2])
"""The Vega-Lite version altair writes specs for (e.g. 'v6_4'), in vl-convert's spelling."""


def _urls(spec: Any) -> Iterator[str]:
    """Every data URL in a Vega-Lite spec (top level, layers, concatenations, lookups)."""
    if isinstance(spec, dict):
        data = spec.get("data")
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            yield data["url"]
        for value in spec.values():
            yield from _urls(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _urls(value)


def save(chart: alt.TopLevelMixin, path: Path, scale: float = 2.0) -> Path:
    """Write `chart` to `path` as PNG (`scale` times its size in pixels), SVG or self-contained HTML, by
    the suffix, and return the path. The chart must carry its data inline, as the builders' charts do:
    a data URL would need a network.

    Examples
    --------
    >>> import tempfile
    >>> from sciencecities import demo_store, rank
    >>> from sciencecities.present.charts import top_bars
    >>> chart = top_bars(rank(demo_store(), level="country").table, "Countries", n=5)
    >>> save(chart, Path(tempfile.mkdtemp()) / "countries.svg").suffix
    '.svg'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"cannot write a chart as {path.name!r}", f"use a file name ending in {', '.join(FORMATS)}"
        )
    if scale <= 0:
        raise InputError(f"the scale must be positive, not {scale}", "pass scale=2.0 for a sharp PNG")
    spec = chart.to_dict()
    remote = sorted(set(_urls(spec)))
    if remote:
        raise InputError(
            f"the chart reads data from {', '.join(remote)}",
            "charts render offline: give the data as a table (inline values), not a URL",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, vl_version=_VEGA_LITE, scale=scale, allowed_base_urls=[]))
    elif suffix == ".svg":
        path.write_text(
            vlc.vegalite_to_svg(spec, vl_version=_VEGA_LITE, allowed_base_urls=[]), encoding="utf-8"
        )
    else:
        path.write_text(vlc.vegalite_to_html(spec, vl_version=_VEGA_LITE, bundle=True), encoding="utf-8")
    return path
