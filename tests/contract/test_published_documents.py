"""Documents other teams build on are generated from the code and committed; each test fails when
the committed copy drifts from what the code declares now."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from icam_gateway import openapi_document
from icam_kernel.problems import catalogue, render_markdown

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = (
    "icam_case.domain.errors",
    "icam_case.moves",
    "icam_case.domain.documents",
    "icam_case.documents",
    "icam_invitation.domain.errors",
    "icam_referral.domain.errors",
    "icam_privacy.domain.errors",
    "icam_gateway.proxy",
)


def test_the_gateways_committed_openapi_is_what_the_services_and_the_route_table_declare() -> None:
    assert openapi_document.committed() == openapi_document.render(), (
        "run `uv run python -m icam_gateway.openapi_document` and commit the result"
    )


def test_every_gateway_operation_has_a_unique_operation_id_and_a_tag() -> None:
    document = openapi_document.committed()
    assert document is not None
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(op.get("tags") for op in operations)


def test_docs_problems_lists_every_problem_type_the_code_can_answer() -> None:
    for module in DOMAINS:
        importlib.import_module(module)
    expected = render_markdown(catalogue())
    assert (ROOT / "docs" / "problems.md").read_text() == expected, (
        f"run `uv run python -m icam_kernel.problems docs/problems.md {' '.join(DOMAINS)}`"
    )
