"""Encrypt and Decrypt throughput of kmipd (and optionally PyKMIP 0.11) over persistent mutual-TLS connections.

This is the load of a KMS that keeps its key-encryption key in the key server
and sends it data keys (32 bytes) and small records (1 KiB) to seal and open.
It reuses ``get_throughput.py``'s servers and ``_tls_client.py``'s closed-loop
load: the script makes a development PKI and fresh databases in a temporary
directory, starts each server, creates one AES-256 key with a hand-built
KMIP 1.4 Create request, checks one Encrypt and one Decrypt fully (the
plaintext comes back), then runs pre-encoded requests with C persistent
connections (one outstanding request each):

* Encrypt: AES-GCM, Random IV (the server draws a fresh IV per request), 16-byte tag;
* Decrypt: the ciphertext, IV and tag of one Encrypt, opened again and again.

PyKMIP 0.11 (``--pykmip``) is measured with the same requests when its GCM
works with them, else with AES-CBC/PKCS#5 and a server IV, which the table then
says. Every response must be Result Status Success.

Usage: ``python bench/crypto_throughput.py [--quick] [--duration S] [--concurrency 1,16] [--pykmip]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import ssl
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tls_client import LoadResult, client_context, connect, peak_rss_mib, process_tree, roundtrip, run_load
from get_throughput import HOST, TABLE_HEADER, Server, _tail, _walk, row, start_kmipd, start_pykmip

from kmipd.cli.devcerts import ensure_dev_pki
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    ObjectType,
    Operation,
    PaddingMethod,
    Tag,
)
from kmipd.ttlv import Item, decode, encode
from kmipd.ttlv.item import boolean, byte_string, enumeration, integer, structure, text

SIZES = (32, 1024)
OPERATIONS = ("Encrypt", "Decrypt")


def _request(operation: int, *payload: Item | None) -> bytes:
    """A one-item KMIP 1.4 request (1.4 is the first version with AEAD tag fields)."""
    return encode(
        structure(
            Tag.REQUEST_MESSAGE,
            structure(
                Tag.REQUEST_HEADER,
                structure(
                    Tag.PROTOCOL_VERSION, integer(Tag.PROTOCOL_VERSION_MAJOR, 1), integer(Tag.PROTOCOL_VERSION_MINOR, 4)
                ),
                integer(Tag.BATCH_COUNT, 1),
            ),
            structure(Tag.BATCH_ITEM, enumeration(Tag.OPERATION, operation), structure(Tag.REQUEST_PAYLOAD, *payload)),
        )
    )


def _attribute(name: str, value: Item) -> Item:
    return structure(Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_NAME, name), value)


def create_request() -> bytes:
    """Create AES-256, Encrypt|Decrypt, with a KMIP 1.4 Template-Attribute."""
    mask = CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT
    return _request(
        Operation.CREATE,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(
            Tag.TEMPLATE_ATTRIBUTE,
            _attribute("Cryptographic Algorithm", enumeration(Tag.ATTRIBUTE_VALUE, CryptographicAlgorithm.AES)),
            _attribute("Cryptographic Length", integer(Tag.ATTRIBUTE_VALUE, 256)),
            _attribute("Cryptographic Usage Mask", integer(Tag.ATTRIBUTE_VALUE, mask)),
        ),
    )


@dataclass(frozen=True)
class Cipher:
    """How a server is asked to encrypt: the Cryptographic Parameters and whether tags travel."""

    label: str
    gcm: bool

    def parameters(self, *, encrypting: bool) -> Item:
        """The fields in the specification's order, which PyKMIP's parser insists on."""
        mode = BlockCipherMode.GCM if self.gcm else BlockCipherMode.CBC
        return structure(
            Tag.CRYPTOGRAPHIC_PARAMETERS,
            enumeration(Tag.BLOCK_CIPHER_MODE, mode),
            None if self.gcm else enumeration(Tag.PADDING_METHOD, PaddingMethod.PKCS5),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES),
            boolean(Tag.RANDOM_IV, True) if encrypting else None,
            integer(Tag.TAG_LENGTH, 16) if self.gcm else None,
        )


GCM = Cipher("AES-GCM", gcm=True)
CBC = Cipher("AES-CBC", gcm=False)


def encrypt_request(uid: str, cipher: Cipher, data: bytes) -> bytes:
    return _request(
        Operation.ENCRYPT,
        text(Tag.UNIQUE_IDENTIFIER, uid),
        cipher.parameters(encrypting=True),
        byte_string(Tag.DATA, data),
    )


def decrypt_request(uid: str, cipher: Cipher, sealed: dict[int, bytes]) -> bytes:
    return _request(
        Operation.DECRYPT,
        text(Tag.UNIQUE_IDENTIFIER, uid),
        cipher.parameters(encrypting=False),
        byte_string(Tag.DATA, sealed[Tag.DATA]),
        byte_string(Tag.IV_COUNTER_NONCE, sealed[Tag.IV_COUNTER_NONCE]),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, sealed[Tag.AUTHENTICATED_ENCRYPTION_TAG]) if cipher.gcm else None,
    )


def answer(raw: bytes) -> dict[int, object]:
    """The leaves of a one-item response by tag; raises with the server's reason unless it succeeded."""
    leaves: dict[int, object] = {i.tag: i.value for i in _walk(decode(raw)) if not i.children}
    if leaves.get(Tag.RESULT_STATUS) != 0:
        raise RuntimeError(f"reason {leaves.get(Tag.RESULT_REASON)}: {leaves.get(Tag.RESULT_MESSAGE, '')!s}")
    return leaves


