"""Get throughput of kmipd (and optionally PyKMIP 0.11) over persistent mutual-TLS connections.

The script makes a development PKI (``kmipd.cli.devcerts``) and a fresh SQLite
database in a temporary directory, starts ``python -m kmipd serve --config ...``
as a subprocess, creates one AES-256 key with a hand-built KMIP 1.2 Create
request, then runs a closed-loop load of pre-encoded Get requests for that key
with C persistent connections (one outstanding request each). It reports
ops/s, p50/p99 latency, server CPU per op, server peak RSS and the load
generator's own CPU. Every response must be Result Status Success.

With ``--pykmip`` it also starts PyKMIP's ``KmipServer`` with the same PKI and
runs the same load against it.

Usage: ``python bench/get_throughput.py [--quick] [--duration S] [--concurrency 1,16] [--pykmip]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tls_client import LoadResult, client_context, connect, peak_rss_mib, process_tree, roundtrip, run_load

from kmipd.cli.devcerts import ensure_dev_pki
from kmipd.protocol.enums import CryptographicAlgorithm, CryptographicUsageMask, ObjectType, Operation, Tag
from kmipd.ttlv import Item, ItemType, decode, encode
from kmipd.ttlv.item import enumeration, integer, structure, text

TABLE_HEADER = ("| server | C | ops/s | p50 ms | p99 ms | server CPU µs/op | server cores | "
                "server peak RSS MiB | client CPU µs/op | client cores | failures | status |")
HOST = "127.0.0.1"


# --- KMIP 1.2 requests built with kmipd's codec ------------------------------------------------------


def _request(operation: int, payload: Item) -> bytes:
    return encode(structure(
        Tag.REQUEST_MESSAGE,
        structure(Tag.REQUEST_HEADER,
                  structure(Tag.PROTOCOL_VERSION, integer(Tag.PROTOCOL_VERSION_MAJOR, 1),
                            integer(Tag.PROTOCOL_VERSION_MINOR, 2)),
                  integer(Tag.BATCH_COUNT, 1)),
        structure(Tag.BATCH_ITEM, enumeration(Tag.OPERATION, operation), payload),
    ))


def _attribute(name: str, value: Item) -> Item:
    return structure(Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_NAME, name), value)


def create_request() -> bytes:
    """Create AES-256, Encrypt|Decrypt, with a KMIP 1.2 Template-Attribute."""
    return _request(Operation.CREATE, structure(
        Tag.REQUEST_PAYLOAD,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(Tag.TEMPLATE_ATTRIBUTE,
                  _attribute("Cryptographic Algorithm",
                             enumeration(Tag.ATTRIBUTE_VALUE, CryptographicAlgorithm.AES)),
                  _attribute("Cryptographic Length", integer(Tag.ATTRIBUTE_VALUE, 256)),
                  _attribute("Cryptographic Usage Mask",
                             integer(Tag.ATTRIBUTE_VALUE,
                                     CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT))),
    ))


def get_request(uid: str) -> bytes:
    """Get the object ``uid`` in its default format."""
    return _request(Operation.GET, structure(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, uid)))


def _walk(item: Item) -> list[Item]:
    found = [item]
    for child in item.children:
        found.extend(_walk(child))
    return found


def check_response(raw: bytes, want_key: bool) -> str:
    """Decode a one-item response; return the Unique Identifier or raise with the server's reason."""
    items = _walk(decode(raw))
    status = next((i.value for i in items if i.tag == Tag.RESULT_STATUS), None)
    if status != 0:
        message = next((i.value for i in items if i.tag == Tag.RESULT_MESSAGE), "")
        reason = next((i.value for i in items if i.tag == Tag.RESULT_REASON), None)
        raise RuntimeError(f"result status {status}, reason {reason}: {message}")
    uid = next((i.value for i in items if i.tag == Tag.UNIQUE_IDENTIFIER), None)
    if not isinstance(uid, str):
        raise RuntimeError("the response names no Unique Identifier")
    if want_key:
        material = [i.value for i in items if i.tag == Tag.KEY_MATERIAL and i.type is ItemType.BYTE_STRING]
        if not material or len(material[0]) != 32:  # type: ignore[arg-type]
            raise RuntimeError("the Get response carries no 32-byte key material")
    return uid


