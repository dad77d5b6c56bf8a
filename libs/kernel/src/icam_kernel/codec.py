"""JSON on the kernel's hot paths: appends, the relay's envelopes, consumers' records, rebuilds.

orjson (issue 16): the standard `json` module was the largest share of a rebuild's time and a
fifth of the relay's. What these paths encode is already JSON-shaped (pydantic's `mode="json"`
dumps, actors, stored `jsonb` text), so orjson's stricter rules (string keys, 64-bit integers)
hold; it writes UTF-8 instead of `\\u` escapes, which PostgreSQL's `jsonb` and every JSON reader
take alike. Command-line output and rarely written rows keep the standard module.
"""

from __future__ import annotations

from typing import Any

import orjson

loads = orjson.loads


def dumps(value: Any) -> str:
    """Compact JSON text (a `jsonb` parameter, a stored actor)."""
    return orjson.dumps(value).decode()


def dumps_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (a Kafka value, a sealed plaintext)."""
    return orjson.dumps(value)


def copy(value: Any) -> Any:
    """A deep copy of a JSON value (cheaper than `copy.deepcopy` for plain data)."""
    return orjson.loads(orjson.dumps(value))
