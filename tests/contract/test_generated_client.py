"""The gateway's committed OpenAPI document is usable: a well-known generator (openapi-python-client)
makes a client of it without a warning, with a function for every operation, and the client passes
`mypy --strict`, with code that uses it, while code that misuses it is rejected."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "services" / "gateway"
DOCUMENT = GATEWAY / "src" / "icam_gateway" / "openapi.json"
CONFIG = GATEWAY / "openapi-python-client.yaml"
PACKAGE = "icam_gateway_client"

USAGE = """
import datetime

from icam_gateway_client import AuthenticatedClient
from icam_gateway_client.api.invitation import invitation_send_invitation_invitations_post as send_invitation
from icam_gateway_client.api.views import caseload_view_api_views_caseload_get as caseload_view
from icam_gateway_client.models import (
    Channel,
    CommandAccepted,
    InvitationMemberIn,
    MemberRole,
    PageCaseloadItem,
    Problem,
    SendInvitationIn,
)


def invite(client: AuthenticatedClient) -> str:
    body = SendInvitationIn(
        appointment_at=datetime.datetime(2026, 3, 11, 10, tzinfo=datetime.UTC),
        channels=[Channel.POSTAL_LETTER, Channel.EMAIL],
        members=[InvitationMemberIn(role=MemberRole.ADULT, person_id="7412345")],
    )
    answer = send_invitation.sync(client=client, body=body, idempotency_key="invite-7412345")
    if isinstance(answer, CommandAccepted):
        return answer.stream_id
    if isinstance(answer, Problem):
        raise RuntimeError(f"{answer.status} {answer.title}: {answer.detail}")
    raise RuntimeError("no answer")


def offices_of_the_caseload(client: AuthenticatedClient) -> list[str]:
    page = caseload_view.sync(client=client, region="brussels", limit=20)
    if isinstance(page, PageCaseloadItem):
        return [item.office for item in page.items if item.adults > 0]
    return []


client = AuthenticatedClient(base_url="http://127.0.0.1:8100", token="a-jwt")
print(invite(client), offices_of_the_caseload(client))
"""

# every `.sync(` call is a misuse (an int for the model, a str for an int) that mypy must name by its line
MISUSE = """
from icam_gateway_client import AuthenticatedClient
from icam_gateway_client.api.invitation import invitation_send_invitation_invitations_post as send_invitation
from icam_gateway_client.api.views import caseload_view_api_views_caseload_get as caseload_view

client = AuthenticatedClient(base_url="http://127.0.0.1:8100", token="a-jwt")
send_invitation.sync(client=client, body=42)
caseload_view.sync(client=client, limit="twenty")
"""


def _operations() -> list[dict[str, Any]]:
    document = json.loads(DOCUMENT.read_text())
    return [op for ops in document["paths"].values() for op in ops.values()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client, generated into a fresh folder (which is then the folder to type-check in)."""
    work = tmp_path_factory.mktemp("client")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(DOCUMENT),
            "--output-path",
            str(work / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(CONFIG),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower(), output
    return work


def _mypy(work: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` on the generated package and `targets`, from `work` and with no configuration
    file (the workspace's own does not apply to generated code); one cache for every run."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            "",
            "--strict",
            "--python-version",
            "3.11",
            "--cache-dir",
            str(work / ".mypy_cache"),
            PACKAGE,
            *targets,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_the_generator_makes_a_function_for_every_operation_of_every_tag(generated: Path) -> None:
    operations = _operations()
    expected = Counter(op["tags"][0] for op in operations)
    modules = [m for m in (generated / PACKAGE / "api").glob("*/*.py") if m.name != "__init__.py"]
    assert Counter(m.parent.name for m in modules) == expected
    assert len(modules) == len(operations)


def test_the_client_and_code_using_it_pass_strict_type_checking(generated: Path) -> None:
    (generated / "usage.py").write_text(textwrap.dedent(USAGE))
    run = _mypy(generated, "usage.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout


def test_code_that_misuses_the_client_is_rejected(generated: Path) -> None:
    (generated / "misuse.py").write_text(textwrap.dedent(MISUSE))
    run = _mypy(generated, "misuse.py")
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert {line.split(":")[0] for line in errors} == {"misuse.py"}, run.stdout
    flagged = {int(line.split(":")[1]) for line in errors}
    lines = textwrap.dedent(MISUSE).splitlines()
    misuses = {n for n, line in enumerate(lines, start=1) if ".sync(" in line}
    assert flagged == misuses, run.stdout
    assert all("[arg-type]" in line for line in errors), run.stdout
