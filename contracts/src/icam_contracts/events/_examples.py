"""Example values shared by the field examples of the catalogue, so example payloads agree."""

from typing import Any, Final

from icam_contracts.personal_data import CHILD_PERSONAL_DATA_EXAMPLE, PERSONAL_DATA_EXAMPLE

HOUSEHOLD_ID: Final = "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"
INVITATION_ID: Final = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
PREVIOUS_INVITATION_ID: Final = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
REQUEST_ID: Final = "2b7d9a10-64c4-4f0e-8d55-0f4c5b6a7d81"
VISIT_ID: Final = "3c8e0b21-75d5-4a1f-9e66-1a5d6c7b8e92"
CASE_ID: Final = "9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"
INTERVIEW_ID: Final = "4d9f1c32-86e6-4b20-8f77-2b6e7d8c9fa3"
ELEMENT_ID: Final = "5ea02d43-97f7-4c31-9088-3c7f8e9d0ab4"
DECISION_ID: Final = "6fb13e54-a808-4d42-a199-4d809fae1bc5"
PREVIOUS_DECISION_ID: Final = "70c24f65-b919-4e53-b2aa-5e91a0bf2cd6"
REFERRAL_ID: Final = "81d35076-ca2a-4f64-83bb-6fa2b1c03de7"
NOTIFICATION_ID: Final = "92e46187-db3b-4075-94cc-70b3c2d14ef8"
CAUSING_EVENT_ID: Final = "0d1f6a52-3c8e-4a7b-9f2e-6e3c2f1b9a01"
ERASURE_ID: Final = "a3f57298-ec4d-4186-95dd-81c4d3e25f09"
KEY_ID: Final = "b4068309-fd5e-4297-a6ee-92d5e4f36a1a"
HOLD_ID: Final = "c5179410-0e6f-43a8-b7ff-a3e6f5047b2b"
ERASED_AT: Final = "2028-03-11T10:00:00+01:00"

APPOINTMENT_AT: Final = "2026-03-11T10:00:00+01:00"
PERSON_ID: Final = PERSONAL_DATA_EXAMPLE["person_id"]
MEMBERS: Final[list[dict[str, Any]]] = [PERSONAL_DATA_EXAMPLE, CHILD_PERSONAL_DATA_EXAMPLE]
ATTENDEES: Final[list[dict[str, Any]]] = [
    {"person_id": PERSONAL_DATA_EXAMPLE["person_id"], "member_role": "adult"},
    {"person_id": CHILD_PERSONAL_DATA_EXAMPLE["person_id"], "member_role": "minor"},
]
PROVENANCE: Final[dict[str, Any]] = {
    "decided_by": "coach-4711",
    "role": "coach",
    "legal_basis": "Law of 15 December 1980, art. 74/2 (alternatives to detention)",
    "policy_version": "icam-guidelines-2024.2",
}
