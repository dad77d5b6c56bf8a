"""Personal data sealed per person and per household: what a reader with, and without, the keys sees."""

from __future__ import annotations

import json

import pytest

from icam_contracts.base import TOLERANT
from icam_contracts.events import InterviewHeld, InvitationSent, OutcomeProposalRejected
from icam_contracts.jsonschema_export import example_payload
from icam_kernel.keyring import LocalKeyring, household_subject, person_subject
from icam_kernel.sealing import ERASED, SEALED_TEXT, Vault, plan_of

pytestmark = pytest.mark.unit

NAMES = ("Amina", "Амина", "أمينة", "a.example@example.org", "+32470123456", "Rue Haute")


def invitation() -> dict:
    data = example_payload(InvitationSent)
    data["members"][0] |= {"given_name": "Amina", "family_name": "Амина أمينة"}
    return data


def interview(notes: str = "Amina (أمينة) says her brother lives in Liège") -> dict:
    return example_payload(InterviewHeld) | {"notes": notes, "topics": ["Amina's health"]}


def test_the_plan_comes_from_the_contract_marks() -> None:
    assert plan_of(InvitationSent).persons == (("members", "*"),)
    plan = plan_of(InterviewHeld)
    assert ("notes", False, False) in plan.texts and ("topics", False, True) in plan.texts
    assert plan_of(OutcomeProposalRejected).texts == (("reason", True, False),)


async def test_no_personal_string_is_left_in_clear_and_the_owner_of_the_keys_reads_it_all() -> None:
    vault = Vault(LocalKeyring())
    for data, model in ((invitation(), InvitationSent), (interview(), InterviewHeld)):
        sealed = await vault.seal(model.event_type, model.event_version, data)
        wire = json.dumps(sealed, ensure_ascii=False)
        assert not [n for n in NAMES if n in wire]
        assert model.model_validate(await vault.open(sealed)) == model.model_validate(data)


async def test_a_reader_without_keys_gets_every_other_field_and_a_valid_event() -> None:
    sealed = await Vault(LocalKeyring()).seal("InvitationSent", 1, invitation())
    event = InvitationSent.model_validate(sealed, context=TOLERANT)
    assert event.region == "brussels" and event.adults == 1
    assert event.members[0].person_id == "8123456" and event.members[0].given_name is None
    assert event.members[0].sealed and event.members[0].sealed.startswith("sealed:v1:")


async def test_once_the_persons_key_is_destroyed_their_fields_stay_empty_and_the_rest_is_whole() -> None:
    keyring = LocalKeyring()
    vault = Vault(keyring)
    sealed = await vault.seal("InvitationSent", 1, invitation())
    keyring.destroy(person_subject("8123456"))
    opened = InvitationSent.model_validate(await vault.open(sealed))
    amina, yasmine = opened.members
    assert amina.given_name is None and amina.contact is None and amina.person_id == "8123456"
    assert yasmine.given_name == "Yasmine"  # another person's key: untouched


async def test_an_erased_households_texts_read_erased_and_the_event_stays_valid() -> None:
    keyring = LocalKeyring()
    vault = Vault(keyring)
    data = example_payload(OutcomeProposalRejected) | {"reason": "Amina's file is incomplete"}
    sealed = await vault.seal("OutcomeProposalRejected", 1, data)
    assert sealed["reason"] == SEALED_TEXT
    keyring.destroy(household_subject(data["household_id"]))
    assert OutcomeProposalRejected.model_validate(await vault.open(sealed)).reason == ERASED
    notes = await vault.seal("InterviewHeld", 2, interview())
    keyring.destroy(household_subject(notes["household_id"]))
    opened = InterviewHeld.model_validate(await vault.open(notes))
    assert opened.notes is None and opened.topics == ()


async def test_sealing_twice_changes_nothing_and_a_payload_without_personal_data_is_untouched() -> None:
    vault = Vault(LocalKeyring())
    sealed = await vault.seal("InvitationSent", 1, invitation())
    assert await vault.seal("InvitationSent", 1, sealed) == sealed
    plain = {"household_id": "h", "anything": 1}
    assert await vault.seal("NoSuchEvent", 1, plain) is plain
