"""Country names and continents (GeoNames), shipped with the package."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.csv as pacsv


@cache
def countries() -> pa.Table:
    """ISO 3166 alpha-2 code, alpha-3, name, continent, GeoNames id and population (codes like NA stay text)."""
    path = resources.files("sciencecities").joinpath("data/countries.csv")
    with resources.as_file(path) as file:
        return pacsv.read_csv(
            file,
            convert_options=pacsv.ConvertOptions(
                column_types={
                    "country_code": pa.string(),
                    "iso3": pa.string(),
                    "name": pa.string(),
                    "continent": pa.string(),
                    "geonameid": pa.int64(),
                    "population": pa.int64(),
                },
                strings_can_be_null=False,
                null_values=[],
            ),
        )
