"""Tests of the pure-Python oracle: hand-computed YAML worlds plus direct edge cases."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from reference import load_jsonl, reference_metrics, strip_id

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
TOLERANCE = 1e-12


def load_case(path: Path) -> dict[str, Any]:
    """Load one YAML world; the unknown-country key (YAML null, or the string "null") becomes None."""
    case: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    countries = case["expect"]["country"]
    case["expect"]["country"] = {
        (None if key in (None, "null") else key): value for key, value in countries.items()
    }
    return case


def run_case(case: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Run the oracle on a loaded world with its options (plus any overrides)."""
    options = {**(case.get("options") or {}), **overrides}
    return reference_metrics(case["works"], case.get("institutions") or [], **options)


def assert_entities(actual: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]]) -> None:
    """Same keys, exactly equal Counts, Shares within TOLERANCE."""
    assert set(actual) == set(expected)
    for key, want in expected.items():
        assert actual[key]["count"] == want["count"], key
        assert actual[key]["share"] == pytest.approx(want["share"], abs=TOLERANCE), key


def make_work(work_id: str, year: int | None, *authors: list[str], **fields: Any) -> dict[str, Any]:
    """A minimal eligible work whose i-th author is affiliated with the institution ids in authors[i]."""
    work: dict[str, Any] = {
        "id": f"https://openalex.org/{work_id}",
        "type": "article",
        "publication_year": year,
        "authorships": [
            {"institutions": [{"id": f"https://openalex.org/{inst}"} for inst in ids]} for ids in authors
        ],
    }
    work.update(fields)
    return work


def test_there_are_enough_cases() -> None:
    assert len(CASE_FILES) >= 6


