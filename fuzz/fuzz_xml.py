"""Fuzz the KMIP XML decoder (kmipd.ttlv.xml.decode_xml) and its round trip through encode_xml.

Property: any input (bytes, or the same bytes as str when they are UTF-8) decodes to an Item
or raises TTLVError -- never another exception, never a hang; a decoded item encodes back to
XML that decodes to the same tree.

    python fuzz/fuzz_xml.py -max_total_time=180 --keep-going    # atheris
    python fuzz/fuzz_xml.py --iterations 20000 --seed 1         # plain random loop
"""

from __future__ import annotations

import contextlib
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_ttlv import (
    ALLOWED,
    Harness,
    PropertyViolation,
    mutate_tree,
    seed_requests,
    shared_vector_seeds,
)

from kmipd.protocol.names import spec_names
from kmipd.ttlv import Item, TTLVError
from kmipd.ttlv.xml import decode_xml, encode_xml

NAMES = spec_names()

#: Values worth dropping into value="..." attributes.
VALUE_TOKENS = [
    "", " ", "0", "-0", "1" * 5000, "-" + "9" * 4400, "0x", "0x" + "f" * 8, "0x" + "f" * 9, "0x" + "F" * 16,
    "0x" + "0" * 17, "true", "false", "0x0000000000000002", "TRUE", "ff" * 3, "f", "$NOW", "$NOW-3600", "$UID",
    "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "10000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+99:99",
    "\u0662\u0660\u0662\u0666-01-01T00:00:00Z", "Encrypt Decrypt", "Encrypt  Decrypt", "Encrypt|Decrypt",
    "Sign 0x10", "SymmetricKey", "Unknown", "\u00e9\u2603", "&amp;", "&#0;", "&#x1F511;", "-1", "4294967296",
    "2147483648", "-2147483649", "9223372036854775808", "0" * 20000,
]
TYPE_TOKENS = ["Structure", "Integer", "LongInteger", "BigInteger", "Enumeration", "Boolean", "TextString",
               "ByteString", "DateTime", "Interval", "DateTimeExtended", "Float", ""]
SNIPPETS = [
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>', '<!ENTITY b SYSTEM "file:///etc/passwd">', "&a;", "<?xml version='1.0'?>",
    "<!-- c -->", "<![CDATA[x]]>", '<TTLV tag="0x540001" type="TextString" value="x"/>', '<TTLV type="Integer"/>',
    '<TTLV tag="0x999999"/>', "<a:b/>", "\x00", "\ufeff", "<", ">", "/>", '"', "'", "</RequestMessage>",
    '<Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/>'
    '<AttributeValue type="Integer" value="Encrypt Decrypt"/></Attribute>',
]
_VALUE_ATTR = re.compile(r'(value|type|tag)="([^"]*)"')


def mutate_text(text: str, rng: random.Random) -> str:
    for _ in range(rng.choice([1, 1, 2, 3])):
        matches = list(_VALUE_ATTR.finditer(text))
        kind = rng.randrange(8)
        if matches and kind < 4:
            m = rng.choice(matches)
            pool = TYPE_TOKENS if m.group(1) == "type" else VALUE_TOKENS
            if m.group(1) == "tag":
                pool = ["0x420001", "0x42", "0x4200001", "0x000001", "0x54ffff", "TTLV", "Bogus"]
            text = text[: m.start(2)] + rng.choice(pool) + text[m.end(2) :]
        elif kind == 4:
            depth = rng.choice([10, 33, 64, 500])
            text = "<RequestPayload>" * depth + text + "</RequestPayload>" * depth
        elif kind == 5 and text:
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(SNIPPETS) + text[i:]
        elif kind == 6 and text:
            i = rng.randrange(len(text))
            text = text[:i] if rng.random() < 0.5 else text[:i] + text[i + rng.randrange(1, 20) :]
        else:
            i = rng.randrange(len(text) + 1)
            text = text[:i] + chr(rng.choice([0, 9, 0x7F, 0xD800, 0xFFFE, rng.randrange(0x110000)])) + text[i:]
    return text


def seeds() -> list[bytes]:
    out = [encode_xml(item, NAMES, indent=rng_indent).encode() for n, (_, item) in enumerate(seed_requests())
           for rng_indent in (("  " if n % 2 else ""),)]
    return out + shared_vector_seeds() + [b"", b"<", b"<RequestMessage/>", b'<TTLV tag="0x420078"></TTLV>']


def generate(rng: random.Random, pool: list[bytes]) -> bytes:
    if not pool:
        return rng.randbytes(rng.randrange(64))
    data = rng.choice(pool)
    roll = rng.random()
    if roll < 0.45:
        try:
            item = decode_xml(data, NAMES)
            data = encode_xml(mutate_tree(item, rng), NAMES, indent=rng.choice(["", " "])).encode()
        except (TTLVError, ValueError, TypeError, OverflowError):
            pass
    if roll > 0.3:
        text = data.decode("utf-8", "replace")
        data = mutate_text(text, rng).encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        data = data.decode("utf-8", "replace").encode(rng.choice(["utf-16", "latin-1", "utf-8"]), "replace")
    return data


def check(item: Item) -> None:
    try:
        again = decode_xml(encode_xml(item, NAMES), NAMES)
    except TTLVError as exc:
        raise PropertyViolation(f"decoded XML item does not round-trip: {exc}") from exc
    if again != item:
        raise PropertyViolation("decode_xml(encode_xml(item)) != item")


def target(data: bytes) -> None:
    inputs: list[str | bytes] = [data]
    with contextlib.suppress(UnicodeDecodeError):
        inputs.append(data.decode("utf-8"))
    for source in inputs:
        try:
            item = decode_xml(source, NAMES)
        except ALLOWED:
            continue
        check(item)


HARNESS = Harness("xml", target, seeds, generate)

if __name__ == "__main__":
    sys.exit(HARNESS.main())
