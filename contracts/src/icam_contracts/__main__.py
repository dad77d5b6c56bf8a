"""Command line: ``icam-contracts generate`` writes the artefacts; ``check`` guards them in CI.

* ``generate`` — writes ``schemas/*.json``, ``asyncapi.yaml`` and the catalogue section of
  ``README.md``; refuses when a published schema would change incompatibly.
* ``check`` — fails when a committed artefact differs from what the models generate (drift), or
  when the current schemas break the published ones (the compatibility gate). The published
  schemas are the committed ``schemas/`` files, or with ``--baseline-ref REF`` those of a git
  revision (e.g. ``origin/main``), which also catches a schema edited by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from icam_contracts import readme
from icam_contracts.asyncapi import build_document, render_yaml
from icam_contracts.compatibility import BreakingChange, compare_schema_sets
from icam_contracts.jsonschema_export import all_schemas, render_json

DEFAULT_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.yaml"
README_FILE = "README.md"


def expected_artefacts(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` (the contracts folder) and its expected text."""
    files = {root / SCHEMAS_DIR / name: render_json(schema) for name, schema in all_schemas().items()}
    files[root / ASYNCAPI_FILE] = render_yaml(build_document())
    readme_path = root / README_FILE
    files[readme_path] = readme.fill(readme_path.read_text(encoding="utf-8"))
    return files


def committed_schemas(root: Path) -> dict[str, dict[str, Any]]:
    """The schemas in ``root/schemas`` now, by file name."""
    folder = root / SCHEMAS_DIR
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def schemas_at_revision(root: Path, revision: str) -> dict[str, dict[str, Any]]:
    """The schemas in ``root/schemas`` at git ``revision``."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout

    names = git("ls-tree", "--name-only", revision, f"{SCHEMAS_DIR}/").split()
    return {
        Path(name).name: json.loads(git("show", f"{revision}:./{name}"))
        for name in names
        if name.endswith(".json")
    }


def drift(root: Path) -> list[str]:
    """Committed artefacts that differ from the generated ones, and stale schema files."""
    problems = []
    expected = expected_artefacts(root)
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"missing: {path.relative_to(root)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {path.relative_to(root)}")
    for path in sorted((root / SCHEMAS_DIR).glob("*.json")):
        if path not in expected:
            problems.append(f"stale (no model generates it): {path.relative_to(root)}")
    return problems


def gate(root: Path, baseline_ref: str | None) -> list[BreakingChange]:
    """Breaking changes of the current schemas against the published ones."""
    published = committed_schemas(root) if baseline_ref is None else schemas_at_revision(root, baseline_ref)
    return compare_schema_sets(published, all_schemas())


def generate(root: Path, *, allow_breaking: bool) -> int:
    """Write every artefact; refuse (exit 1) on a breaking change unless allowed."""
    changes = gate(root, None)
    if changes and not allow_breaking:
        _report("refusing to overwrite published schemas; make a new version instead", changes)
        return 1
    expected = expected_artefacts(root)
    (root / SCHEMAS_DIR).mkdir(exist_ok=True)
    for path in (root / SCHEMAS_DIR).glob("*.json"):
        if path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(expected)} artefacts under {root}")
    return 0


def check(root: Path, *, baseline_ref: str | None) -> int:
    """Exit 0 when the artefacts are current and compatible with the published schemas."""
    problems = drift(root)
    changes = gate(root, baseline_ref)
    for problem in problems:
        print(f"drift: {problem}", file=sys.stderr)
    if problems:
        print("run: uv run python -m icam_contracts generate", file=sys.stderr)
    if changes:
        _report("breaking changes to published schemas", changes)
    if not problems and not changes:
        print("contracts: artefacts current, no breaking change")
    return 1 if problems or changes else 0


def _report(title: str, changes: Sequence[BreakingChange]) -> None:
    print(f"{title}:", file=sys.stderr)
    for change in changes:
        print(f"  {change}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m icam_contracts`` and of the ``icam-contracts`` script."""
    parser = argparse.ArgumentParser(
        prog="icam-contracts", description="ICAM event contracts: generate and check artefacts."
    )
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the contracts folder")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write schemas, AsyncAPI and README catalogue")
    gen.add_argument(
        "--allow-breaking",
        action="store_true",
        help="overwrite published schemas incompatibly (only for versions never released)",
    )
    chk = commands.add_parser("check", help="fail on drift or breaking changes")
    chk.add_argument("--baseline-ref", help="git revision whose schemas are the published ones")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.command == "generate":
        return generate(root, allow_breaking=args.allow_breaking)
    return check(root, baseline_ref=args.baseline_ref)


if __name__ == "__main__":
    sys.exit(main())
