"""The worker-process model: several workers serve one port, and none outlives its supervisor."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmipd.cli.devcerts import ensure_dev_pki
from kmipd.protocol.enums import Operation, ResultStatus
from tests.integration.conftest import batch_item, free_port, kmip_call, kmip_request, results

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _config(directory: Path, port: int, *, key: str = "server.key") -> Path:
    path = directory / "kmipd.toml"
    path.write_text(
        f'[server]\nport = {port}\nworkers = 2\nshutdown_timeout = 2\n'
        f'[tls]\ncertificate = "pki/server.pem"\nprivate_key = "pki/{key}"\nca = "pki/ca.pem"\n'
        '[store]\nurl = "sqlite:///kmipd.db"\n'
    )
    return path


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kmipd", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_for_workers(process: subprocess.Popen[bytes], count: int, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = _children(process.pid)
        if len(workers) == count:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers, found {_children(process.pid)}")


def _wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.timeout(60)
def test_two_workers_serve_and_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    ensure_dev_pki(tmp_path / "pki")
    port = free_port()
    process = _start(_config(tmp_path, port))
    try:
        workers = _wait_for_workers(process, 2)
        _wait_for_port(port)
        # Both workers listen on the one port: connections succeed however the kernel spreads them.
        pki = tmp_path / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        context.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))
        for _ in range(8):
            raw = socket.create_connection(("127.0.0.1", port))
            with context.wrap_socket(raw, server_hostname="localhost") as sock:
                request = kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS))
                [answer] = results(kmip_call(sock, request))
                assert answer.status == ResultStatus.SUCCESS
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "a worker outlived its supervisor"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.timeout(60)
def test_bad_tls_settings_stop_the_server_with_one_line(tmp_path: Path) -> None:
    ensure_dev_pki(tmp_path / "pki")
    process = _start(_config(tmp_path, free_port(), key="client.key"))  # the key does not match the certificate
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmipd: cannot start: TLS setup failed"), err
