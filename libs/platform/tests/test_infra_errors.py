"""The infrastructure manager explains each failure and what to do about it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from icam_platform.infra import InfraError, kafka
from icam_platform.infra.process import free_port
from icam_platform.settings import InfraSettings

pytestmark = pytest.mark.unit


def settings_in(tmp_path: Path, port: int | None = None) -> InfraSettings:
    base = InfraSettings.from_env(tmp_path / "home")
    port = port or free_port()
    return InfraSettings(
        home=base.home,
        kafka_port=port,
        kafka_controller_port=free_port(),
        kafka_version="4.1.1",
        kafka_heap="256m",
        cache_dir=tmp_path / "cache",
        external_kafka=None,
        external_database_url=None,
    )


def test_a_taken_kafka_port_is_refused_with_the_port_and_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        with pytest.raises(InfraError, match=rf"port {taken} .*ICAM_KAFKA_PORT"):
            kafka.start(settings_in(tmp_path, taken))


def test_missing_java_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InfraError, match=r"Java is missing.*JAVA_HOME"):
        kafka.java_executable()


def test_missing_maven_names_the_tarball_alternative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InfraError, match=r"Maven .* is missing.*binary tarball"):
        kafka.resolve_jars(settings_in(tmp_path))


def test_unreachable_maven_repository_is_reported_with_mavens_own_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = tmp_path / "settings.xml"
    offline.write_text(
        "<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>"
        "<url>http://127.0.0.1:9/</url></mirror></mirrors></settings>"
    )
    monkeypatch.setenv("ICAM_MAVEN_ARGS", f"-s {offline} -Dmaven.repo.local={tmp_path / 'm2'}")
    with pytest.raises(InfraError, match="Maven could not resolve"):
        kafka.resolve_jars(settings_in(tmp_path))


def test_the_single_node_config_is_combined_kraft_on_loopback_with_replication_one(
    tmp_path: Path,
) -> None:
    props = dict(
        line.split("=", 1)
        for line in kafka.server_properties(settings_in(tmp_path)).splitlines()
        if line and not line.startswith("#")
    )
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"].startswith("PLAINTEXT://127.0.0.1:")
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
