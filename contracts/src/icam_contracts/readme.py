"""The generated part of ``contracts/README.md``: the catalogue with one example per event."""

from __future__ import annotations

import json
from typing import Final

from icam_contracts.jsonschema_export import example_payload, schema_file_name
from icam_contracts.registry import events_on
from icam_contracts.topics import TOPICS

BEGIN: Final = "<!-- BEGIN GENERATED CATALOGUE: python -m icam_contracts generate -->"
END: Final = "<!-- END GENERATED CATALOGUE -->"


class MissingMarkers(ValueError):
    """The README has no generated section to fill."""


def catalogue_markdown() -> str:
    """Markdown of every topic and event version, with the example data of each."""
    lines: list[str] = []
    for topic in TOPICS:
        lines += [
            f"### `{topic.name}`",
            "",
            f"Published by **{topic.publisher}**; consumed by "
            + ", ".join(f"**{s}**" for s in topic.subscribers)
            + f". Dead letters: `{topic.dlq}`.",
            "",
            "| event | version | key | what happened |",
            "|---|---|---|---|",
        ]
        classes = events_on(topic.name)
        for event in classes:
            summary = (event.__doc__ or "").strip().splitlines()[0]
            lines.append(f"| {event.event_type} | {event.event_version} | `{event.key_field}` | {summary} |")
        lines.append("")
        for event in classes:
            lines += [
                f"#### {event.event_type} v{event.event_version}",
                "",
                f"Schema: [`schemas/{schema_file_name(event)}`](schemas/{schema_file_name(event)})."
                " Example `data`:",
                "",
                "```json",
                json.dumps(example_payload(event), indent=2, ensure_ascii=False),
                "```",
                "",
            ]
    return "\n".join(lines)


def fill(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current catalogue."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise MissingMarkers(f"README needs the lines {BEGIN!r} and {END!r}")
    head, tail = readme[: start + len(BEGIN)], readme[end:]
    return f"{head}\n\n{catalogue_markdown()}\n{tail}"
