"""Charts: each builder's Vega-Lite spec on small real-shaped tables and on the demo store, rendered offline
to PNG, SVG and self-contained HTML; empty or malformed input is an InputError, never an empty picture."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest

from sciencecities import Store, rank, trend
from sciencecities.errors import InputError
from sciencecities.present.charts import FORMATS, bump, network, save, subject_profile, top_bars, world_map
from sciencecities.rank.ranking import CITY_COLUMNS, TREND_COLUMNS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ranking_table() -> pa.Table:
    """A city ranking as `rank(level="city")` returns it: a tie at rank 2, two cities named Cambridge and a
    group-like row without a country."""
    rows = [
        (1, None, "us-csa-148", "Boston metropolitan area", "US", 22, 9.52, 13.16, None, None, 37.4),
        (2, None, "gb-cambridge", "Cambridge", "GB", 9, 2.52, 4.89, None, None, 25.9),
        (2, None, "us-cambridge", "Cambridge", "US", 9, 2.52, 2.0, None, None, 9.9),
        (4, None, "cn-beijing", "Beijing", "CN", 10, 2.0, 0.49, None, None, 31.7),
        (5, None, "xx-nowhere", "Nowhere", None, 1, 0.5, 0.5, None, None, None),
    ]
    return pa.Table.from_pylist([dict(zip(CITY_COLUMNS, r, strict=True)) for r in rows])


def trend_table() -> pa.Table:
    """Trend rows as `trend()` returns them: three entities over 2020-2023, one missing in the last year."""
    rows = [
        ("US", "United States", "US", 2020, 1, 9, 4.0, 4.4),
        ("US", "United States", "US", 2021, 2, 8, 3.0, 3.2),
        ("US", "United States", "US", 2023, 1, 9, 4.5, 4.5),
        ("GB", "United Kingdom", "GB", 2020, 2, 5, 2.0, 2.2),
        ("GB", "United Kingdom", "GB", 2021, 1, 7, 3.5, 3.7),
        ("GB", "United Kingdom", "GB", 2023, 3, 3, 1.0, 1.0),
        ("DE", "Germany", "DE", 2020, 3, 2, 1.0, 1.1),
        ("DE", "Germany", "DE", 2023, 2, 4, 2.0, 2.0),
        ("FR", "France", "FR", 2021, 3, 1, 0.5, 0.5),
    ]
    return pa.Table.from_pylist([dict(zip(TREND_COLUMNS, r, strict=True)) for r in rows])


def profile_table() -> pa.Table:
    shares = {"Biological sciences": 3.0, "Chemistry": 1.0, "Physical sciences": 1.0}
    world = {"Biological sciences": 0.4, "Chemistry": 0.3, "Physical sciences": 0.3}
    total = sum(shares.values())
    return pa.Table.from_pylist(
        [
            {"subject": s, "share": v, "world_share": world[s], "specialisation": v / total / world[s]}
            for s, v in shares.items()
        ]
    )


def cities_table(change: bool = False) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "id": ["us-csa-148", "gb-london", "cn-beijing", "xx-unplaced"],
            "name": ["Boston", "London", "Beijing", "Unplaced"],
            "country_code": ["US", "GB", "CN", "US"],
            "share": [9.5, 4.4, 2.9, 1.0],
            "latitude": [42.36, 51.51, 39.91, None],
            "longitude": [-71.06, -0.13, 116.40, None],
        }
    )
    if change:
        df["change"] = [1.5, None, -0.5, 0.1]
    return df


def network_tables() -> tuple[pa.Table, pa.Table]:
    nodes = ranking_table().select(["id", "name", "country_code", "share"])
    names = dict(zip(nodes["id"].to_pylist(), nodes["name"].to_pylist(), strict=True))
    links = [
        ("us-csa-148", "gb-cambridge", 5, 2.5),
        ("us-csa-148", "us-cambridge", 3, 1.0),
        ("gb-cambridge", "cn-beijing", 2, 0.5),
        ("us-csa-148", "cn-beijing", 1, 0.2),
    ]
    pairs = pa.Table.from_pylist(
        [
            {"id_a": a, "name_a": names[a], "id_b": b, "name_b": names[b], "articles": n, "score": s}
            for a, b, n, s in links
        ]
    )
    return pairs, nodes


def demo_cities(demo: Store) -> pd.DataFrame:
    """The demo's metro ranking with each city placed at the mean position of its placed institutions."""
    places = demo.read("institution_places", "nature-index").to_pandas()
    units = demo.read("institution_units", "nature-index").to_pandas()
    metro = units[units["boundaries"] == "metro"].merge(places, on="institution_id")
    where = metro.groupby("unit_id")[["latitude", "longitude"]].mean().rename_axis("id").reset_index()
    return rank(demo, level="city").table.to_pandas().merge(where, on="id", how="left")