def prepare(sock: ssl.SSLSocket, uid: str, cipher: Cipher) -> dict[tuple[str, int], bytes]:
    """Check one Encrypt and Decrypt per size; return the pre-encoded requests of every cell."""
    requests = {}
    for size in SIZES:
        data = os.urandom(size)
        encrypt = encrypt_request(uid, cipher, data)
        sealed = answer(roundtrip(sock, encrypt))
        if not cipher.gcm:
            sealed.setdefault(Tag.AUTHENTICATED_ENCRYPTION_TAG, b"")
        if sealed.get(Tag.DATA) == data or not sealed.get(Tag.IV_COUNTER_NONCE):
            raise RuntimeError("Encrypt returned no ciphertext or no IV")
        decrypt = decrypt_request(uid, cipher, sealed)  # type: ignore[arg-type]
        if answer(roundtrip(sock, decrypt)).get(Tag.DATA) != data:
            raise RuntimeError("Decrypt did not give the plaintext back")
        requests[("Encrypt", size)] = encrypt
        requests[("Decrypt", size)] = decrypt
    return requests


def bench_server(
    server: Server, pki: Path, args: argparse.Namespace, ciphers: list[Cipher]
) -> tuple[Cipher, list[tuple[str, int, LoadResult]]]:
    """Create a key, find the first cipher the server handles, then load every cell."""
    context = client_context(pki / "ca.pem", pki / "client.pem", pki / "client.key", args.tls)

    def connect_fn() -> ssl.SSLSocket:
        return connect(context, HOST, server.port)

    with connect(context, HOST, server.port) as sock:
        uid = str(answer(roundtrip(sock, create_request()))[Tag.UNIQUE_IDENTIFIER])
        answer(roundtrip(sock, _request(Operation.ACTIVATE, text(Tag.UNIQUE_IDENTIFIER, uid))))
        failures = []
        for cipher in ciphers:
            try:
                requests = prepare(sock, uid, cipher)
                break
            except RuntimeError as exc:
                failures.append(f"{cipher.label}: {exc}")
        else:
            raise RuntimeError("; ".join(failures))
    results = []
    for (operation, size), request in requests.items():
        for concurrency in args.concurrency:
            result = run_load(connect_fn, request, concurrency, args.warmup, args.duration, server.process.pid)
            results.append((operation, size, result))
    return cipher, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0.5 s per cell, short warm-up (smoke test)")
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per cell (default 3)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per cell (default 0.5)")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated connection counts (default 1,16)")
    parser.add_argument("--tls", choices=("1.2", "1.3"), default="1.2", help="TLS version (default 1.2)")
    parser.add_argument("--pykmip", action="store_true", help="also measure PyKMIP 0.11's server")
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated kmipd worker-process counts to measure (default 1,2)"
    )
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.quick:
        args.duration = 0.5
    if args.warmup is None:
        args.warmup = 0.2 if args.quick else 0.5

    print(
        f"# Encrypt/Decrypt throughput: persistent mutual-TLS connections, closed loop (TLS {args.tls}, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s per cell, {os.cpu_count()} CPUs shared by "
        f"client and server)\n"
    )
    failed = False
    rows: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kmipd-bench-crypto-") as tmp:
        pki = Path(tmp) / "pki"
        ensure_dev_pki(pki)
        targets: list[tuple[str, Callable[[Path, Path], Server], list[Cipher]]] = [
            (f"kmipd ({w} worker{'s' if w > 1 else ''})", functools.partial(start_kmipd, workers=w), [GCM])
            for w in (int(w) for w in args.workers.split(",") if w.strip())
        ]
        if args.pykmip:
            targets.append(("PyKMIP 0.11", start_pykmip, [GCM, CBC]))
        for name, start, ciphers in targets:
            work = Path(tmp) / re.sub(r"[^a-z0-9]+", "-", name.lower())
            work.mkdir()
            try:
                server = start(work, pki)
            except Exception as exc:
                notes.append(f"- {name}: could not be started: {exc}. {_tail(work)}")
                failed |= name.startswith("kmipd")
                continue
            try:
                cipher, results = bench_server(server, pki, args, ciphers)
            except Exception as exc:
                notes.append(f"- {name}: benchmark failed: {type(exc).__name__}: {exc}. {_tail(work)}")
                failed = True
                cipher, results = ciphers[0], []
            finally:
                rss = peak_rss_mib(server.process.pid)
                processes = len(process_tree(server.process.pid))
                server.stop()
            for operation, size, result in results:
                rows.append(row(f"{name} | {operation} {cipher.label} | {size}", result, rss))
                if not result.ok:
                    failed = True
                    detail = "; ".join(result.errors) or "non-Success responses"
                    notes.append(f"- {name} {operation} {size} B C={result.concurrency} FAILED: {detail}")
            if results:
                notes.append(f"- {name}: {processes} server process(es), {cipher.label}.")
    print(TABLE_HEADER.replace("| server |", "| server | operation | bytes |"))
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    if notes:
        print()
        print("\n".join(notes))
    print(f"\nresult: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
