"""A small closed-loop KMIP load generator over persistent mutual-TLS connections.

One thread per connection, blocking stdlib ``ssl`` sockets with TCP_NODELAY.
Each thread sends a pre-encoded request, reads one response framed by the
8-byte TTLV header, checks it, and sends the next one (one outstanding request
per connection). Blocking sockets release the GIL while they wait, so the
generator costs a few tens of microseconds of CPU per operation.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = struct.Struct(">IL")
#: Result Status (tag 0x42007F, Enumeration, length 4) = Success (0), with its 4 padding bytes.
SUCCESS_ITEM = bytes.fromhex("42007f0500000004" "00000000" "00000000")


def client_context(ca: Path, certificate: Path, key: Path, tls_version: str = "1.2") -> ssl.SSLContext:
    """A client context that verifies the server against ``ca`` and presents ``certificate``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    context.load_cert_chain(str(certificate), str(key))
    version = ssl.TLSVersion.TLSv1_3 if tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.minimum_version = version
    context.maximum_version = version
    return context


def connect(context: ssl.SSLContext, host: str, port: int, timeout: float = 10.0) -> ssl.SSLSocket:
    """A connected, handshaken TLS socket with Nagle off."""
    raw = socket.create_connection((host, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return context.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


def read_message(sock: ssl.SSLSocket) -> bytes:
    """Read exactly one TTLV message (8-byte header + the length it declares)."""
    data = sock.recv(65536)
    while len(data) < 8:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("connection closed while reading a response header")
        data += more
    total = 8 + _HEADER.unpack_from(data, 0)[1]
    while len(data) < total:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("connection closed while reading a response body")
        data += more
    if len(data) != total:
        raise ConnectionError(f"{len(data) - total} unexpected bytes after the response")
    return data


def roundtrip(sock: ssl.SSLSocket, request: bytes) -> bytes:
    """Send one request and return its response."""
    sock.sendall(request)
    return read_message(sock)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (processes that have gone away count as 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5): utime, stime
    return total / ticks


def peak_rss_mib(pid: int) -> float:
    """VmHWM of ``pid`` in MiB (0 if unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class LoadResult:
    """What one load run measured: the measurement window (warm-up excluded), except ``failures``,
    which counts non-Success responses over the whole run."""

    concurrency: int
    seconds: float
    ops: int
    failures: int
    errors: list[str]
    latencies: list[float] = field(repr=False)
    server_cpu: float
    client_cpu: float
    first_failure: bytes | None = field(default=None, repr=False)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3

    @property
    def ok(self) -> bool:
        return self.failures == 0 and not self.errors and self.ops > 0


class _Worker(threading.Thread):
    def __init__(self, sock: ssl.SSLSocket, request: bytes, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.request = request
        self.stop = stop
        self.done: list[tuple[float, float]] = []  # (completion time, latency)
        self.failed: list[float] = []  # completion times of non-Success responses
        self.first_failure: bytes | None = None
        self.error: str | None = None

    def run(self) -> None:
        sock, request, stop = self.sock, self.request, self.stop
        done, failed = self.done.append, self.failed.append
        clock = time.perf_counter
        try:
            while not stop.is_set():
                start = clock()
                sock.sendall(request)
                response = read_message(sock)
                end = clock()
                # One batch item: the response is a success iff it carries Result Status Success.
                if SUCCESS_ITEM not in response:
                    failed(end)
                    if self.first_failure is None:
                        self.first_failure = response
                done((end, end - start))
        except Exception as exc:  # a transport error ends this connection and fails the run
            if not stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"


def run_load(
    connect_fn: Callable[[], ssl.SSLSocket],
    request: bytes,
    concurrency: int,
    warmup: float,
    duration: float,
    server_pid: int,
) -> LoadResult:
    """Closed-loop load: ``concurrency`` persistent connections, one request outstanding on each."""
    stop = threading.Event()
    sockets = [connect_fn() for _ in range(concurrency)]
    workers = [_Worker(sock, request, stop) for sock in sockets]
    for worker in workers:
        worker.start()
    time.sleep(warmup)
    pids = process_tree(server_pid)
    cpu0, own0, t0 = cpu_seconds(pids), _own_cpu(), time.perf_counter()
    time.sleep(duration)
    cpu1, own1, t1 = cpu_seconds(pids), _own_cpu(), time.perf_counter()
    stop.set()
    for worker in workers:
        worker.join(timeout=15)
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()
    latencies = [lat for w in workers for end, lat in w.done if t0 <= end <= t1]
    failures = sum(len(w.failed) for w in workers)  # the whole run, warm-up included
    errors = [w.error for w in workers if w.error]
    errors += [f"connection thread {i} did not stop" for i, w in enumerate(workers) if w.is_alive()]
    first_failure = next((w.first_failure for w in workers if w.first_failure is not None), None)
    return LoadResult(concurrency, t1 - t0, len(latencies), failures, errors, latencies,
                      cpu1 - cpu0, own1 - own0, first_failure)
