"""locate: the DESIGN §6 facts from real coordinates, answers for every point on Earth, errors, and the CLI verb.

Coordinates are those of the campuses (WGS84, from the institutions' own sites or OpenStreetMap), so these
tests run the whole chain: gazetteer -> place -> boundary set -> country -> groups.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from sciencecities.errors import GeographyError, InputError
from sciencecities.present.cli.locate import LOCATE_CONTEXT, locate_cmd
from sciencecities.resolve.geography.locate import Location, Locator, locate

YALE = (41.3163, -72.9223)
PRINCETON = (40.3431, -74.6551)
COLUMBIA = (40.8075, -73.9626)
STANFORD = (37.4275, -122.1697)
BERKELEY = (37.8719, -122.2585)
HARVARD = (42.3770, -71.1167)  # Cambridge, MA
MIT = (42.3601, -71.0942)  # Cambridge, MA, by the river: the gazetteer gives Boston
JOHNS_HOPKINS = (39.3299, -76.6205)  # Baltimore
NIH = (39.0003, -77.1030)  # Bethesda
TUM_GARCHING = (48.2620, 11.6670)
LMU = (48.1508, 11.5803)  # Munich
UCAS_YANQI = (40.4074, 116.6795)  # Huairou district, by Yanqi Lake
TSINGHUA = (40.0000, 116.3264)  # Beijing
USTC = (31.8206, 117.2272)  # Hefei
NANJING_UNIVERSITY = (32.0603, 118.7969)
OXFORD = (51.7548, -1.2544)
CAMBRIDGE_UK = (52.2043, 0.1149)
UCL = (51.5246, -0.1340)  # London
KAIST = (36.3721, 127.3604)  # Daejeon
SNU = (37.4602, 126.9520)  # Seoul
LOS_ALAMOS = (35.8800, -106.3031)
CORNELL = (42.4534, -76.4735)  # Ithaca
SUSTECH = (22.6027, 113.9990)  # Shenzhen
SYDNEY = (-33.87, 151.21)
POINT_NEMO = (-48.8767, -123.3933)  # the oceanic pole of inaccessibility


@pytest.fixture(scope="module")
def metro() -> Locator:
    """The default locator: metro boundaries, shipped groups."""
    return Locator()


def unit_of(locator: Locator, point: tuple[float, float]) -> str:
    """The science city (unit name) of a point."""
    return locator.locate(*point).unit.name


# --- DESIGN §6: the facts the default set must reproduce, from coordinates -------------------------------


def test_yale_and_princeton_are_in_the_new_york_metropolitan_area(metro: Locator) -> None:
    for point in (YALE, PRINCETON, COLUMBIA):
        assert unit_of(metro, point) == "New York metropolitan area"
    yale = metro.locate(*YALE)
    assert (yale.place.name, yale.unit.id) == ("New Haven", "us-csa-408")
    assert "CBSA 35300 joined" in yale.unit.rule


def test_stanford_and_berkeley_are_in_the_san_francisco_bay_area(metro: Locator) -> None:
    assert unit_of(metro, STANFORD) == unit_of(metro, BERKELEY) == "San Francisco Bay Area"


def test_cambridge_ma_is_in_the_boston_metropolitan_area(metro: Locator) -> None:
    harvard = metro.locate(*HARVARD)
    assert (harvard.place.name, harvard.place.admin1) == ("Cambridge", "MA")
    assert harvard.unit.name == unit_of(metro, MIT) == "Boston metropolitan area"


def test_johns_hopkins_and_nih_are_in_baltimore_washington(metro: Locator) -> None:
    assert metro.locate(*NIH).place.name == "Bethesda"
    assert unit_of(metro, JOHNS_HOPKINS) == unit_of(metro, NIH) == "Baltimore-Washington"


def test_garching_is_in_munich(metro: Locator) -> None:
    tum = metro.locate(*TUM_GARCHING)
    assert tum.place.name == "Garching bei München"
    assert tum.unit.id == metro.locate(*LMU).unit.id == "de-munich"
    assert tum.unit.name == "Munich" and tum.unit.rule.startswith("curated metro de-munich")


def test_huairou_is_in_beijing(metro: Locator) -> None:
    yanqi = metro.locate(*UCAS_YANQI)
    assert yanqi.unit.id == metro.locate(*TSINGHUA).unit.id == "cn-beijing"
    assert yanqi.unit.rule == "China municipality: admin1 22"


def test_hefei_and_nanjing_are_separate(metro: Locator) -> None:
    hefei, nanjing = metro.locate(*USTC), metro.locate(*NANJING_UNIVERSITY)
    assert (hefei.unit.name, nanjing.unit.name) == ("Hefei", "Nanjing")
    assert hefei.unit.id != nanjing.unit.id


def test_oxford_and_cambridge_uk_are_not_in_london(metro: Locator) -> None:
    assert unit_of(metro, UCL) == "London metropolitan area"
    assert unit_of(metro, OXFORD) == "Oxford"
    assert unit_of(metro, CAMBRIDGE_UK) == "Cambridge"


def test_daejeon_is_not_in_seoul(metro: Locator) -> None:
    assert unit_of(metro, KAIST) == "Daejeon"
    assert unit_of(metro, SNU) == "Seoul metropolitan area"


def test_los_alamos_and_ithaca_are_science_cities_of_their_own(metro: Locator) -> None:
    assert unit_of(metro, LOS_ALAMOS) == "Los Alamos"
    assert unit_of(metro, CORNELL) == "Ithaca"


# --- The other answers: country, groups, rules, other boundary sets --------------------------------------


def test_location_carries_country_groups_and_rules(metro: Locator) -> None:
    hefei = metro.locate(*USTC)
    assert (hefei.country_code, hefei.country_name) == ("CN", "China")
    assert hefei.groups == (
        ("yangtze-river-delta", "Yangtze River Delta"),
        ("china-mainland", "China mainland"),
        ("asia", "Asia"),
    )
    assert (hefei.boundaries, hefei.boundaries_version) == ("metro", 1)
    assert (
        hefei.place_rule
        == f"GeoNames place whose reach covers the point, else the nearest ({hefei.distance_km:.1f} km)"
    )
    assert 0 < hefei.distance_km < 10


def test_shenzhen_is_in_the_greater_bay_area(metro: Locator) -> None:
    shenzhen = metro.locate(*SUSTECH)
    assert shenzhen.unit.id == "cn-guangdong-shenzhen"
    assert [gid for gid, _ in shenzhen.groups] == ["greater-bay-area", "china-mainland", "asia"]


def test_to_dict_is_flat_and_json_ready(metro: Locator) -> None:
    record = metro.locate(*YALE).to_dict()
    assert json.loads(json.dumps(record)) == record
    assert all(isinstance(v, (str, int, float, list)) or v is None for v in record.values())
    assert record["unit_name"] == "New York metropolitan area"
    assert record["place_geonames_id"] == 4839366
    assert (record["group_ids"], record["group_names"]) == (["north-america"], ["North America"])


def test_city_boundaries_keep_each_place_apart() -> None:
    city = Locator("city")
    tum = city.locate(*TUM_GARCHING)
    assert (tum.unit.id, tum.unit.name, tum.unit.rule) == ("gn-2922582", "Garching bei München", "own city")
    assert (tum.boundaries, tum.boundaries_version) == ("city", 1)
    assert city.locate(*LMU).unit.id != tum.unit.id


def test_shenzhen_is_in_the_greater_bay_area_under_city_boundaries() -> None:
    """Groups that list units name `metro` units; they hold the same places under every boundary set."""
    assert "greater-bay-area" in [gid for gid, _ in Locator("city").locate(*SUSTECH).groups]


def test_a_users_boundary_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nversion: 3\nrules:\n  - rule: place\n", encoding="utf-8")
    where = locate(*OXFORD, boundaries=path)
    assert (where.boundaries, where.boundaries_version, where.unit.rule) == ("mine", 3, "own city")


def test_module_locate_equals_a_locator(metro: Locator) -> None:
    assert locate(*YALE) == metro.locate(*YALE)
    assert locate(*TUM_GARCHING, boundaries="city") == Locator("city").locate(*TUM_GARCHING)


def test_country_restricts_the_places(metro: Locator) -> None:
    # Garching is 100 km from Austria; with country AT the answer is an Austrian place.
    austria = metro.locate(*TUM_GARCHING, country="at")
    assert austria.place.country_code == austria.country_code == "AT"
    assert austria.country_name == "Austria"
    assert austria.distance_km > 50
    assert austria.place_rule.startswith("nearest GeoNames place in AT (")
    germany = metro.locate(*TUM_GARCHING, country="DE")
    assert germany.place == metro.locate(*TUM_GARCHING).place
    assert germany.place_rule.startswith("GeoNames place in DE whose reach covers the point")


# --- Every coordinate on Earth gets an answer ------------------------------------------------------------

GRID = [(float(lat), float(lon)) for lat in range(-90, 91, 15) for lon in range(-180, 181, 15)]
HALF_CIRCUMFERENCE_KM = math.pi * 6371.0088


def test_every_point_of_a_world_grid_is_answered(metro: Locator) -> None:
    points = [*GRID, POINT_NEMO, (0.0, -160.0), (89.9999, 0.0), (-89.9999, 179.9999), (-0.0, -0.0)]
    for point in points:
        where = metro.locate(*point)
        assert math.isfinite(where.distance_km) and 0 <= where.distance_km <= HALF_CIRCUMFERENCE_KM, point
        assert where.unit.id and where.country_name and where.groups, point
        assert f"({where.distance_km:.1f} km" in where.place_rule, point
    nemo = metro.locate(*POINT_NEMO)
    assert nemo.distance_km > 2000 and "none within 30 km" in nemo.place_rule


@pytest.mark.parametrize("latitude", [-75.0, -16.5, 0.0, 51.5, 65.0])
def test_the_antimeridian_is_one_line(metro: Locator, latitude: float) -> None:
    east, west = metro.locate(latitude, 180.0), metro.locate(latitude, -180.0)
    assert east.place == west.place
    assert east.distance_km == pytest.approx(west.distance_km, abs=1e-6)


def test_the_poles_answer_the_same_for_any_longitude(metro: Locator) -> None:
    for pole in (90.0, -90.0):
        places = {metro.locate(pole, lon).place for lon in (-180.0, -90.0, 0.0, 45.0, 180.0)}
        assert len(places) == 1


# --- Bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude", "message", "hint"),
    [
        (91.0, 0.0, "latitude 91 is outside [-90, 90]", "swap the two"),
        (-90.5, 200.0, "latitude -90.5 is outside", "south pole"),
        (0.0, 180.5, "longitude 180.5 is outside [-180, 180]", "give -179.5"),
        (0.0, 360.0, "longitude 360 is outside", "give 0"),
        (0.0, -181.0, "longitude -181 is outside", "from -180 (west)"),
        (math.nan, 0.0, "NaN", "decimal degrees"),
        (0.0, math.inf, "longitude inf is outside", "from -180"),
        ("north", 0.0, "not a coordinate", "decimal degrees"),
    ],
)
def test_bad_coordinates_are_input_errors(
    metro: Locator, latitude: float, longitude: float, message: str, hint: str
) -> None:
    with pytest.raises(InputError) as caught:
        metro.locate(latitude, longitude)
    assert message in caught.value.message
    assert caught.value.hint is not None and hint in caught.value.hint


def test_an_unknown_country_code_is_an_input_error(metro: Locator) -> None:
    with pytest.raises(InputError, match="unknown country code 'XX'") as caught:
        metro.locate(*OXFORD, country="XX")
    assert "drop --country" in str(caught.value.hint)
    with pytest.raises(InputError, match="'GBR'") as caught:
        metro.locate(*OXFORD, country="GBR")
    assert "GB, the code of United Kingdom" in str(caught.value.hint)


def test_a_country_without_places_is_a_geography_error(metro: Locator) -> None:
    with pytest.raises(GeographyError, match=r"no places in BV \(Bouvet Island\)") as caught:
        metro.locate(-54.42, 3.36, country="BV")
    assert "drop --country" in str(caught.value.hint)


def test_clusters_cannot_locate_a_bare_coordinate() -> None:
    with pytest.raises(GeographyError, match="Share of a built store") as caught:
        locate(*YALE, boundaries="clusters")
    assert "--institution ID --store DIR" in str(caught.value.hint)
    assert "metro or city" in str(caught.value.hint)


def test_an_unknown_boundary_set_is_a_geography_error() -> None:
    with pytest.raises(GeographyError, match="unknown boundary set 'nowhere'"):
        Locator("nowhere")


# --- The CLI verb -----------------------------------------------------------------------------------------


def app(context_settings: dict[str, Any] | None = None) -> typer.Typer:
    """A small app with `locate` registered as the main CLI does, plus a second verb so it is a group."""
    cli = typer.Typer()
    cli.command("locate", context_settings=context_settings)(locate_cmd)
    cli.command("other")(lambda: None)
    return cli


runner = CliRunner()


def test_cli_table() -> None:
    result = runner.invoke(app(context_settings=LOCATE_CONTEXT), ["locate", *map(str, YALE)])
    assert result.exit_code == 0, result.output
    for text in ("New Haven", "4839366", "us-csa-408", "New York metropolitan", "United States (US)"):
        assert text in result.output
    assert "North America (north-america)" in result.output


def test_cli_json_with_a_negative_coordinate() -> None:
    result = runner.invoke(
        app(context_settings=LOCATE_CONTEXT), ["locate", "-33.87", "151.21", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["meta"] == {"boundaries": "metro", "boundaries_version": 1, "country_filter": None}
    (row,) = answer["data"]
    assert (row["latitude"], row["longitude"]) == SYDNEY
    assert (row["place_name"], row["country_name"], row["group_ids"]) == ("Sydney", "Australia", ["oceania"])


def test_cli_double_dash_works_without_the_context_settings() -> None:
    result = runner.invoke(app(), ["locate", "--boundaries", "city", "-f", "json", "--", "-33.87", "151.21"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["data"][0]["unit_id"] == "gn-2147714"
    refused = runner.invoke(app(), ["locate", "-33.87", "151.21"])
    assert refused.exit_code == 2 and "No such option" in refused.output


def test_cli_csv_and_country() -> None:
    result = runner.invoke(app(), ["locate", *map(str, TUM_GARCHING), "--country", "at", "-f", "csv"])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(result.output))
    assert row["country_code"] == "AT" and row["group_ids"] == "europe"


def test_cli_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "where.json"
    result = runner.invoke(app(), ["locate", *map(str, USTC), "-f", "json", "--out", str(target)])
    assert result.exit_code == 0, result.output
    row = json.loads(target.read_text(encoding="utf-8"))["data"][0]
    assert row["group_ids"] == ["yangtze-river-delta", "china-mainland", "asia"]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["locate"], InputError, "needs a coordinate"),
        (["locate", "41.3"], InputError, "needs a coordinate"),
        (["locate", "95", "10"], InputError, "latitude 95 is outside"),
        (["locate", "41.3", "-72.9", "--boundaries", "clusters"], GeographyError, "Share of a built store"),
        (["locate", "41.3", "-72.9", "--out", "x.txt"], InputError, "--out needs a file format"),
    ],
)
def test_cli_errors_are_ours(args: list[str], error: type[Exception], message: str) -> None:
    result = runner.invoke(app(context_settings=LOCATE_CONTEXT), args)
    assert isinstance(result.exception, error)
    assert message in str(result.exception)


def test_location_is_a_value(metro: Locator) -> None:
    where = metro.locate(*YALE)
    assert isinstance(where, Location) and hash(where) == hash(metro.locate(*YALE))
    with pytest.raises(AttributeError):
        where.distance_km = 0.0  # type: ignore[misc]
