"""``guanghe serve --workers``: several processes on one port over PostgreSQL; refused on SQLite."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from guanghe.cli.app import main
from guanghe.runtime import Runtime


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_share_the_port_on_postgresql(
    runtime: Runtime, token_for: Callable[..., str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "GUANGHE_DATA_DIR": str(runtime.settings.data_dir),
        "GUANGHE_DATABASE_URL": runtime.settings.resolved_database_url,
    }
    log = runtime.settings.data_dir / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "guanghe", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two processes importing the app on a busy box
        while True:
            try:
                assert httpx.get(base + "/healthz", timeout=2).json() == {"status": "ok"}
                break
            except httpx.HTTPError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no answer within 180 s"
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token_for('operator')}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            assert all(client.get("/v1/creators").status_code == 200 for _ in range(20))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_workers_are_refused_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GUANGHE_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--workers", "2"])
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith(
        "needs PostgreSQL (GUANGHE_DATABASE_URL): SQLite takes one writer at a time"
    )
    assert "Traceback" not in error
