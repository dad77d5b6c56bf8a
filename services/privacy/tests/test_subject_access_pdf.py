"""The subject access export as a PDF a person can read: any script, long values wrapped."""

from __future__ import annotations

import pytest

from icam_privacy.subject_access import pdf

pytestmark = pytest.mark.unit


def test_names_in_three_scripts_and_an_unbroken_ciphertext_render_on_pages() -> None:
    event = {
        "occurred_at": "2026-12-01T10:00:00+00:00",
        "event_type": "CaseOpened",
        "data": {
            "given_name": "Zhyldyz Зульфия",
            "family_name": "القاسمي",
            "sealed": "sealed:v1:" + "A" * 900,
        },
    }
    document = {
        "person_id": "OE1",
        "exported_at": "2026-12-01T11:00:00+00:00",
        "privacy": {"data_keys": [{"key_id": "k", "destroyed_at": None}]},
        "services": {"case": {"household_ids": ["h"], "events": [event], "stores": {"caseload": [{"a": 1}]}}},
    }
    rendered = pdf(document)
    assert rendered.startswith(b"%PDF") and rendered.rstrip().endswith(b"%%EOF")
