"""`sciencecities city NAME` as a user runs it."""

from __future__ import annotations

import json

import pytest
from test_cli import cli

from sciencecities import Store

pytestmark = pytest.mark.slow

EDITION = "nature-index"


def test_city_verb_json(demo: Store) -> None:
    result = cli("city", "Boston", "--store", str(demo.root), "--years", "2015-2024", "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["summary"]["id"] == "us-csa-148" and payload["meta"]["edition"] == EDITION
    assert {"by_year", "subjects", "institutions"} <= set(payload)
    table = cli("city", "Hefei", "--store", str(demo.root))
    assert table.returncode == 0 and "Hefei (cn-anhui-hefei)" in table.stdout
