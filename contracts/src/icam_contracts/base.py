"""Base classes shared by every contract model.

Extra fields: producers are strict, subscribers are tolerant.

* Constructing a model in Python (``InvitationSent(...)``) forbids unknown fields
  (``extra="forbid"``), so a publisher cannot ship a typo.
* Parsing with ``registry.parse`` (or ``Model.model_validate(payload, context=TOLERANT)``) drops
  fields the model does not know, at every nesting level, so a subscriber keeps working when a
  producer adds an optional field to the same version.
* The published JSON Schemas are open (no ``additionalProperties: false``), which states the same
  rule to subscribers in other languages: ignore what you do not know.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

TOLERANT: Final[dict[str, bool]] = {"ignore_unknown_fields": True}
"""Validation context under which unknown fields are dropped instead of rejected."""

CODE_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

RegionCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description="Code of an ICAM region, from reference data (``reference.py``).",
        examples=["brussels"],
    ),
]
OfficeCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description="Code of an ICAM office, from reference data.",
        examples=["brussels"],
    ),
]
DeskCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description="Code of a walk-in desk (guichet / loket), from reference data.",
        examples=["brussels_pacheco"],
    ),
]
PartnerCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description="Code of a return partner, from reference data (open set since the 2024 law).",
        examples=["fedasil"],
    ),
]
SubjectId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Subject of the actor's token (coach, team lead, partner user).",
        examples=["coach-4711"],
    ),
]


class Contract(BaseModel):
    """A frozen, strictly constructed, tolerantly parsed part of the public contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_fields_when_tolerant(cls, data: Any, info: ValidationInfo) -> Any:
        context = info.context
        if not (isinstance(context, dict) and context.get("ignore_unknown_fields")):
            return data
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        known |= {f.alias for f in cls.model_fields.values() if f.alias}
        return {key: value for key, value in data.items() if key in known}


class Event(Contract):
    """The data of one published event: one class per event type and version.

    Class attributes say where the event goes: ``topic`` and ``key_field``, the name of the field
    holding the aggregate id used as Kafka key (and as ``stream_id`` in the envelope).
    """

    event_type: ClassVar[str]
    event_version: ClassVar[int]
    topic: ClassVar[str]
    key_field: ClassVar[str]

    household_id: UUID = Field(
        description=(
            "The household (one person alone, or a family) this event is about; given at first "
            "contact and carried by every later event of its journey."
        ),
        examples=["5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"],
    )

    sealed: dict[str, str] | None = Field(
        default=None,
        description=(
            "In the store and on the topics: this event's free texts that may describe someone "
            "(the fields marked ``x-personal-data: household``), each sealed under the household's "
            "data key (``sealed:v1:<key id>:<nonce>:<ciphertext>``), by field name. The fields "
            "themselves then hold ``[sealed]`` (required texts) or nothing; absent once opened."
        ),
        examples=[None],
    )

    def key(self) -> str:
        """The Kafka key: the aggregate id of this event, as a string."""
        return str(getattr(self, self.key_field))

    @classmethod
    def schema_name(cls) -> str:
        """File stem and component name of this event version, e.g. ``InvitationSent.v1``."""
        return f"{cls.event_type}.v{cls.event_version}"