# --- servers -----------------------------------------------------------------------------------------


@dataclass
class Server:
    """A server subprocess under test."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        """SIGINT, then SIGKILL to its process group if it has not exited after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # PyKMIP leaves helper processes (Manager, policy monitor) in the server's own session.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_for_line(process: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes:
    """Read the child's stdout until a line containing ``marker``."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
            for line in buffer.splitlines():
                if marker in line:
                    return line
        elif process.poll() is not None:
            break
    raise RuntimeError(f"server did not report {marker.decode()!r} (exit code {process.poll()})")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout:g} s")


def start_kmipd(work: Path, pki: Path, workers: int = 1) -> Server:
    """``python -m kmipd serve --config`` on a free port, WARNING logging, fresh SQLite DB."""
    config = work / "kmipd.toml"
    config.write_text(textwrap.dedent(f"""\
        [server]
        host = "{HOST}"
        port = 0

        [tls]
        certificate = "{pki / 'server.pem'}"
        private_key = "{pki / 'server.key'}"
        ca = "{pki / 'ca.pem'}"

        [store]
        url = "sqlite:///{work / 'kmipd.db'}"

        [logging]
        level = "WARNING"
        """))
    log = work / "kmipd.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "kmipd", "serve", "--config", str(config), "--workers", str(workers)],
        stdout=subprocess.PIPE, stderr=log.open("wb"), start_new_session=True,
    )
    return await_startup(Server("kmipd", process, 0, log), b"listening on", rb"listening on [^ ]+:(\d+)")


def await_startup(server: Server, marker: bytes, port_pattern: bytes) -> Server:
    """Wait for ``server``'s start-up line, read its port from it, and wait until the port accepts.

    The server is stopped if it does not come up.
    """
    try:
        line = _wait_for_line(server.process, marker, timeout=30)
        match = re.search(port_pattern, line)
        if match is None:
            raise RuntimeError(f"unexpected start-up line {line!r}")
        server.port = int(match.group(1))
        _wait_for_port(server.port, server.process, timeout=10)
    except Exception:
        server.stop()
        raise
    return server


_PYKMIP_MAIN = """
import sys
from kmip.services.server import KmipServer
work, pki, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = KmipServer(
    hostname="127.0.0.1", port=port,
    certificate_path=pki + "/server.pem", key_path=pki + "/server.key", ca_path=pki + "/ca.pem",
    auth_suite="TLS1.2", config_path=None, log_path=work + "/pykmip.log",
    policy_path=work + "/policies", enable_tls_client_auth=True,
    logging_level="WARNING", database_path=work + "/pykmip.db",
)
with server:
    print("pykmip ready", flush=True)
    server.serve()
"""


def start_pykmip(work: Path, pki: Path) -> Server:
    """PyKMIP 0.11's KmipServer with the same PKI, an empty policy directory and a fresh DB."""
    (work / "policies").mkdir(exist_ok=True)
    port = free_port()
    log = work / "pykmip.stderr"
    process = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-c", _PYKMIP_MAIN, str(work), str(pki), str(port)],
        stdout=subprocess.PIPE, stderr=log.open("wb"), start_new_session=True,
    )
    server = Server("PyKMIP 0.11", process, port, log)
    try:
        _wait_for_line(process, b"pykmip ready", timeout=60)
        _wait_for_port(port, process, timeout=10)
    except Exception:
        server.stop()
        raise
    return server


# --- the benchmark -----------------------------------------------------------------------------------


def bench_server(server: Server, pki: Path, args: argparse.Namespace) -> list[LoadResult]:
    """Create a key, check one Get, then run the load at every concurrency."""
    context = client_context(pki / "ca.pem", pki / "client.pem", pki / "client.key", args.tls)

    def connect_fn() -> object:
        return connect(context, HOST, server.port)

    with connect(context, HOST, server.port) as sock:
        uid = check_response(roundtrip(sock, create_request()), want_key=False)
        request = get_request(uid)
        check_response(roundtrip(sock, request), want_key=True)
    results = []
    for concurrency in args.concurrency:
        results.append(run_load(connect_fn, request, concurrency, args.warmup, args.duration,  # type: ignore[arg-type]
                                server.process.pid))
    return results


