"""The composition root: nothing connects when the app is built, and the API documents itself."""

from __future__ import annotations

import pytest

from icam_auth import AuthSettings
from icam_auth.policy import ROUTES
from icam_case.app import create_app
from icam_case.config import CaseSettings, Topics
from icam_kernel.service import ServiceSettings

pytestmark = pytest.mark.unit


def test_the_app_is_built_without_connecting_and_every_route_has_a_summary():
    settings = CaseSettings(
        service=ServiceSettings(
            service_name="case", database_url="postgresql://nowhere/none", kafka_bootstrap="nowhere:1"
        ),
        topics=Topics.with_prefix("t."),
    )
    app = create_app(settings, AuthSettings(issuer="icam-local", audience="icam", jwks=""))
    paths = app.openapi()["paths"]
    case_routes = {p: ops for p, ops in paths.items() if not p.startswith(("/health", "/metrics"))}
    declared = {(m.upper(), p) for p, ops in case_routes.items() for m in ops}
    assert declared == {(r.method, r.path) for r in ROUTES if r.service == "case"}
    assert all(op.get("summary") for ops in case_routes.values() for op in ops.values())
    assert settings.topics.invitation == "t.icam.invitation.events"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/case")
    monkeypatch.setenv("ICAM_TOPIC_PREFIX", "dev.")
    monkeypatch.setenv("CASE_NO_SHOW_THRESHOLD", "3")
    settings = CaseSettings.from_env()
    assert (settings.topics.case, settings.no_show_threshold) == ("dev.icam.case.events", 3)
    assert settings.office_for("liege") == "liege"
