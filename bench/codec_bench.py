"""Codec micro-benchmark: kmipd's TTLV codec against PyKMIP 0.11's object model.

Six typical KMIP 1.2 messages are encoded once with PyKMIP's own classes
(``kmip.core.messages``, ``kmip.core.messages.payloads``) to get real bytes.
For each message the benchmark times, per operation:

* kmipd: ``kmipd.ttlv.decode`` then ``kmipd.ttlv.encode`` of the tree;
* kmipd, requests only: decode, ``kmipd.protocol.messages.parse_request``, encode;
* PyKMIP: ``RequestMessage().read(BytearrayStream(data))`` (or ResponseMessage)
  then ``.write(BytearrayStream(), kmip_version=KMIP 1.2)``.

It prints a Markdown table of microseconds per operation and the speed-up
(PyKMIP time / kmipd time), the geometric mean over the messages, and whether
``encode(decode(x)) == x`` byte for byte.

Usage: ``python bench/codec_bench.py [--quick] [--target SECONDS] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from kmip.core import enums
from kmip.core.factories.attributes import AttributeFactory
from kmip.core.messages import contents, messages, payloads
from kmip.core.utils import BytearrayStream
from kmip.pie import objects as pie_objects
from kmip.pie.factory import ObjectFactory

from kmipd.protocol.messages import parse_request
from kmipd.ttlv import decode, encode

TABLE_HEADER = "| message | bytes | variant | kmipd µs/op | PyKMIP µs/op | speed-up |"
KMIP_1_2 = enums.KMIPVersion.KMIP_1_2
# Fixed values so that the bytes are the same on every run.
KEY_UID = "3f1c9b52-5d0e-4a4b-9d7e-2f8a6c1e0b77"
KEY_MATERIAL = bytes(range(0x10, 0x30))  # 32 bytes: an AES-256 key
TIME_STAMP = 1_764_780_000


@dataclass(frozen=True)
class Message:
    """One benchmark message: its name, its bytes and whether it is a request."""

    name: str
    data: bytes
    is_request: bool


# --- building the messages with PyKMIP -------------------------------------------------------------


def _request(operation: enums.Operation, payload: object) -> bytes:
    header = messages.RequestHeader(
        protocol_version=contents.ProtocolVersion(1, 2),
        batch_count=contents.BatchCount(1),
    )
    item = messages.RequestBatchItem(operation=contents.Operation(operation), request_payload=payload)
    stream = BytearrayStream()
    messages.RequestMessage(request_header=header, batch_items=[item]).write(stream, kmip_version=KMIP_1_2)
    return bytes(stream.buffer)


def _response(operation: enums.Operation, payload: object) -> bytes:
    header = messages.ResponseHeader(
        protocol_version=contents.ProtocolVersion(1, 2),
        time_stamp=contents.TimeStamp(TIME_STAMP),
        batch_count=contents.BatchCount(1),
    )
    item = messages.ResponseBatchItem(
        operation=contents.Operation(operation),
        result_status=contents.ResultStatus(enums.ResultStatus.SUCCESS),
        response_payload=payload,
    )
    stream = BytearrayStream()
    messages.ResponseMessage(response_header=header, batch_items=[item]).write(stream, kmip_version=KMIP_1_2)
    return bytes(stream.buffer)


def build_messages() -> list[Message]:
    """The six benchmark messages, encoded by PyKMIP as KMIP 1.2."""
    factory = AttributeFactory()
    create_attributes = [
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
        factory.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
            [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
        ),
        factory.create_attribute(enums.AttributeType.NAME, "bench-key-0001"),
    ]
    # The Get response carries the key exactly as PyKMIP's server builds it (pie object -> core object).
    key = ObjectFactory().convert(pie_objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, KEY_MATERIAL))
    uids = [f"{i:08x}-7c4e-4d2a-9b1f-{i * 7919:012x}" for i in range(1, 11)]
    return [
        Message("Get request", _request(enums.Operation.GET, payloads.GetRequestPayload(unique_identifier=KEY_UID)),
                True),
        Message("Get response (AES-256)", _response(
            enums.Operation.GET,
            payloads.GetResponsePayload(object_type=enums.ObjectType.SYMMETRIC_KEY, unique_identifier=KEY_UID,
                                        secret=key)), False),
        Message("Create request", _request(
            enums.Operation.CREATE,
            payloads.CreateRequestPayload(
                object_type=enums.ObjectType.SYMMETRIC_KEY,
                template_attribute=_template_attribute(create_attributes))), True),
        Message("Create response", _response(
            enums.Operation.CREATE,
            payloads.CreateResponsePayload(object_type=enums.ObjectType.SYMMETRIC_KEY, unique_identifier=KEY_UID)),
            False),
        Message("Locate request (Name)", _request(
            enums.Operation.LOCATE,
            payloads.LocateRequestPayload(attributes=[factory.create_attribute(enums.AttributeType.NAME,
                                                                               "bench-key-0001")])), True),
        Message("Locate response (10 UIDs)", _response(
            enums.Operation.LOCATE, payloads.LocateResponsePayload(unique_identifiers=uids)), False),
    ]


def _template_attribute(attributes: list[object]) -> object:
    from kmip.core.objects import TemplateAttribute

    return TemplateAttribute(attributes=attributes)


# --- the operations timed ----------------------------------------------------------------------------


def kmipd_roundtrip(data: bytes) -> bytes:
    """kmipd: bytes -> item tree -> bytes."""
    return encode(decode(data))


def kmipd_parse_roundtrip(data: bytes) -> bytes:
    """kmipd: bytes -> item tree -> typed RequestMessage (discarded) -> bytes of the tree."""
    tree = decode(data)
    parse_request(tree)
    return encode(tree)


def pykmip_roundtrip(data: bytes, is_request: bool) -> bytes:
    """PyKMIP: bytes -> RequestMessage/ResponseMessage objects -> bytes."""
    message = messages.RequestMessage() if is_request else messages.ResponseMessage()
    message.read(BytearrayStream(data))
    out = BytearrayStream()
    message.write(out, kmip_version=KMIP_1_2)
    return bytes(out.buffer)


def time_per_op(fn: Callable[[], object], target: float, repeats: int = 3) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` loops, each sized to about ``target / repeats``."""
    fn()  # warm caches and lazy imports
    loops = 1
    while True:  # calibrate: double the loop until it takes a measurable time
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min(0.02, target / 10) or loops >= 1 << 24:
            break
        loops *= 2
    per_op = elapsed / loops
    loops = max(1, int(target / repeats / per_op))
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run(target: float) -> tuple[list[str], bool]:
    """Measure every cell; return the lines of the report and whether every kmipd round trip was exact."""
    msgs = build_messages()
    lines = [TABLE_HEADER, "|---|---:|---|---:|---:|---:|"]
    exact_lines = []
    all_exact = True
    ratios: list[float] = []
    parse_ratios: list[float] = []
    for msg in msgs:
        data = msg.data
        kmipd_exact = kmipd_roundtrip(data) == data
        pykmip_exact = pykmip_roundtrip(data, msg.is_request) == data
        all_exact &= kmipd_exact
        exact_lines.append(f"| {msg.name} | {'yes' if kmipd_exact else 'NO'} | {'yes' if pykmip_exact else 'no'} |")
        t_pykmip = time_per_op(lambda d=data, r=msg.is_request: pykmip_roundtrip(d, r), target)
        t_kmipd = time_per_op(lambda d=data: kmipd_roundtrip(d), target)
        ratio = t_pykmip / t_kmipd
        ratios.append(ratio)
        lines.append(f"| {msg.name} | {len(data)} | decode+encode | {t_kmipd * 1e6:.1f} | "
                     f"{t_pykmip * 1e6:.1f} | {ratio:.1f}× |")
        if msg.is_request:
            t_parse = time_per_op(lambda d=data: kmipd_parse_roundtrip(d), target)
            parse_ratio = t_pykmip / t_parse
            parse_ratios.append(parse_ratio)
            lines.append(f"| {msg.name} | {len(data)} | decode+parse+encode | {t_parse * 1e6:.1f} | "
                         f"{t_pykmip * 1e6:.1f} | {parse_ratio:.1f}× |")
    lines.append("")
    lines.append(f"Geometric mean speed-up, decode+encode (6 messages): **{_geomean(ratios):.1f}×**")
    lines.append(f"Geometric mean speed-up, decode+parse+encode (3 requests): **{_geomean(parse_ratios):.1f}×**")
    lines.append("")
    lines.append("| message | kmipd encode(decode(x)) == x | PyKMIP write(read(x)) == x |")
    lines.append("|---|---|---|")
    lines.extend(exact_lines)
    return lines, all_exact


def profile(seconds: float) -> None:
    """cProfile kmipd's decode+parse+encode over all six messages (parse for requests only)."""
    msgs = build_messages()
    profiler = cProfile.Profile()
    deadline = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        for msg in msgs:
            if msg.is_request:
                kmipd_parse_roundtrip(msg.data)
            else:
                kmipd_roundtrip(msg.data)
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few milliseconds per cell (smoke test)")
    parser.add_argument("--target", type=float, default=0.75, help="seconds per cell (default 0.75)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of kmipd's codec path")
    args = parser.parse_args(argv)
    target = 0.005 if args.quick else args.target
    print(f"# Codec benchmark: kmipd vs PyKMIP 0.11 (Python {sys.version.split()[0]}, "
          f"{'quick' if args.quick else f'{target:g} s per cell'}, best of 3 loops)\n")
    lines, all_exact = run(target)
    print("\n".join(lines))
    print(f"\nkmipd byte-exact round trip on all messages: {'yes' if all_exact else 'NO'}")
    if args.profile:
        print()
        profile(0.2 if args.quick else 3.0)
    return 0 if all_exact else 1


if __name__ == "__main__":
    sys.exit(main())
