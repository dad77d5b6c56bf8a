"""The compatibility gate: what may change in an event version once it is published.

A published version is read by two kinds of reader at once: our own services replaying old
events with the current model (*backward*), and outside subscribers reading new events with the
schema they downloaded (*forward*). A change must keep both working, so these are **breaking**:

* a field removed, or a field that was required becoming optional;
* a new required field, or an optional field becoming required;
* a type changed, narrowed (a type no longer accepted) or widened (a new type, e.g. null);
* an enum value removed **or added** — a strict subscriber validating against the committed
  schema, or switching exhaustively, rejects a value it has never seen. Open sets are therefore
  reference-data codes, not enums;
* a validation constraint changed (pattern, format, length, bounds, const), or a conditional
  rule (``if``/``then``) changed;
* a published schema removed.

Compatible: a new optional field (schemas are open and subscribers ignore unknown fields), new
descriptions, titles or examples, new event types, new versions. An incompatible change is made
as a new version with an upcaster (``upcasting.py``), never in place.

``breaking_changes`` is a pure function over two JSON Schemas; it understands what pydantic
emits (``$ref`` into ``$defs``, ``anyOf`` unions, ``enum``, objects and arrays).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

Schema = Mapping[str, Any]

CONSTRAINTS: Final = (
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "multipleOf",
    "const",
)
CONDITIONALS: Final = ("if", "then", "else", "allOf", "not")
_MAX_DEPTH: Final = 64


@dataclass(frozen=True)
class BreakingChange:
    """One incompatible difference between a published schema and the current one."""

    schema: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.schema}: {self.path or '(root)'}: {self.message}"


class _Differ:
    def __init__(self, old_root: Schema, new_root: Schema, name: str) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.name = name
        self.changes: list[BreakingChange] = []

    def add(self, path: str, message: str) -> None:
        self.changes.append(BreakingChange(self.name, path, message))

    def compare(self, old: Schema, new: Schema, path: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise ValueError(f"schema nesting deeper than {_MAX_DEPTH} at {path}")
        old_variants = _variants(old, self.old_root)
        new_variants = _variants(new, self.new_root)
        if len(old_variants) == 1 and len(new_variants) == 1:
            self.compare_node(old_variants[0], new_variants[0], path, depth)
            return
        old_by_kind = {_kind(v): v for v in old_variants}
        new_by_kind = {_kind(v): v for v in new_variants}
        for kind in old_by_kind.keys() - new_by_kind.keys():
            self.add(path, f"type narrowed: {kind} no longer accepted")
        for kind in new_by_kind.keys() - old_by_kind.keys():
            self.add(path, f"type widened: {kind} now allowed, which old readers reject")
        for kind in old_by_kind.keys() & new_by_kind.keys():
            self.compare_node(old_by_kind[kind], new_by_kind[kind], path, depth)

    def compare_node(self, old: Schema, new: Schema, path: str, depth: int) -> None:
        old_kind, new_kind = _kind(old), _kind(new)
        if old_kind != new_kind:
            self.add(path, f"type changed from {old_kind} to {new_kind}")
            return
        self.compare_enum(old.get("enum"), new.get("enum"), path)
        for keyword in CONSTRAINTS:
            if old.get(keyword) != new.get(keyword):
                self.add(path, f"{keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}")
        for keyword in CONDITIONALS:
            if _canonical(old.get(keyword)) != _canonical(new.get(keyword)):
                self.add(path, f"conditional rule {keyword!r} changed")
        self.compare_properties(old, new, path, depth)
        if "items" in old and "items" in new:
            self.compare(old["items"], new["items"], f"{path}[]", depth + 1)
        elif "items" in old or "items" in new:
            self.add(path, "array item schema added or removed")

    def compare_enum(self, old: Any, new: Any, path: str) -> None:
        if old is None and new is None:
            return
        if old is None:
            self.add(path, "now restricted to an enum")
            return
        if new is None:
            self.add(path, "enum restriction removed: any value now allowed")
            return
        removed = [value for value in old if value not in new]
        added = [value for value in new if value not in old]
        if removed:
            self.add(path, f"enum values removed: {removed}")
        if added:
            self.add(path, f"enum values added: {added} (strict subscribers reject them)")

    def compare_properties(self, old: Schema, new: Schema, path: str, depth: int) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_prop in old_props.items():
            child = f"{path}.{name}" if path else name
            if name not in new_props:
                self.add(child, "field removed")
                continue
            if name in new_required - old_required:
                self.add(child, "optional field became required")
            if name in old_required - new_required:
                self.add(child, "required field became optional (old readers expect it)")
            self.compare(old_prop, new_props[name], child, depth + 1)
        for name in new_props.keys() - old_props.keys():
            if name in new_required:
                self.add(f"{path}.{name}" if path else name, "new required field")


def _resolve(node: Schema, root: Schema) -> Schema:
    """``node`` with its ``$ref`` (local JSON pointer) replaced by the target, siblings kept."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node = {**target, **siblings}
    return node


def _variants(node: Schema, root: Schema) -> list[Schema]:
    node = _resolve(node, root)
    union = node.get("anyOf") or node.get("oneOf")
    if not union:
        return [node]
    return [variant for member in union for variant in _variants(member, root)]


def _kind(node: Schema) -> str:
    declared = node.get("type")
    if isinstance(declared, list):
        return "|".join(sorted(declared))
    if isinstance(declared, str):
        return declared
    if "enum" in node:
        return "enum"
    if "properties" in node:
        return "object"
    return "any"


def _canonical(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def breaking_changes(old: Schema, new: Schema, *, name: str = "schema") -> list[BreakingChange]:
    """Every change from the published schema ``old`` to ``new`` that breaks a reader."""
    differ = _Differ(old, new, name)
    differ.compare(old, new, "")
    return differ.changes


def compare_schema_sets(
    published: Mapping[str, Schema], current: Mapping[str, Schema]
) -> list[BreakingChange]:
    """Breaking changes across all schemas, by name; a published schema may never disappear."""
    changes: list[BreakingChange] = []
    for name, old in sorted(published.items()):
        if name not in current:
            changes.append(BreakingChange(name, "", "published schema removed"))
            continue
        changes.extend(breaking_changes(old, current[name], name=name))
    return changes
