"""Every problem type the platform answers with: `urn:icam:problem:<kind>`, one stable list.

The kernel's own kinds are below; each domain's refusals are the subclasses of
`icam_kernel.errors.DomainError` (their `code`). `catalogue()` gathers both, and
`docs/problems.md` is rendered from it (a test fails when the document drifts), so a client
author finds every type, its status and what it means in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from icam_kernel.errors import DomainError

PREFIX = "urn:icam:problem:"


@dataclass(frozen=True, order=True)
class ProblemType:
    kind: str
    status: int
    title: str
    meaning: str
    owner: str

    @property
    def uri(self) -> str:
        return PREFIX + self.kind


# status → (kind, title) for errors raised as HTTP exceptions (authentication, routing)
HTTP_KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    414: ("uri-too-long", "URI too long"),
}

KERNEL: tuple[ProblemType, ...] = (
    ProblemType("bad-request", 400, "Bad request", "The request cannot be read as HTTP.", "kernel"),
    ProblemType("invalid-path", 400, "Invalid path", "The path holds control characters.", "kernel"),
    ProblemType("unauthenticated", 401, "Unauthenticated", "No bearer token, or not a valid one.", "kernel"),
    ProblemType(
        "forbidden",
        403,
        "Forbidden",
        "The caller's role, region or organisation does not allow it.",
        "kernel",
    ),
    ProblemType(
        "not-found",
        404,
        "Not found",
        "No such resource, or not one the caller may see; or no such route.",
        "kernel",
    ),
    ProblemType(
        "method-not-allowed", 405, "Method not allowed", "The route exists for other methods.", "kernel"
    ),
    ProblemType(
        "wrong-expected-version",
        409,
        "Concurrent change",
        "The stream moved since the version the caller decided on (`current_version`).",
        "kernel",
    ),
    ProblemType(
        "conflict",
        409,
        "Conflicts with the current state",
        "The current state refuses the command.",
        "kernel",
    ),
    ProblemType(
        "payload-too-large",
        413,
        "Payload too large",
        "The body is over the configured limit (`limit_bytes`).",
        "kernel",
    ),
    ProblemType(
        "uri-too-long", 414, "URI too long", "The path and query are over the configured limit.", "kernel"
    ),
    ProblemType(
        "validation",
        422,
        "Invalid request",
        "Fields do not validate; `field` and `errors[].field` name them.",
        "kernel",
    ),
    ProblemType(
        "malformed-json",
        422,
        "Malformed JSON",
        "The body is not JSON; `line` and `column` say where.",
        "kernel",
    ),
    ProblemType(
        "domain-rule-violation",
        422,
        "Refused by a business rule",
        "A rule refuses the command; `field` names the input at fault.",
        "kernel",
    ),
    ProblemType(
        "internal-error",
        500,
        "Internal error",
        "The service failed; the body names the `request_id` its log has, never the error's text.",
        "kernel",
    ),
    ProblemType(
        "stale-read-model",
        503,
        "Read model not yet up to date",
        "The read model has not reached `min_position` yet: retry (Retry-After).",
        "kernel",
    ),
    ProblemType(
        "key-custodian-unavailable",
        503,
        "Key custodian unavailable",
        "Personal data cannot be sealed or opened while the privacy service is unreachable: retry.",
        "kernel",
    ),
    ProblemType(
        "service-unavailable",
        503,
        "Service unavailable",
        "The gateway could not reach the owning service: retry.",
        "gateway",
    ),
    ProblemType(
        "service-timeout",
        504,
        "Service timeout",
        "The owning service did not answer in time: retry.",
        "gateway",
    ),
    ProblemType("bad-gateway", 502, "Bad gateway", "The owning service failed.", "gateway"),
    ProblemType("not-ready", 503, "Not ready", "The gateway cannot reach its audit database.", "gateway"),
)


def _subclasses(root: type[DomainError]) -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    for cls in root.__subclasses__():
        found += [cls, *_subclasses(cls)]
    return found


def _first_sentence(doc: str | None) -> str:
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def catalogue() -> list[ProblemType]:
    """The kernel's kinds and every domain refusal imported so far, one per kind, sorted."""
    kinds = {p.kind: p for p in KERNEL}
    classes: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    for cls in classes:
        if cls.code in kinds:
            continue
        doc = _first_sentence(cls.__doc__) or cls.title
        owner = cls.__module__.split(".")[0].removeprefix("icam_")
        kinds[cls.code] = ProblemType(cls.code, cls.status, cls.title, doc, owner)
    return sorted(kinds.values(), key=lambda p: (p.owner != "kernel", p.owner, p.status, p.kind))


def render_markdown(types: list[ProblemType]) -> str:
    lines = [
        "# Problem types",
        "",
        "Every error the gateway and the services answer is `application/problem+json` (RFC 9457)",
        "with `type` = `urn:icam:problem:<kind>`. Generated from `icam_kernel.problems.catalogue()`;",
        "a test fails when this file drifts from the code.",
        "",
        "| type | status | title | meaning | raised by |",
        "|---|---|---|---|---|",
    ]
    for p in types:
        lines.append(f"| `{p.uri}` | {p.status} | {p.title} | {p.meaning} | {p.owner} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """`python -m icam_kernel.problems OUT MODULE...`: import the modules that define refusals,
    write the catalogue to OUT."""
    import importlib
    import sys
    from pathlib import Path

    out, *modules = argv if argv is not None else sys.argv[1:]
    for module in modules:
        importlib.import_module(module)
    Path(out).write_text(render_markdown(catalogue()))


if __name__ == "__main__":
    main()
