"""Resources the gateway's routes share, opened in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
from fastapi import Request

from icam_gateway.config import GatewaySettings


@dataclass
class Runtime:
    settings: GatewaySettings
    pool: asyncpg.Pool
    client: httpx.AsyncClient


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt
