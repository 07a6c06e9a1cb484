"""Schema-driven fuzz of the API (Schemathesis strategies run by Hypothesis): requests generated from the OpenAPI
schema, fitting it and breaking it, sent to the real server on loopback; none may get a 5xx, and every JSON
answer of a 2xx must fit its schema. (Schemathesis's pytest plugin is not used: its lazy fixture loader reads a
pytest private attribute that pytest 9 removed.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from web.live import Server

EXAMPLES = 150
"""Cases per generation mode, over all operations: every parameter gets good and bad values, and the fuzz runs in
well under a minute on 2 cores (the first request of a query computes; repeats are answered from the cache)."""


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(server: Server, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    seen: dict[str, int] = {}

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=server.url, timeout=60)
        seen[case.operation.label] = seen.get(case.operation.label, 0) + 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query}: {response.status_code} {response.text[:500]}"
        )
        json_reply = response.headers.get("content-type", [""])[0].startswith("application/json")
        if mode is GenerationMode.POSITIVE and response.status_code < 300 and json_reply:
            case.validate_response(response, checks=[response_schema_conformance])

    check()
    assert len(seen) >= 10  # the cases reached most operations, not one
