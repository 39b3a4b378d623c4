"""Unit tests: logic with fakes, no network (sockets are blocked)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change LMS_* variables for one test; cached settings are reset before and after."""
    from lms.settings import reset_settings

    reset_settings()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()
