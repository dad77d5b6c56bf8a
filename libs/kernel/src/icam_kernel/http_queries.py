"""Paging parameters every list query takes, bounded so that no client value reaches the
database out of range (an offset past int64 is a 422 problem, never a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_PAGE = 200
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (at most {MAX_PAGE}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
