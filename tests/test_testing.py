"""typedredis.testing: choosing a server binary, starting and stopping private servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from typedredis.errors import ConfigurationError
from typedredis.testing import RedisServer, binary_version, find_server_binary


def fake_server(directory: Path, name: str, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f'#!/bin/sh\necho "Redis server v={version} sha=00000000:0 malloc=libc bits=64"\n')
    path.chmod(0o755)
    return path


def test_the_newest_server_wins_whatever_the_path_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_server(tmp_path / "venv-bin", "redis-server", "6.2.14")
    new = fake_server(tmp_path / "usr-bin", "redis-server", "7.0.15")
    monkeypatch.delenv("TYPEDREDIS_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join([str(old.parent), str(new.parent)]))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert find_server_binary() == str(new)
    assert binary_version(str(old)) == (6, 2, 14)
    monkeypatch.setenv("TYPEDREDIS_REDIS_SERVER", str(old))
    assert find_server_binary() == str(old)


def test_a_server_owns_its_directory_only_while_it_runs() -> None:
    server = RedisServer()
    assert not server.directory.exists()
    with server:
        assert server.socket.exists()
        assert server.client().ping()
        directory = server.directory
    assert not directory.exists()


def test_a_killed_server_restarts_with_its_append_only_data() -> None:
    with RedisServer(appendonly=True) as server:
        pid = server.pid
        with server.client() as raw:
            raw.set("kept", "1")
        server.kill()  # SIGKILL, as a crash would
        assert not server.running and server.socket.parent.exists()
        server.restart()
        assert server.pid != pid
        with server.client() as raw:
            assert raw.get("kept") == b"1"
        server.shutdown()
        server.restart()
        with server.client() as raw:
            assert raw.get("kept") == b"1"
        directory = server.directory
    assert not directory.exists()


def test_restart_refuses_a_running_server() -> None:
    with RedisServer() as server, pytest.raises(ConfigurationError, match="kill"):
        server.restart()


def test_a_server_that_cannot_start_is_a_configuration_error_and_leaves_nothing() -> None:
    server = RedisServer(args=("--no-such-option", "x"))
    with pytest.raises(ConfigurationError, match="exited"):
        server.start()
    assert not server.directory.exists()