def rows(spec: dict[str, Any], part: dict[str, Any]) -> Any:
    """The inline data of one part of a spec (a layer, or the spec itself), whether altair left it in place or
    moved it to the spec's named `datasets`."""
    data = part["data"]
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


# --- what a good rendering looks like -------------------------------------------------------------------


def data_urls(spec: Any) -> list[str]:
    """Every `url` anywhere in a spec: an offline chart has none."""
    if isinstance(spec, dict):
        found = [spec["url"]] if "url" in spec else []
        return found + [u for v in spec.values() for u in data_urls(v)]
    if isinstance(spec, list):
        return [u for v in spec for u in data_urls(v)]
    return []


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_renders(chart: alt.TopLevelMixin, folder: Path, shows: str) -> None:
    """PNG, SVG and HTML of `chart` are real pictures; the HTML needs no network and carries the data
    (`shows` is a value from the data)."""
    assert data_urls(chart.to_dict()) == []
    png = save(chart, folder / "chart.png")
    assert 5_000 < png.stat().st_size < 5_000_000
    width, height = png_size(png)
    assert width > 100 and height > 100
    small = png_size(save(chart, folder / "small.png", scale=1.0))
    assert small[0] < width and small[1] < height

    svg = ET.fromstring(save(chart, folder / "chart.svg").read_text(encoding="utf-8"))
    assert svg.tag.endswith("svg")

    html = save(chart, folder / "chart.html").read_text(encoding="utf-8")
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None
    assert re.search(r"<link[^>]*href\s*=\s*[\"']https?://", html) is None
    assert "vegaEmbed(" in html
    assert shows in html


# --- top bars -------------------------------------------------------------------------------------------


def test_top_bars_spec_orders_by_rank_and_keeps_ties() -> None:
    spec = top_bars(ranking_table(), "Science cities", n=2).to_dict()
    encoding = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert encoding["x"]["field"] == "share"
    assert encoding["color"]["field"] == "country_code"
    assert encoding["y"]["sort"] == [
        "1. Boston metropolitan area",
        "2. Cambridge (gb-cambridge)",
        "2. Cambridge (us-cambridge)",
    ]
    tips = [t["field"] for t in encoding["tooltip"]]
    assert {"count", "share", "adjusted_share"} <= set(tips)
    assert spec["title"] == "Science cities"


def test_top_bars_colours_rows_without_a_country() -> None:
    spec = top_bars(ranking_table(), "All", n=20).to_dict()
    values = rows(spec, spec)
    assert [v["country_code"] for v in values][-1] == "none"
    assert len(values) == 5


def test_top_bars_on_the_demo_renders_offline(demo: Store, tmp_path: Path) -> None:
    table = rank(demo, level="city").table
    chart = top_bars(table, "Science cities of the demo", n=10)
    spec = chart.to_dict()
    assert len(rows(spec, spec)) >= 10
    assert_renders(chart, tmp_path, table["name"][0].as_py())


# --- bump -----------------------------------------------------------------------------------------------


