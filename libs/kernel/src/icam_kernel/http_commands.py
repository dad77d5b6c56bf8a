"""What a command route needs, in one dependency: the caller, the journey hint, the retry key.

    @router.post("/cases/{case_id}/suspend", status_code=202)
    async def suspend(case_id: CaseId, body: SuspendIn, command: Command) -> CommandAccepted:
        result = await command.execute(CASE, str(case_id), lambda case: domain.suspend(case, ...), body=body)
        return CommandAccepted.of(result)

`Idempotency-Key` (header) and a client-chosen id (`client_id=("interview_id", body.interview_id)`)
mean the same thing: the same key with the same request answers the original result again
(`Idempotent-Replayed: true`), also after a restart; with a different request, 422.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from icam_auth import Principal
from icam_auth.fastapi import CurrentPrincipal
from icam_contracts.base import Event
from icam_kernel import idempotency
from icam_kernel.application import Application, Caller, CommandResult, Decider

S = TypeVar("S")

REPLAYED_HEADER = "Idempotent-Replayed"


class CommandAccepted(BaseModel):
    """Where the command left its stream. Pass `position` as `min_position` to the next query to
    read your own write; `correlation_id` is the household's journey."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stream_id": "9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d",
                    "stream_version": 3,
                    "position": 1042,
                    "events": ["InterviewHeld"],
                    "correlation_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10",
                    "household_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10",
                    "command_id": "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607",
                    "id": "0b7e3f7c-1a2b-4c3d-9e8f-7a6b5c4d3e2f",
                }
            ]
        }
    )

    stream_id: str = Field(description="The stream the command acted on.")
    stream_version: int = Field(description="Its version after the command.")
    position: int = Field(description="Global position of the last event written (read-your-writes).")
    events: list[str] = Field(description="Types of the events the command recorded.")
    correlation_id: str = Field(description="The household's journey id.")
    household_id: str | None = Field(description="The household the command is about.")
    command_id: str = Field(description="The command's id: the causation id of its events.")
    id: str | None = Field(default=None, description="The id of what the command created, if anything.")

    @classmethod
    def fields_of(cls, result: CommandResult) -> dict[str, Any]:
        return {
            "stream_id": result.stream_id,
            "stream_version": result.stream_version,
            "position": result.position,
            "events": list(result.events),
            "correlation_id": result.correlation_id,
            "household_id": result.household_id,
            "command_id": result.command_id,
            "id": result.created_id,
            **result.extra,
        }

    @classmethod
    def of(cls, result: CommandResult) -> CommandAccepted:
        return cls(**cls.fields_of(result))


@dataclass
class CommandContext:
    """The caller of one command route, bound to the service's application."""

    request: Request
    response: Response
    principal: Principal
    correlation_hint: str | None
    idempotency_key: str | None

    @property
    def application(self) -> Application:
        app: Application = self.request.app.state.application
        return app

    async def execute(
        self,
        decider: Decider[S],
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        *,
        body: BaseModel | None = None,
        client_id: tuple[str, object | None] | None = None,
        **options: Any,
    ) -> CommandResult:
        """Run the command through the application's one path; replays set `Idempotent-Replayed`."""
        caller = Caller(
            self.principal, correlation_hint=self.correlation_hint, idempotency=self._key(body, client_id)
        )
        route = self.request.scope.get("route")
        command = f"{self.request.method} {getattr(route, 'path', self.request.url.path)}"
        result = await self.application.execute(
            decider, stream_id, decide, caller, command=command, **options
        )
        if result.replayed:
            self.response.headers[REPLAYED_HEADER] = "true"
        return result

    def _key(
        self, body: BaseModel | None, client_id: tuple[str, object | None] | None
    ) -> idempotency.Key | None:
        content = body.model_dump_json().encode() if body is not None else b""
        method, path = self.request.method, self.request.url.path
        if self.idempotency_key:
            key = f"header:{self.principal.subject}:{self.idempotency_key}"
            return idempotency.Key.of(key, method, path, content)
        if client_id is not None and client_id[1] is not None:
            name, value = client_id
            return idempotency.Key.of(f"{name}:{value}", method, path, content, field=name)
        return None


async def command_context(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=idempotency.HEADER,
            min_length=1,
            max_length=200,
            description="Names this request: a retry with the same key and body answers the first result.",
        ),
    ] = None,
    correlation: Annotated[
        uuid.UUID | None,
        Header(
            alias="X-Correlation-ID",
            description="A journey id to use at the household's first contact (a UUID); ignored after.",
        ),
    ] = None,
) -> CommandContext:
    return CommandContext(
        request, response, principal, str(correlation) if correlation else None, idempotency_key
    )


Command = Annotated[CommandContext, Depends(command_context)]