def row(name: str, result: LoadResult, rss: float) -> str:
    ops = max(result.ops, 1)
    status = "ok" if result.ok else "FAILED"
    return (f"| {name} | {result.concurrency} | {result.ops_per_s:.0f} | {result.percentile_ms(0.5):.2f} | "
            f"{result.percentile_ms(0.99):.2f} | {result.server_cpu / ops * 1e6:.0f} | "
            f"{result.server_cpu / result.seconds:.2f} | {rss:.0f} | {result.client_cpu / ops * 1e6:.0f} | "
            f"{result.client_cpu / result.seconds:.2f} | {result.failures} | {status} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per cell, short warm-up (smoke test)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell (default 5)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per cell (default 1)")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated connection counts (default 1,16)")
    parser.add_argument("--tls", choices=("1.2", "1.3"), default="1.2", help="TLS version (default 1.2)")
    parser.add_argument("--pykmip", action="store_true", help="also measure PyKMIP 0.11's server")
    parser.add_argument("--workers", default="1,2",
                        help="comma-separated kmipd worker-process counts to measure (default 1,2)")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.quick:
        args.duration = 1.0
    if args.warmup is None:
        args.warmup = 0.3 if args.quick else 1.0

    print(f"# Get throughput: persistent mutual-TLS connections, closed loop (TLS {args.tls}, "
          f"{args.warmup:g} s warm-up + {args.duration:g} s per cell, {os.cpu_count()} CPUs shared by "
          f"client and server)\n")
    failed = False
    rows: list[str] = []
    notes: list[str] = []
    ops_by_server: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="kmipd-bench-") as tmp:
        pki = Path(tmp) / "pki"
        ensure_dev_pki(pki)
        worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
        targets = [(f"kmipd ({w} worker{'s' if w > 1 else ''})", functools.partial(start_kmipd, workers=w))
                   for w in worker_counts]
        if args.pykmip:
            targets.append(("PyKMIP 0.11", start_pykmip))
        for name, start in targets:
            work = Path(tmp) / re.sub(r"[^a-z0-9]+", "-", name.lower())
            work.mkdir()
            try:
                server = start(work, pki)
            except Exception as exc:
                notes.append(f"- {name}: could not be started: {exc}. {_tail(work)}")
                failed |= name.startswith("kmipd")
                continue
            try:
                results = bench_server(server, pki, args)
            except Exception as exc:
                notes.append(f"- {name}: benchmark failed: {type(exc).__name__}: {exc}. {_tail(work)}")
                failed = True
                results = []
            finally:
                pids = process_tree(server.process.pid)
                rss_main = peak_rss_mib(server.process.pid)
                rss_sum = sum(peak_rss_mib(pid) for pid in pids)
                server.stop()
            for result in results:
                rows.append(row(name, result, rss_main))
                ops_by_server.setdefault(name, {})[result.concurrency] = result.ops_per_s
                if not result.ok:
                    failed = True
                    detail = "; ".join(result.errors) or "non-Success responses"
                    notes.append(f"- {name} C={result.concurrency} FAILED: {result.failures} failures; {detail}")
            if results:
                notes.append(f"- {name}: {len(pids)} server process(es); peak RSS of the main process "
                             f"{rss_main:.0f} MiB, sum over its processes {rss_sum:.0f} MiB.")
    print(TABLE_HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    if "PyKMIP 0.11" in ops_by_server:
        print()
        for name, by_c in ops_by_server.items():
            if not name.startswith("kmipd"):
                continue
            for c, ops in by_c.items():
                other = ops_by_server["PyKMIP 0.11"].get(c)
                if other:
                    print(f"- {name} / PyKMIP ops/s at C={c}: **{ops / other:.1f}×**")
    if notes:
        print()
        print("\n".join(notes))
    print(f"\nresult: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


def _tail(work: Path) -> str:
    """The last lines of a server's stderr log, for error reports."""
    lines: list[str] = []
    for log in sorted(work.glob("*.log")) + sorted(work.glob("*.stderr")):
        lines += log.read_text(errors="replace").strip().splitlines()[-3:]
    return ("Server log: " + " / ".join(lines)) if lines else ""


if __name__ == "__main__":
    sys.exit(main())