@pytest.mark.parametrize("case_path", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_case_matches_hand_computed_expectation(case_path: Path) -> None:
    case = load_case(case_path)
    result = run_case(case)
    assert_entities(result["institution"], case["expect"]["institution"])
    assert_entities(result["country"], case["expect"]["country"])


@pytest.mark.parametrize("case_path", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_case_conserves_shares(case_path: Path) -> None:
    """Institution, country and per-work Shares have the same total; by default each work gives 1 or 0."""
    case = load_case(case_path)
    result = run_case(case)
    institution_total = math.fsum(entry["share"] for entry in result["institution"].values())
    country_total = math.fsum(entry["share"] for entry in result["country"].values())
    work_total = math.fsum(result["work_shares"].values())
    assert institution_total == pytest.approx(work_total, abs=TOLERANCE)
    assert country_total == pytest.approx(work_total, abs=TOLERANCE)
    if not (case.get("options") or {}).get("count_unaffiliated"):
        for share in result["work_shares"].values():
            assert share == pytest.approx(1.0, abs=TOLERANCE) or share == 0.0


def test_strip_id() -> None:
    assert strip_id("https://openalex.org/W123") == "W123"
    assert strip_id("W123") == "W123"
    assert strip_id(None) is None
    assert strip_id("") is None
    assert strip_id("https://openalex.org/") is None


def test_load_jsonl_plain_and_gzip(tmp_path: Path) -> None:
    text = json.dumps({"id": "W1"}) + "\n\n   \n" + json.dumps({"id": "W2"}) + "\n"
    plain = tmp_path / "works.jsonl"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "works.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write(text)
    assert load_jsonl(plain) == [{"id": "W1"}, {"id": "W2"}]
    assert load_jsonl(str(packed)) == [{"id": "W1"}, {"id": "W2"}]


def test_load_jsonl_rejects_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "W1"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        load_jsonl(path)


def test_large_work_with_1200_authors() -> None:
    """1,000 authors at I1 alone and 200 at I1 and I2: I1 = 1000/1200 + 200/2400 = 11/12, I2 = 1/12."""
    work = make_work("W1", 2020, *([["I1"]] * 1000 + [["I1", "I2"]] * 200))
    entities = [{"id": "I1", "country_code": "US"}, {"id": "I2", "country_code": "US"}]
    result = reference_metrics([work], entities)
    assert result["institution"]["I1"]["share"] == pytest.approx(11 / 12, abs=TOLERANCE)
    assert result["institution"]["I2"]["share"] == pytest.approx(1 / 12, abs=TOLERANCE)
    assert result["institution"]["I1"]["count"] == 1
    assert result["institution"]["I2"]["count"] == 1
    total = result["institution"]["I1"]["share"] + result["institution"]["I2"]["share"]
    assert total == pytest.approx(1.0, abs=TOLERANCE)
    assert result["country"] == {"US": {"count": 1, "share": pytest.approx(1.0, abs=TOLERANCE)}}
    assert result["work_shares"]["W1"] == pytest.approx(1.0, abs=TOLERANCE)


def test_single_years_and_window() -> None:
    """Per-year figures (hand-computed in the YAML comments) and a window that sums them."""
    case = load_case(CASES_DIR / "unknown_country_two_years.yaml")
    third = {"count": 1, "share": 1 / 3}
    quarter = {"count": 1, "share": 1 / 4}
    half = {"count": 1, "share": 1 / 2}
    in_2019 = run_case(case, years=(2019, 2019))
    assert_entities(in_2019["institution"], {"I1": third, "I2": third, "I3": third})
    assert_entities(in_2019["country"], {"US": third, "IT": third, None: third})
    in_2020 = run_case(case, years=(2020, 2020))
    assert_entities(in_2020["institution"], {"I1": quarter, "I3": quarter, "I4": half})
    assert_entities(in_2020["country"], {"US": quarter, None: {"count": 1, "share": 3 / 4}})
    whole = run_case(case, years=(2019, 2020))
    assert_entities(whole["institution"], case["expect"]["institution"])
    assert_entities(whole["country"], case["expect"]["country"])
    assert run_case(case, years=(2021, 2030)) == {"institution": {}, "country": {}, "work_shares": {}}


def test_eligibility_edges() -> None:
    """A null year, a capitalised type and is_retracted/is_paratext false or missing."""
    works = [
        make_work("W1", None, ["I1"]),
        make_work("W2", 2020, ["I1"], type="Article"),
        make_work("W3", 2020, ["I2"], is_retracted=False, is_paratext=False),
        make_work("W4", 2020, ["I2"]),
    ]
    result = reference_metrics(works)
    assert set(result["institution"]) == {"I2"}
    assert result["institution"]["I2"]["count"] == 2
    assert set(result["work_shares"]) == {"W3", "W4"}


def test_no_credit_works_are_listed_with_zero_share() -> None:
    case = load_case(CASES_DIR / "unaffiliated.yaml")
    assert run_case(case)["work_shares"] == {"W1": 1.0, "W2": 0.0, "W3": 0.0}


def test_country_from_newest_embedded_record_and_entity_precedence() -> None:
    """The newest work record carrying a country wins; a non-null entity country beats any embedded one."""
    older = make_work("W1", 2020, [], updated_date="2024-01-01")
    older["authorships"] = [
        {"institutions": [{"id": "I1", "country_code": "DE"}, {"id": "I2", "country_code": "DE"}]}
    ]
    newer = make_work("W2", 2020, [], updated_date="2025-01-01")
    newer["authorships"] = [
        {"institutions": [{"id": "I1", "country_code": "AT"}, {"id": "I2", "country_code": None}]}
    ]
    result = reference_metrics([newer, older])
    assert set(result["country"]) == {"AT", "DE"}
    assert result["country"]["AT"]["share"] == pytest.approx(1.0, abs=TOLERANCE)
    assert result["country"]["DE"]["share"] == pytest.approx(1.0, abs=TOLERANCE)
    overridden = reference_metrics([newer, older], [{"id": "https://openalex.org/I1", "country_code": "CH"}])
    assert overridden["country"]["CH"] == {"count": 2, "share": pytest.approx(1.0, abs=TOLERANCE)}


def test_empty_input() -> None:
    assert reference_metrics([]) == {"institution": {}, "country": {}, "work_shares": {}}
