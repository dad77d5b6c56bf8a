"""The committed artefacts: JSON Schemas, AsyncAPI document, README catalogue, CLI.

``asyncapi-3.0.0-schema.json`` is ``schemas/3.0.0-without-$id.json`` from the npm package
``@asyncapi/specs`` 6.11.1: the bundled variant whose ``$ref``s all point inside the file
(``#/definitions/...``), so it validates offline; ``3.0.0.json`` resolves through ``$id`` URLs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from icam_contracts.__main__ import main
from icam_contracts.asyncapi import channel_id
from icam_contracts.base import Event
from icam_contracts.jsonschema_export import example_envelope, example_payload, schema_file_name
from icam_contracts.registry import EVENT_CLASSES
from icam_contracts.topics import TOPICS

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).resolve().parents[1]
SCHEMAS = CONTRACTS / "schemas"
ASYNCAPI_SPEC = Path(__file__).with_name("asyncapi-3.0.0-schema.json")
EVENTS = pytest.mark.parametrize("event", EVENT_CLASSES, ids=lambda cls: cls.schema_name())


def committed(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def asyncapi_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text("utf-8"))
    return loaded


def asyncapi_validator() -> Draft7Validator:
    return Draft7Validator(json.loads(ASYNCAPI_SPEC.read_text(encoding="utf-8")))


@EVENTS
def test_each_example_payload_validates_against_its_committed_json_schema(
    event: type[Event],
) -> None:
    schema = committed(schema_file_name(event))

    validator(schema).validate(example_payload(event))
    for example in schema["examples"]:
        validator(schema).validate(example)


@EVENTS
def test_each_example_envelope_validates_against_the_committed_envelope_schema(
    event: type[Event],
) -> None:
    validator(committed("EventEnvelope.v1.json")).validate(example_envelope(event))


def test_the_json_schema_rejects_a_closure_for_another_reason_without_text() -> None:
    schema = committed("TrajectoryClosed.v1.json")
    closed = schema["examples"][0] | {"reason": "other", "reason_text": None}

    with pytest.raises(ValidationError):
        validator(schema).validate(closed)


def test_the_json_schema_rejects_a_wrong_enum_value_and_a_missing_required_field() -> None:
    schema = committed("OutcomeDecided.v1.json")
    example = schema["examples"][0]

    with pytest.raises(ValidationError):
        validator(schema).validate(example | {"outcome": "maybe"})
    with pytest.raises(ValidationError):
        validator(schema).validate({k: v for k, v in example.items() if k != "case_id"})


def test_the_asyncapi_document_validates_against_the_official_3_0_0_schema() -> None:
    document = asyncapi_document()

    errors = list(asyncapi_validator().iter_errors(document))

    assert document["asyncapi"] == "3.0.0"
    assert errors == []


def test_the_asyncapi_validator_does_reject_a_wrong_document() -> None:
    document = asyncapi_document()
    next(iter(document["operations"].values()))["action"] = "publish"  # 2.x wording

    assert list(asyncapi_validator().iter_errors(document))


def test_the_asyncapi_document_covers_every_topic_message_publisher_and_subscriber() -> None:
    document = asyncapi_document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    messages = set(document["components"]["messages"])
    operations = document["operations"]

    for topic in TOPICS:
        assert {topic.name, topic.dlq} <= addresses
        channel = channel_id(topic.name)
        assert operations[f"{topic.publisher}.send.{channel}"]["action"] == "send"
        for service in topic.subscribers:
            assert operations[f"{service}.receive.{channel}"]["action"] == "receive"
    assert {cls.schema_name() for cls in EVENT_CLASSES} <= messages


def test_the_committed_artefacts_have_not_drifted_from_the_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check"]) == 0, capsys.readouterr().err


def test_the_check_fails_when_a_committed_schema_was_edited_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(SCHEMAS, root / "schemas")
    shutil.copy(CONTRACTS / "asyncapi.yaml", root / "asyncapi.yaml")
    shutil.copy(CONTRACTS / "README.md", root / "README.md")
    edited = root / "schemas" / "InvitationCancelled.v1.json"
    schema = json.loads(edited.read_text(encoding="utf-8"))
    schema["properties"]["withdrawn_by"] = {"type": "string"}
    schema["required"].append("withdrawn_by")
    edited.write_text(json.dumps(schema), encoding="utf-8")

    assert main(["--root", str(root), "check"]) == 1

    err = capsys.readouterr().err
    assert "out of date: schemas/InvitationCancelled.v1.json" in err


def test_generate_refuses_to_overwrite_a_published_schema_incompatibly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(SCHEMAS, root / "schemas")
    shutil.copy(CONTRACTS / "README.md", root / "README.md")
    published = root / "schemas" / "InvitationCancelled.v1.json"
    schema = json.loads(published.read_text(encoding="utf-8"))
    schema["properties"]["cancelled_by"] = {"type": "string"}  # the model has no such field
    published.write_text(json.dumps(schema), encoding="utf-8")

    assert main(["--root", str(root), "generate"]) == 1

    assert "InvitationCancelled.v1.json: cancelled_by: field removed" in capsys.readouterr().err
    assert not (root / "asyncapi.yaml").exists()


def test_the_gate_can_compare_with_the_schemas_of_a_git_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(SCHEMAS, root / "schemas")
    shutil.copy(CONTRACTS / "asyncapi.yaml", root / "asyncapi.yaml")
    shutil.copy(CONTRACTS / "README.md", root / "README.md")
    published = root / "schemas" / "ReferralRejected.v1.json"
    current = published.read_text(encoding="utf-8")
    schema = json.loads(current)
    schema["properties"]["rejected_by"] = {"type": "string"}
    published.write_text(json.dumps(schema), encoding="utf-8")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "published"], check=True)
    published.write_text(current, encoding="utf-8")  # committed artefacts now match the models

    assert main(["--root", str(root), "check"]) == 0
    assert main(["--root", str(root), "check", "--baseline-ref", "HEAD"]) == 1

    assert "ReferralRejected.v1.json: rejected_by: field removed" in capsys.readouterr().err