def test_bump_puts_rank_one_on_top_and_names_at_the_last_year() -> None:
    spec = bump(trend_table(), "Countries", n=3).to_dict()
    lines, names = spec["layer"]
    y = lines["encoding"]["y"]
    assert (y["field"], y["scale"]["reverse"]) == ("rank", True)
    assert lines["encoding"]["x"]["field"] == "year"
    assert lines["mark"] == {"type": "line", "point": True}
    # the three ranked best in 2023: US 1, DE 2, GB 3; France (absent in 2023) is left out
    assert sorted({v["id"] for v in rows(spec, lines)}) == ["DE", "GB", "US"]
    assert names["encoding"]["text"]["field"] == "label"
    assert {(v["id"], v["year"]) for v in rows(spec, names)} == {("US", 2023), ("DE", 2023), ("GB", 2023)}


def test_bump_takes_entities_absent_in_the_last_year_after_the_others() -> None:
    spec = bump(trend_table(), "Countries", n=4).to_dict()
    labels = {(v["id"], v["year"]) for v in rows(spec, spec["layer"][1])}
    assert ("FR", 2021) in labels


def test_bump_on_the_demo_renders_offline(demo: Store, tmp_path: Path) -> None:
    table = trend(demo, level="country", top=5).table
    chart = bump(table, "Countries of the demo")
    assert_renders(chart, tmp_path, table["name"][0].as_py())


# --- subject profile ------------------------------------------------------------------------------------


def test_subject_profile_bars_specialisation_with_a_rule_at_one(tmp_path: Path) -> None:
    chart = subject_profile(profile_table(), "Boston: subjects")
    spec = chart.to_dict()
    bars, rule, text = spec["layer"]
    assert bars["encoding"]["x"]["field"] == "specialisation"
    assert bars["encoding"]["y"]["sort"][0] == "Biological sciences"
    assert rule["mark"]["type"] == "rule" and rows(spec, rule) == [{"average": 1.0}]
    assert text["encoding"]["text"]["field"] == "share_label"
    assert "Share 3.00" in [v["share_label"] for v in rows(spec, text)]
    assert_renders(chart, tmp_path, "Biological sciences")


# --- world map ------------------------------------------------------------------------------------------


def test_world_map_inlines_the_shipped_outlines_and_sizes_by_share() -> None:
    spec = world_map(cities_table(), "Science cities").to_dict()
    outlines, circles = spec["layer"]
    assert spec["projection"] == {"type": "equalEarth"}
    assert outlines["data"]["format"] == {"type": "topojson", "feature": "countries"}
    assert rows(spec, outlines)["type"] == "Topology"
    assert len(rows(spec, outlines)["objects"]["countries"]["geometries"]) == 177
    size = circles["encoding"]["size"]
    assert size["field"] == "share" and size["scale"]["domain"] == [0, 9.5]
    assert size["scale"]["range"][0] == 0  # area proportional to Share
    assert circles["encoding"]["color"]["field"] == "country_code"
    assert {"longitude", "latitude"} <= set(circles["encoding"])
    assert [v["id"] for v in rows(spec, circles)] == ["us-csa-148", "gb-london", "cn-beijing"]
    assert spec["title"]["subtitle"] == "1 of 4 without coordinates not shown"


def test_world_map_colours_by_change_and_greys_the_unknown() -> None:
    spec = world_map(cities_table(change=True), "Change", n=3).to_dict()
    _, unknown, known = spec["layer"]
    assert unknown["encoding"]["color"] == {"value": "#9a9a9a"}
    assert [v["id"] for v in rows(spec, unknown)] == ["gb-london"]
    color = known["encoding"]["color"]
    assert color["field"] == "change"
    assert color["scale"]["domain"] == [-1.5, 1.5]
    assert "subtitle" in spec["title"] and "grey" in spec["title"]["subtitle"]


def test_world_map_without_coordinates_is_an_input_error() -> None:
    unplaced = cities_table().assign(latitude=None, longitude=None)
    with pytest.raises(InputError, match="coordinates"):
        world_map(unplaced, "Nowhere")


