"""Several worker processes sharing the listening ports, so that the server uses every core.

One Twisted reactor runs on one core. The supervisor reserves the ports (bound
with SO_REUSEPORT, not listening), prepares the store, and starts ``workers``
copies of ``kmipd serve``, each listening on the same ports with SO_REUSEPORT:
the kernel spreads new connections evenly over the workers (a single shared
listening socket lets whichever reactor wakes first accept a whole burst, which
left one worker with most connections). Every guarantee holds across workers because it lives
in the store (a commit is durable before a worker answers; SQLite serialises
writers across processes). The supervisor forwards SIGTERM/SIGINT for a
graceful stop and restarts a worker that dies unexpectedly.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

from kmipd.config import Settings
from kmipd.store.sql import SQLStore

log = logging.getLogger("kmipd.supervisor")

#: How long to wait before restarting a worker that died, so a crash loop does not spin.
RESTART_DELAY = 1.0
#: A worker that dies this soon after it started failed to start: restarting it cannot help.
STARTUP_GRACE = 5.0


def bind_listeners(settings: Settings, *, listen: bool = True) -> list[socket.socket]:
    """The TTLV socket, and the HTTPS one when configured, bound with SO_REUSEPORT (and listening)."""
    numbers = [settings.port] + ([settings.https_port] if settings.https_port is not None else [])
    sockets = []
    for number in numbers:
        info = socket.getaddrinfo(settings.host, number, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(info[4])
        if listen:
            sock.listen(512)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


class Supervisor:
    """Starts, watches and stops the worker processes."""

    def __init__(self, worker_argv: list[str], sockets: list[socket.socket], count: int) -> None:
        self.worker_argv = worker_argv
        self.sockets = sockets
        self.count = count
        self.children: list[subprocess.Popen[bytes]] = []
        self.started: dict[int, float] = {}
        self.stopping = False
        self.failed = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        ports = [str(s.getsockname()[1]) for s in self.sockets]
        argv = [
            sys.executable,
            "-m",
            "kmipd",
            *self.worker_argv,
            "--reuse-ports",
            ",".join(ports),
            "--supervisor",
            str(os.getpid()),
        ]
        child = subprocess.Popen(argv)
        self.started[child.pid] = time.monotonic()
        return child

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:  # forward once: a second signal must not interrupt the workers' graceful stop
            return
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        del signum

    def _forward_hangup(self, signum: int, _frame: FrameType | None) -> None:
        """SIGHUP: every worker reloads its TLS material."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signum)

    def run(self) -> int:
        """Run until told to stop; return the exit code."""
        signal.signal(signal.SIGTERM, self._signal)
        signal.signal(signal.SIGINT, self._signal)
        signal.signal(signal.SIGHUP, self._forward_hangup)
        self.children = [self._spawn() for _ in range(self.count)]
        while True:
            for index, child in enumerate(self.children):
                code = child.poll()
                if code is None or self.stopping:
                    continue
                if time.monotonic() - self.started.get(child.pid, 0.0) < STARTUP_GRACE:
                    log.error("worker %d failed to start (exit code %s); stopping", child.pid, code)
                    self.failed = True
                    self._signal(signal.SIGTERM, None)
                    continue
                log.error("worker %d exited with code %s; restarting it", child.pid, code)
                time.sleep(RESTART_DELAY)
                if not self.stopping:
                    self.children[index] = self._spawn()
            if self.stopping and all(c.poll() is not None for c in self.children):
                break
            time.sleep(0.2)
        for sock in self.sockets:
            sock.close()
        failed = [c.returncode for c in self.children if c.returncode not in (0, -signal.SIGTERM)]
        return 1 if failed or self.failed else 0


def prepare_store(settings: Settings) -> None:
    """Create the schema once, before any worker starts (workers then only open the store)."""
    store = SQLStore(settings.store_url, pool_size=1)
    try:
        store.create_schema()
    finally:
        store.close()


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
