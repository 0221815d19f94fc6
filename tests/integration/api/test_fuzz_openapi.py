"""Fuzzing the whole API from its own OpenAPI document: no answer is ever a 500.

Every operation is called with generated requests (valid and invalid) as an admin, who may
reach everything, through a fresh token each time (so an operation that signs out or revokes
cannot lock the fuzzer out). The live feed is a never-ending stream and is tested on its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import NOW, build_community

_DATA = tempfile.TemporaryDirectory(prefix="shouwang-fuzz-")
COMMUNITY = build_community(Path(_DATA.name), live_max_s=0.2, live_poll_s=0.05)
schema = schemathesis.openapi.from_asgi("/openapi.json", COMMUNITY.client.app).exclude(
    path="/events")


@schemathesis.serializer("text/csv")
def csv_body(_context: Any, value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else str(value).encode()


def fresh_admin_token() -> str:
    return COMMUNITY.state.registry.issue_token(COMMUNITY.staff["admin"].id, name="fuzz",
                                                now=NOW)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {fresh_admin_token()}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                              response_schema_conformance])