def test_world_map_on_the_demo_renders_offline(demo: Store, tmp_path: Path) -> None:
    cities = demo_cities(demo)
    assert cities["latitude"].notna().sum() > 10
    chart = world_map(cities, "Science cities of the demo", n=40)
    spec = chart.to_dict()
    assert len(rows(spec, spec["layer"][1])) <= 40
    assert_renders(chart, tmp_path, cities["name"][0])


# --- network --------------------------------------------------------------------------------------------


def test_network_draws_links_and_nodes_at_a_fixed_layout(tmp_path: Path) -> None:
    pairs, nodes = network_tables()
    spec = network(pairs, nodes, "Collaboration", labelled=2).to_dict()
    links, circles, names = spec["layer"]
    assert links["mark"]["type"] == "rule"
    assert {"x", "y", "x2", "y2"} <= set(links["encoding"])
    assert links["encoding"]["strokeWidth"]["field"] == "score"
    assert circles["encoding"]["size"]["field"] == "share"
    assert circles["encoding"]["color"]["field"] == "country_code"
    assert [v["id"] for v in rows(spec, names)] == ["us-csa-148", "gb-cambridge"]
    points = {v["id"]: (v["x"], v["y"]) for v in rows(spec, circles)}
    assert len(points) == 5 and all(-1.0 <= c <= 1.0 for xy in points.values() for c in xy)

    shuffled = network(pairs.take([3, 1, 0, 2]), nodes.take([4, 2, 0, 3, 1]), "Collaboration", labelled=2)
    again_spec = shuffled.to_dict()
    again = {v["id"]: (v["x"], v["y"]) for v in rows(again_spec, again_spec["layer"][1])}
    assert again == points
    assert_renders(network(pairs, nodes, "Collaboration"), tmp_path, "Boston metropolitan area")


def test_network_needs_a_node_for_every_pair() -> None:
    pairs, nodes = network_tables()
    with pytest.raises(InputError, match="no node: cn-beijing"):
        network(pairs, nodes.filter(pa.compute.not_equal(nodes["id"], "cn-beijing")), "Collaboration")
    with pytest.raises(InputError, match="repeat the ids us-csa-148"):
        network(pairs, pa.concat_tables([nodes, nodes.slice(0, 1)]), "Collaboration")


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        lambda: top_bars(ranking_table().slice(0, 0), "Empty"),
        lambda: bump(trend_table().slice(0, 0), "Empty"),
        lambda: subject_profile(profile_table().slice(0, 0), "Empty"),
        lambda: world_map(cities_table().iloc[0:0], "Empty"),
        lambda: network(network_tables()[0].slice(0, 0), network_tables()[1], "Empty"),
    ],
    ids=["top_bars", "bump", "subject_profile", "world_map", "network"],
)
def test_empty_input_is_an_input_error(draw: Any) -> None:
    with pytest.raises(InputError, match="no rows") as raised:
        draw()
    assert raised.value.hint


def test_missing_columns_are_named() -> None:
    with pytest.raises(InputError, match="needs the columns latitude, longitude"):
        world_map(ranking_table(), "No places")


def test_n_must_be_positive() -> None:
    with pytest.raises(InputError, match="at least 1"):
        top_bars(ranking_table(), "None", n=0)


def test_save_refuses_other_suffixes(tmp_path: Path) -> None:
    chart = top_bars(ranking_table(), "Cities")
    with pytest.raises(InputError) as raised:
        save(chart, tmp_path / "chart.pdf")
    assert all(suffix in str(raised.value) for suffix in FORMATS)
    assert not (tmp_path / "chart.pdf").exists()


def test_save_refuses_data_from_a_url(tmp_path: Path) -> None:
    chart = alt.Chart(alt.UrlData("https://example.org/cities.csv")).mark_point().encode(x="share:Q")
    with pytest.raises(InputError, match="example.org"):
        save(chart, tmp_path / "chart.png")
