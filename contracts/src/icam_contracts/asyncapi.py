"""The AsyncAPI 3.0.0 document: every topic, message, header, publisher and subscriber.

Built from the same models and topic map as the JSON Schemas, so it cannot drift from them.
Each message's payload is the envelope whose ``data`` is that event version's schema; its headers
are the Kafka headers of ``envelope.py``; its key is the aggregate id. Operations: the owning
service *sends* on its topic; each subscribing service *receives* from it (consumer group
``icam-<service>``) and *sends* poison messages to the topic's dead-letter channel.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

import yaml

from icam_contracts import envelope as env
from icam_contracts.base import Event
from icam_contracts.jsonschema_export import (
    ENVELOPE_SCHEMA_NAME,
    envelope_schema,
    event_schema,
    example_envelope,
)
from icam_contracts.registry import events_on
from icam_contracts.topics import DLQ_RETENTION_MS, TOPICS, Topic, consumer_group

ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
HEADERS_SCHEMA: Final = "KafkaHeaders"
DLQ_HEADERS_SCHEMA: Final = "DeadLetterHeaders"
DEAD_LETTER_MESSAGE: Final = "DeadLetter"


def _contracts_version() -> str:
    try:
        return version("icam-contracts")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def channel_id(topic_name: str) -> str:
    """``icam.case.events`` → ``caseEvents``; ``icam.case.events.dlq`` → ``caseEventsDlq``."""
    parts = topic_name.removeprefix("icam.").split(".")
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _hoist(schema: dict[str, Any], name: str, schemas: dict[str, Any]) -> None:
    """Put ``schema`` under ``name`` and its ``$defs`` beside it in ``components.schemas``."""
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$defs")}
    for def_name, definition in schema.get("$defs", {}).items():
        definition = _rewrite_refs(definition)
        if schemas.setdefault(def_name, definition) != definition:
            raise ValueError(f"two different schemas are both called {def_name}")
    schemas[name] = _rewrite_refs(body)


def _header_schemas() -> dict[str, Any]:
    routing = {
        env.HEADER_EVENT_TYPE: {"type": "string", "description": "Event type name."},
        env.HEADER_EVENT_VERSION: {"type": "string", "pattern": "^[1-9][0-9]*$"},
        env.HEADER_EVENT_ID: {"type": "string", "format": "uuid", "description": "Dedupe on it."},
        env.HEADER_CORRELATION_ID: {"type": "string", "description": "The household journey."},
        env.HEADER_CAUSATION_ID: {"type": "string", "description": "What caused the event."},
        env.HEADER_CONTENT_TYPE: {"type": "string", "const": env.CONTENT_TYPE_JSON},
    }
    dead_letter = {name: {"type": "string"} for name in env.DLQ_HEADERS}
    return {
        HEADERS_SCHEMA: {
            "type": "object",
            "description": "Kafka headers of every event message (UTF-8 strings).",
            "properties": routing,
            "required": list(routing),
        },
        DLQ_HEADERS_SCHEMA: {
            "type": "object",
            "description": "The original headers plus why and where handling failed.",
            "properties": {**routing, **dead_letter},
            "required": [env.HEADER_DLQ_ERROR, env.HEADER_DLQ_CONSUMER_GROUP],
        },
    }


def _message(event: type[Event]) -> dict[str, Any]:
    name = event.schema_name()
    example = example_envelope(event)
    return {
        "name": event.event_type,
        "title": f"{event.event_type} v{event.event_version}",
        "summary": (event.__doc__ or "").strip().splitlines()[0],
        "description": (event.__doc__ or "").strip(),
        "contentType": env.CONTENT_TYPE_JSON,
        "correlationId": {"location": f"$message.header#/{env.HEADER_CORRELATION_ID}"},
        "headers": {
            "allOf": [
                _ref("components", "schemas", HEADERS_SCHEMA),
                {
                    "properties": {
                        env.HEADER_EVENT_TYPE: {"const": event.event_type},
                        env.HEADER_EVENT_VERSION: {"const": str(event.event_version)},
                    }
                },
            ]
        },
        "payload": {
            "allOf": [
                _ref("components", "schemas", ENVELOPE_SCHEMA_NAME),
                {
                    "properties": {
                        "event_type": {"const": event.event_type},
                        "event_version": {"const": event.event_version},
                        "data": _ref("components", "schemas", name),
                    }
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The {event.key_field}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": f"{event.event_type}-example",
                "headers": env.EventEnvelope.model_validate(example).header_values(),
                "payload": example,
            }
        ],
    }


def _channel(topic: Topic, messages: dict[str, Any], *, dlq: bool) -> dict[str, Any]:
    address = topic.dlq if dlq else topic.name
    config: dict[str, Any] = {"cleanup.policy": [topic.cleanup_policy]}
    config["retention.ms"] = DLQ_RETENTION_MS if dlq else topic.retention_ms
    description = (
        f"Dead letters of {topic.name}: messages a subscriber could not handle, unchanged."
        if dlq
        else f"{topic.description} Ordering: {topic.ordering}. Delivery: at least once."
    )
    return {
        "address": address,
        "title": address,
        "description": description,
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": address,
                "partitions": topic.partitions,
                "replicas": topic.replication_factor,
                "topicConfiguration": config,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(action: str, service: str, channel: str, messages: list[str]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": _ref("channels", channel),
        "title": f"{service} {action}s {channel}",
        "messages": [_ref("channels", channel, "messages", m) for m in messages],
    }
    if action == "receive":
        group = {"type": "string", "enum": [consumer_group(service)]}
        operation["bindings"] = {"kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING_VERSION}}
    return operation


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the whole platform, as a JSON-like dict."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    _hoist(envelope_schema(), ENVELOPE_SCHEMA_NAME, schemas)
    schemas.update(_header_schemas())
    messages[DEAD_LETTER_MESSAGE] = {
        "name": DEAD_LETTER_MESSAGE,
        "summary": "A message a subscriber could not handle, with the reason in its headers.",
        "headers": _ref("components", "schemas", DLQ_HEADERS_SCHEMA),
        "payload": {"description": "The original message value, byte for byte."},
    }
    for topic in TOPICS:
        names = []
        for event in events_on(topic.name):
            _hoist(event_schema(event), event.schema_name(), schemas)
            messages[event.schema_name()] = _message(event)
            names.append(event.schema_name())
        cid, dlq_cid = channel_id(topic.name), channel_id(topic.dlq)
        channel_messages = {n: _ref("components", "messages", n) for n in names}
        channels[cid] = _channel(topic, channel_messages, dlq=False)
        dead = {DEAD_LETTER_MESSAGE: _ref("components", "messages", DEAD_LETTER_MESSAGE)}
        channels[dlq_cid] = _channel(topic, dead, dlq=True)
        operations[f"{topic.publisher}.send.{cid}"] = _operation("send", topic.publisher, cid, names)
        for service in topic.subscribers:
            operations[f"{service}.receive.{cid}"] = _operation("receive", service, cid, names)
            operations[f"{service}.send.{dlq_cid}"] = _operation(
                "send", service, dlq_cid, [DEAD_LETTER_MESSAGE]
            )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "ICAM event platform",
            "version": _contracts_version(),
            "description": (
                "Public events of the ICAM (Individual Case Management) trajectory of the "
                "Immigration Office's Alternatives to Detention department. See the subscriber's "
                "guide in contracts/README.md. Personal data is sealed (AES-256-GCM): fields marked "
                "`x-personal-data: person` (each PersonalData object, keeping only person_id and "
                "is_minor in clear) and `x-personal-data: household` (free texts, moved into the "
                "event's `sealed` map) carry `sealed:v1:<key id>:<nonce>:<ciphertext>` values; "
                "subscribers with a grant obtain the keys at POST /api/keys/release (audited) and "
                "forget a person on PersonalDataErased (icam.privacy.events)."
            ),
        },
        "defaultContentType": env.CONTENT_TYPE_JSON,
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "Single-node local Kafka; deployments give their own bootstrap.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": dict(sorted(schemas.items())), "messages": messages},
    }


def render_yaml(document: dict[str, Any]) -> str:
    """The canonical YAML text of the document."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
