"""schemathesis walks every operation of every service's OpenAPI, and of the gateway's composed
document, against the platform as processes: whatever it sends, no 5xx, and the status codes,
content types and bodies are the documented ones (problem+json for every error).

Bounded (`ICAM_FUZZ_EXAMPLES`, default 4 per operation) so that the suite stays in budget; a larger
run is `ICAM_FUZZ_EXAMPLES=200 ./scripts/test tests/e2e/test_openapi_fuzz.py`. Valid input a
business rule refuses (an unknown case, a slot in the past) is a documented 4xx, so the
"positive data is accepted" check is the one left out.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from icam_auth import Role
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("ICAM_FUZZ_EXAMPLES", "4"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _schema(platform: PlatformUnderTest, name: str) -> schemathesis.BaseSchema:
    url = (
        platform.gateway_url
        if name == "gateway"
        else next(s.url for s in platform.services if s.name == name)
    )
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


def _headers(platform: PlatformUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.token(Role.TEAM_LEAD, 'lead-fuzz', 'brussels')}"}


def fuzz(platform: PlatformUnderTest, api: str) -> None:
    """Every operation of `api`, with hypothesis examples from its schema; failures gathered so
    that one run names every operation that misbehaves."""
    failures = []
    for found in _schema(platform, api).get_all_operations():
        operation = found.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=_headers(platform), excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("api", ["invitation", "case", "referral", "notification", "gateway"])
def test_every_operation_answers_as_documented_whatever_it_is_sent(
    platform_under_test: PlatformUnderTest, api: str
) -> None:
    fuzz(platform_under_test, api)
