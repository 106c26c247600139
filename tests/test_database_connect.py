"""A PostgreSQL server that never answers fails a connection within the set timeout."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy.exc import OperationalError

from surveys import database


def test_a_silent_postgresql_server_fails_the_connection_instead_of_hanging(monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setattr(database, "PG_CONNECT_TIMEOUT_S", 2, raising=False)  # libpq's least
    errors: list[Exception] = []

    def connect(engine) -> None:
        try:
            engine.connect()
        except OperationalError as exc:
            errors.append(exc)

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, then says nothing
        url = f"postgresql+psycopg://pmh@127.0.0.1:{silent.getsockname()[1]}/pmh"
        engine = database.make_engine(url)
        attempt = threading.Thread(target=connect, args=(engine,), daemon=True)
        attempt.start()
        attempt.join(timeout=8)
        gave_up = not attempt.is_alive()
    attempt.join(timeout=10)  # the closed socket ends a hanging attempt too
    engine.dispose()
    assert gave_up, "the connection waited on a silent server past its timeout"
    assert len(errors) == 1
