"""Fuzz the binary TTLV codec (kmipd.ttlv.decode, encode) and the stream Framer.

This file is also the shared fuzzing engine of the other harnesses (fuzz_xml, fuzz_json,
fuzz_processor) and of tests/fuzz: seed requests for every registered operation, tree- and
byte-level mutators, the property checks and a run loop that uses atheris when it is
installed and a seeded random loop otherwise.

Property: any input decodes to an Item or raises TTLVError (FramingError for the Framer);
a decoded item re-encodes, and the re-encoding decodes to the same tree.

    python fuzz/fuzz_ttlv.py                                 # atheris (libFuzzer flags may follow)
    python fuzz/fuzz_ttlv.py -max_total_time=180 --keep-going
    python fuzz/fuzz_ttlv.py --iterations 100000 --seed 1    # plain random loop, no atheris needed
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import re
import resource
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kmipd.operations.registry import default_registry  # noqa: E402
from kmipd.protocol import spec_tables  # noqa: E402
from kmipd.protocol.enums import (  # noqa: E402
    BatchErrorContinuationOption,
    CryptographicAlgorithm,
    InteropFunction,
    KeyFormatType,
    ObjectType,
    Operation,
    QueryFunction,
    RevocationReasonCode,
    SecretDataType,
    Tag,
)
from kmipd.ttlv import Framer, FramingError, Item, ItemType, TTLVError, decode, encode  # noqa: E402
from kmipd.ttlv.item import (  # noqa: E402
    byte_string,
    date_time,
    enumeration,
    integer,
    interval,
    structure,
    text,
)
from tests.kmip_helpers import (  # noqa: E402
    V1_4,
    V2_1,
    Op,
    Version,
    attr_1x,
    attr_2x,
    attributes_for,
    av,
    name_value,
    reference,
    request_message,
    symmetric_key,
    version_item,
)

# --------------------------------------------------------------------------- crashes


class PropertyViolation(AssertionError):
    """An input broke the harness property (a wrong exception, a malformed response, an internal error)."""


#: Exceptions a decoder may raise by contract.
ALLOWED = (TTLVError,)


def signature(exc: BaseException) -> str:
    """A short, stable crash signature: exception type and the innermost kmipd frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    inner = [f for f in frames if "/kmipd/" in f.filename] or frames
    where = f"{Path(inner[-1].filename).name}:{inner[-1].lineno}" if inner else "?"
    logged = re.findall(r'File "[^"]*/kmipd/([^"]+)", line (\d+)', str(exc))
    if logged:  # a traceback the processor logged, quoted in the violation
        where = f"{Path(logged[-1][0]).name}:{logged[-1][1]}"
    text_ = re.sub(r"\d+", "N", str(exc).split("\n")[0].split("(incident")[0])[:80]
    return f"{type(exc).__name__} at {where}: {text_}"


# --------------------------------------------------------------------------- seed requests

#: Versions the seeds are built in (the brief: KMIP 1.4 and 2.1 forms).
SEED_VERSIONS: tuple[Version, ...] = (V1_4, V2_1)


@dataclass
class Uids:
    """Unique Identifiers the seeds name (real ones when a processor harness created the objects)."""

    symmetric: str = "fuzz-symmetric-key"
    secret: str = "fuzz-secret-data"
    opaque: str = "fuzz-opaque"
    certificate: str = "fuzz-certificate"
    public: str = "fuzz-public-key"
    private: str = "fuzz-private-key"

    def all(self) -> list[str]:
        return [self.symmetric, self.secret, self.opaque, self.certificate, self.public, self.private]


@cache
def key_material() -> tuple[bytes, bytes, bytes]:
    """(PKCS#8 private key, SubjectPublicKeyInfo, DER certificate) of a fresh P-256 key, made once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kmipd fuzz")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(private, hashes.SHA256())
    )
    return pkcs8, spki, cert.public_bytes(serialization.Encoding.DER)


def _key_body(tag: int, fmt: int, material: bytes, algorithm: int, length: int) -> Item:
    return structure(
        tag,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, fmt),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, material)),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ),
    )


def object_bodies() -> list[tuple[str, int, Item]]:
    """(name, Object Type, body) of one object of every type kmipd stores."""
    pkcs8, spki, der = key_material()
    return [
        ("SymmetricKey", ObjectType.SYMMETRIC_KEY, symmetric_key(bytes(range(32)))),
        (
            "SecretData",
            ObjectType.SECRET_DATA,
            structure(
                Tag.SECRET_DATA,
                enumeration(Tag.SECRET_DATA_TYPE, SecretDataType.PASSWORD),
                structure(
                    Tag.KEY_BLOCK,
                    enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.OPAQUE),
                    structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, b"correct horse")),
                ),
            ),
        ),
        (
            "OpaqueObject",
            ObjectType.OPAQUE_OBJECT,
            structure(
                Tag.OPAQUE_OBJECT,
                enumeration(Tag.OPAQUE_DATA_TYPE, 0x80000001),
                byte_string(Tag.OPAQUE_DATA_VALUE, b"\x00\x01opaque\xff"),
            ),
        ),
        (
            "Certificate",
            ObjectType.CERTIFICATE,
            structure(Tag.CERTIFICATE, enumeration(Tag.CERTIFICATE_TYPE, 1), byte_string(Tag.CERTIFICATE_VALUE, der)),
        ),
        ("PublicKey", ObjectType.PUBLIC_KEY, _key_body(Tag.PUBLIC_KEY, KeyFormatType.X_509, spki,
                                                        CryptographicAlgorithm.EC, 256)),
        ("PrivateKey", ObjectType.PRIVATE_KEY, _key_body(Tag.PRIVATE_KEY, KeyFormatType.PKCS_8, pkcs8,
                                                          CryptographicAlgorithm.EC, 256)),
    ]


def _uid(uid: str) -> Item:
    return text(Tag.UNIQUE_IDENTIFIER, uid)


def _new_attribute(version: Version, name: str, value: Item, index: int | None = None) -> Item:
    if version >= (2, 0):
        return structure(Tag.NEW_ATTRIBUTE, attr_2x(name, value))
    return attr_1x(name, value, index)


def _create_attrs() -> list[tuple[str, Item]]:
    return [
        ("Cryptographic Algorithm", av("Cryptographic Algorithm", enumeration(0, CryptographicAlgorithm.AES))),
        ("Cryptographic Length", av("Cryptographic Length", integer(0, 128))),
        ("Cryptographic Usage Mask", av("Cryptographic Usage Mask", integer(0, 12))),
    ]


def payloads(operation: int, version: Version, uids: Uids) -> list[list[Item | None]]:
    """Valid Request Payload children for ``operation`` in ``version`` (several variants).

    Operations kmipd registers later (the cryptographic services are being written) get a
    generic payload: a Unique Identifier and the fields those operations commonly take.
    """
    u = _uid(uids.symmetric)
    o = Operation
    if operation == o.CREATE:
        return [[enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY), attributes_for(version, _create_attrs())],
                [enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
                 attributes_for(version, [*_create_attrs(), ("Name", name_value("fuzz-new-key"))])]]
    if operation == o.REGISTER:
        return [
            [enumeration(Tag.OBJECT_TYPE, t), body, attributes_for(version, [("Name", name_value(f"fuzz-{n}"))])]
            for n, t, body in object_bodies()
        ]
    if operation == o.GET:
        return [[u], [u, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.RAW)], [_uid(uids.certificate)],
                [_uid(uids.private)]]
    if operation == o.GET_ATTRIBUTES:
        return [[u, reference(version, "State"), reference(version, "Name")], [_uid(uids.public)]]
    if operation == o.GET_ATTRIBUTE_LIST:
        return [[u], [_uid(uids.opaque)]]
    if operation == o.ADD_ATTRIBUTE:
        return [[u, _new_attribute(version, "x-fuzz", text(0, "value"))],
                [u, _new_attribute(version, "Name", name_value("another-name"))]]
    if operation == o.SET_ATTRIBUTE:
        return [[u, _new_attribute(version, "Contact Information", text(0, "fuzz@example.org"))]]
    if operation == o.MODIFY_ATTRIBUTE:
        return [[u, _new_attribute(version, "x-fuzz", text(0, "changed"), 0)],
                [u, _new_attribute(version, "Name", name_value("renamed"), 0)]]
    if operation == o.DELETE_ATTRIBUTE:
        if version < (2, 0):
            return [[u, text(Tag.ATTRIBUTE_NAME, "x-fuzz"), integer(Tag.ATTRIBUTE_INDEX, 0)]]
        return [[u, reference(version, "x-fuzz")],
                [u, structure(Tag.CURRENT_ATTRIBUTE, attr_2x("Name", name_value("fuzz-key")))]]
    if operation == o.DISCOVER_VERSIONS:
        return [[], [version_item(V2_1), version_item(V1_4), version_item((1, 0))]]
    if operation == o.INTEROP:
        return [[enumeration(Tag.INTEROP_FUNCTION, InteropFunction.BEGIN), text(Tag.INTEROP_IDENTIFIER, "TC-1")]]
    if operation == o.QUERY:
        return [[enumeration(Tag.QUERY_FUNCTION, f) for f in (
            QueryFunction.QUERY_OPERATIONS, QueryFunction.QUERY_OBJECTS,
            QueryFunction.QUERY_SERVER_INFORMATION, QueryFunction.QUERY_CAPABILITIES)]]
    if operation == o.LOG:
        return [[text(Tag.LOG_MESSAGE, "fuzz log line")]]
    if operation == o.ACTIVATE or operation == o.DESTROY:
        return [[u], [_uid(uids.secret)]]
    if operation == o.CHECK:
        return [[u, integer(Tag.CRYPTOGRAPHIC_USAGE_MASK, 4)], [u]]
    if operation == o.RE_KEY:
        return [[u, interval(Tag.OFFSET, 3600)], [u]]
    if operation == o.REVOKE:
        return [[u, structure(Tag.REVOCATION_REASON,
                              enumeration(Tag.REVOCATION_REASON_CODE, RevocationReasonCode.KEY_COMPROMISE)),
                 date_time(Tag.COMPROMISE_OCCURRENCE_DATE, 1_767_225_600)]]
    if operation == o.LOCATE:
        attrs = [("Object Type", av("Object Type", enumeration(0, ObjectType.SYMMETRIC_KEY))),
                 ("Name", name_value("fuzz-key"))]
        if version >= (2, 0):
            return [[integer(Tag.MAXIMUM_ITEMS, 10), structure(Tag.ATTRIBUTES, *(attr_2x(n, v) for n, v in attrs))],
                    [structure(Tag.ATTRIBUTES)]]
        return [[integer(Tag.MAXIMUM_ITEMS, 10), *(attr_1x(n, v) for n, v in attrs)], []]
    # Not yet implemented in kmipd when this was written: generic shapes of the crypto services.
    if operation == o.RNG_RETRIEVE:
        return [[integer(Tag.DATA_LENGTH, 32)]]
    if operation == o.RNG_SEED:
        return [[byte_string(Tag.DATA, bytes(32))]]
    if operation == o.CREATE_KEY_PAIR:
        common = [("Cryptographic Algorithm", av("Cryptographic Algorithm", enumeration(0, CryptographicAlgorithm.EC))),
                  ("Cryptographic Length", av("Cryptographic Length", integer(0, 256)))]
        if version >= (2, 0):
            return [[structure(Tag.COMMON_ATTRIBUTES, *(attr_2x(n, v) for n, v in common))]]
        return [[structure(Tag.COMMON_TEMPLATE_ATTRIBUTE, *(attr_1x(n, v) for n, v in common))]]
    if operation == o.HASH:
        return [[structure(Tag.CRYPTOGRAPHIC_PARAMETERS, enumeration(Tag.HASHING_ALGORITHM, 4)),
                 byte_string(Tag.DATA, b"abc")]]
    if operation == o.RE_KEY_KEY_PAIR:
        return [[_uid(uids.private)]]
    if operation in (o.SIGN, o.SIGNATURE_VERIFY):
        sig = structure(Tag.CRYPTOGRAPHIC_PARAMETERS, enumeration(Tag.DIGITAL_SIGNATURE_ALGORITHM, 12))  # ECDSA-SHA256
        return [[_uid(uids.private), sig, byte_string(Tag.DATA, b"data")],
                [_uid(uids.public), sig, byte_string(Tag.DATA, b"data"), byte_string(Tag.SIGNATURE_DATA, bytes(64))]]
    params = structure(Tag.CRYPTOGRAPHIC_PARAMETERS, enumeration(Tag.BLOCK_CIPHER_MODE, 1))
    return [[u, params, byte_string(Tag.DATA, bytes(16))],
            [_uid(uids.private), byte_string(Tag.DATA, b"data"), byte_string(Tag.SIGNATURE_DATA, bytes(64))],
            [u]]


def registered_operations() -> list[int]:
    return sorted(default_registry())


def seed_requests(uids: Uids | None = None) -> list[tuple[str, Item]]:
    """Valid request messages: every registered operation, every payload variant, in 1.4 and 2.1."""
    uids = uids or Uids()
    registry = default_registry()
    out: list[tuple[str, Item]] = []
    for operation in sorted(registry):
        for version in SEED_VERSIONS:
            if version < tuple(registry[operation].since):
                continue
            for n, children in enumerate(payloads(operation, version, uids)):
                name = f"{_op_name(operation)}-{version[0]}.{version[1]}-{n}"
                out.append((name, request_message(version, [Op(operation, tuple(c for c in children if c))])))
    # Batches: ID Placeholder chains, batch ids, continuation options, a small Maximum Response Size.
    for version in SEED_VERSIONS:
        create = payloads(Operation.CREATE, version, uids)[0]
        chain = [
            Op(Operation.CREATE, tuple(c for c in create if c), b"\x01"),
            Op(Operation.ACTIVATE, (), b"\x02"),
            Op(Operation.GET, (), b"\x03"),
            Op(Operation.GET_ATTRIBUTES, (), b"\x04"),
            Op(Operation.REVOKE, (structure(Tag.REVOCATION_REASON, enumeration(
                Tag.REVOCATION_REASON_CODE, RevocationReasonCode.CESSATION_OF_OPERATION)),), b"\x05"),
            Op(Operation.DESTROY, (), b"\x06"),
        ]
        for option in (None, *BatchErrorContinuationOption):
            out.append((f"batch-{version[0]}.{version[1]}-{option}",
                        request_message(version, chain, continuation=option)))
        out.append((f"small-response-{version[0]}.{version[1]}",
                    request_message(version, [Op(Operation.GET, (_uid(uids.certificate),))], max_response_size=64)))
        out.append((f"no-payload-{version[0]}.{version[1]}",
                    request_message(version, [Op(Operation.GET, (), payload=False)])))
    return out


def _op_name(operation: int) -> str:
    try:
        return Operation(operation).name
    except ValueError:
        return f"op{operation}"


def shared_vector_seeds(limit: int = 200) -> list[bytes]:
    """Extra seeds: OASIS test-vector files from ../shared/kmip-test-vectors, read at run time if present."""
    base = ROOT.parent / "shared" / "kmip-test-vectors"
    if not base.is_dir():
        return []
    files = sorted(p for p in base.rglob("*") if p.suffix in (".xml", ".json"))
    return [p.read_bytes()[:65536] for p in files[:limit]]


# --------------------------------------------------------------------------- random values

_ALL_TAGS: list[int] = sorted(int(t) for t in Tag)
_ENUM_TAGS = {tag: list(spec_tables.ENUMERATIONS.get(name, {}).values()) for tag, name in
              spec_tables.TAG_ENUMERATION.items()}
INT_EDGES = [0, 1, -1, 2**31 - 1, -(2**31), 7, 8, 4096, 2**30]
U32_EDGES = [0, 1, 2**32 - 1, 2**31, 0x80000000, 0xFFFF, 0x7FFFFFFF]
I64_EDGES = [0, 1, -1, 2**63 - 1, -(2**63), 253402300800, -62135596801, 1_767_225_600]
TEXT_EDGES = ["", "x" * 5000, "\x00", "é☃\U0001f511", "$NOW", "../../etc/passwd", "' OR 1=1 --", "%s%n",
              "fuzz-symmetric-key", "\ud7ff", "a" * 129, "\t\n\r"]


def random_tag(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.7:
        return rng.choice(_ALL_TAGS)
    if roll < 0.85:
        return 0x540000 | rng.randrange(0x10000)
    return 0x420000 | rng.randrange(0x10000)


def random_value(rng: random.Random, item_type: ItemType, tag: int = 0) -> object:
    """A value of ``item_type`` that encodes (edge cases favoured)."""
    if item_type is ItemType.INTEGER:
        return rng.choice(INT_EDGES) if rng.random() < 0.6 else rng.randint(-(2**31), 2**31 - 1)
    if item_type is ItemType.ENUMERATION:
        known = _ENUM_TAGS.get(tag)
        if known and rng.random() < 0.6:
            return rng.choice(known)
        return rng.choice(U32_EDGES) if rng.random() < 0.5 else rng.randrange(2**32)
    if item_type is ItemType.INTERVAL:
        return rng.choice(U32_EDGES) if rng.random() < 0.6 else rng.randrange(2**32)
    if item_type in (ItemType.LONG_INTEGER, ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
        return rng.choice(I64_EDGES) if rng.random() < 0.6 else rng.randint(-(2**63), 2**63 - 1)
    if item_type is ItemType.BIG_INTEGER:
        bits = rng.choice([1, 63, 64, 65, 2048, 8192, 65536])
        value = rng.getrandbits(bits)
        return -value if rng.random() < 0.3 else value
    if item_type is ItemType.BOOLEAN:
        return rng.random() < 0.5
    if item_type is ItemType.TEXT_STRING:
        if rng.random() < 0.5:
            return rng.choice(TEXT_EDGES)
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x110000)]))
                       for _ in range(rng.randrange(40))).encode("utf-8", "replace").decode("utf-8", "replace")
    if item_type is ItemType.BYTE_STRING:
        return rng.choice([b"", bytes(16), bytes(32), b"\xff" * 7, rng.randbytes(rng.randrange(100)),
                           bytes(rng.choice([1, 1000, 70000]))])
    return ()


def random_item(rng: random.Random, depth: int = 0) -> Item:
    item_type = ItemType(rng.randrange(1, 12))
    tag = random_tag(rng)
    if item_type is ItemType.STRUCTURE:
        kids = [random_item(rng, depth + 1) for _ in range(rng.randrange(3 if depth < 3 else 1))]
        return Item(tag, item_type, tuple(kids))
    return Item(tag, item_type, random_value(rng, item_type, tag))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tree mutations


def _paths(item: Item, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = [prefix]
    if item.type is ItemType.STRUCTURE:
        for i, child in enumerate(item.children):
            out.extend(_paths(child, (*prefix, i)))
    return out


def _get(item: Item, path: tuple[int, ...]) -> Item:
    for i in path:
        item = item.children[i]
    return item


def _replace(item: Item, path: tuple[int, ...], new: Item | list[Item] | None) -> Item:
    """``item`` with the node at ``path`` replaced by ``new`` (None removes it, a list splices)."""
    if not path:
        assert isinstance(new, Item)
        return new
    kids = list(item.children)
    i = path[0]
    if len(path) == 1:
        if new is None:
            del kids[i]
        elif isinstance(new, list):
            kids[i : i + 1] = new
        else:
            kids[i] = new
    else:
        kids[i] = _replace(kids[i], path[1:], new)
    return Item(item.tag, item.type, tuple(kids))


def mutate_tree(item: Item, rng: random.Random, donors: Sequence[Item] = (), rounds: int | None = None) -> Item:
    """Structure-aware mutations: tags, types, values, dropped/duplicated/moved children, nesting."""
    for _ in range(rounds or rng.choice([1, 1, 1, 2, 3, 5])):
        paths = _paths(item)
        path = rng.choice(paths)
        node = _get(item, path)
        kind = rng.randrange(14)
        if kind == 0:  # retag
            new = Item(random_tag(rng), node.type, node.value)
        elif kind == 1:  # retype with a fresh value
            t = ItemType(rng.randrange(1, 12))
            new = Item(node.tag, t, random_value(rng, t, node.tag) if t is not ItemType.STRUCTURE else ())  # type: ignore[arg-type]
        elif kind in (2, 3, 4):  # new value of the same type
            if node.type is ItemType.STRUCTURE:
                new = Item(node.tag, node.type, ())
            else:
                new = Item(node.tag, node.type, random_value(rng, node.type, node.tag))  # type: ignore[arg-type]
        elif kind == 5 and path:  # drop
            item = _replace(item, path, None)
            continue
        elif kind == 6 and path:  # duplicate
            item = _replace(item, path, [node] * rng.choice([2, 2, 3, 50]))
            continue
        elif kind == 7 and node.type is ItemType.STRUCTURE and node.children:  # shuffle
            kids = list(node.children)
            rng.shuffle(kids)
            new = Item(node.tag, node.type, tuple(kids))
        elif kind == 8 and node.type is ItemType.STRUCTURE:  # insert a random or donated child
            kids = list(node.children)
            donor = rng.choice(donors) if donors and rng.random() < 0.5 else None
            extra = rng.choice(_paths(donor)) if donor is not None else None
            child = _get(donor, extra) if donor is not None and extra is not None else random_item(rng)
            kids.insert(rng.randrange(len(kids) + 1), child)
            new = Item(node.tag, node.type, tuple(kids))
        elif kind == 9:  # deep nesting
            new = node
            for _ in range(rng.choice([1, 2, 30, 40])):
                new = structure(rng.choice([node.tag, Tag.ATTRIBUTE, Tag.REQUEST_PAYLOAD]), new)
        elif kind == 10 and path:  # move the node somewhere else
            item = _replace(item, path, None)
            targets = [p for p in _paths(item) if _get(item, p).type is ItemType.STRUCTURE]
            if targets:
                target = rng.choice(targets)
                holder = _get(item, target)
                kids = list(holder.children)
                kids.insert(rng.randrange(len(kids) + 1), node)
                item = _replace(item, target, Item(holder.tag, holder.type, tuple(kids)))
            continue
        elif kind == 11 and node.type is ItemType.ENUMERATION:  # swap the enum for a valid one of another tag
            tag = rng.choice(list(_ENUM_TAGS)) if _ENUM_TAGS else node.tag
            values = _ENUM_TAGS.get(tag) or [0]
            new = Item(node.tag, node.type, rng.choice(values))
        elif kind == 12 and node.type is ItemType.TEXT_STRING:  # another object's uid or an edge string
            new = Item(node.tag, node.type, rng.choice(TEXT_EDGES))
        elif kind == 13 and node.type is ItemType.STRUCTURE and node.children:  # truncate children
            new = Item(node.tag, node.type, node.children[: rng.randrange(len(node.children))])
        else:
            new = random_item(rng)
        item = _replace(item, path, new)
    return item


# --------------------------------------------------------------------------- byte mutations


def item_offsets(data: bytes) -> list[int]:
    """Offsets of the item headers in a well-formed encoding (best effort on malformed bytes)."""
    out: list[int] = []
    stack = [(0, len(data))]
    while stack and len(out) < 10_000:
        pos, end = stack.pop()
        while pos + 8 <= end:
            out.append(pos)
            kind = data[pos + 3]
            length = struct.unpack_from(">I", data, pos + 4)[0]
            stop = pos + 8 + ((length + 7) & ~7)
            if kind == 1 and stop <= end:
                stack.append((pos + 8, stop))
            pos = stop
    return out


INTERESTING_U32 = [0, 1, 7, 8, 9, 15, 16, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFF, 1 << 20, (1 << 20) + 8]


def mutate_bytes(data: bytes, rng: random.Random, max_len: int = 1 << 16) -> bytes:
    """Byte-level mutations aware of TTLV headers (lengths, type bytes, tags) plus generic ones."""
    buf = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3, 6])):
        offsets = item_offsets(bytes(buf)) if buf else []
        kind = rng.randrange(11)
        if offsets and kind in (0, 1, 2, 3):
            at = rng.choice(offsets)
            if at + 8 > len(buf):
                continue
            if kind == 0:  # length field
                value = rng.choice(INTERESTING_U32) if rng.random() < 0.7 else (
                    struct.unpack_from(">I", buf, at + 4)[0] + rng.choice([-8, -1, 1, 8])) % (1 << 32)
                struct.pack_into(">I", buf, at + 4, value)
            elif kind == 1:  # type byte
                buf[at + 3] = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xFF])
            elif kind == 2:  # tag
                tag = random_tag(rng) if rng.random() < 0.8 else rng.randrange(1 << 24)
                buf[at : at + 3] = tag.to_bytes(3, "big")
            else:  # value bytes: padding, booleans, text
                start = at + 8
                if start < len(buf):
                    j = rng.randrange(start, min(len(buf), start + 16))
                    buf[j] = rng.choice([0, 1, 0x80, 0xFF, 0xC0, 0xED, rng.randrange(256)])
        elif kind == 4 and buf:
            j = rng.randrange(len(buf))
            buf[j] ^= 1 << rng.randrange(8)
        elif kind == 5 and buf:  # truncate
            del buf[rng.randrange(len(buf)) :]
        elif kind == 6:  # append junk or a copy of a chunk
            if buf and rng.random() < 0.5:
                i = rng.randrange(len(buf))
                buf += buf[i : i + rng.randrange(1, 64)]
            else:
                buf += rng.randbytes(rng.randrange(1, 24))
        elif kind == 7 and buf:  # insert
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.choice([1, 4, 8]))
        elif kind == 8 and buf:  # delete a range
            i = rng.randrange(len(buf))
            del buf[i : i + rng.choice([1, 4, 8, 16])]
        elif kind == 9 and len(buf) > 16:  # duplicate a chunk in place
            i = rng.randrange(len(buf))
            j = rng.randrange(len(buf))
            buf[j:j] = buf[i : i + rng.randrange(1, 128)]
        else:
            buf = bytearray(rng.randbytes(rng.randrange(0, 64))) if rng.random() < 0.1 else buf
    return bytes(buf[:max_len])


# --------------------------------------------------------------------------- generators of inputs


def encode_or_none(item: Item) -> bytes | None:
    try:
        return encode(item)
    except (TTLVError, TypeError, ValueError, AssertionError, OverflowError):
        return None


def mutate_focused(item: Item, rng: random.Random, focus: int, donors: Sequence[Item] = ()) -> Item:
    """Mutate only inside one item tagged ``focus`` (e.g. a Request Payload), keeping the envelope valid."""
    spots = [p for p in _paths(item) if _get(item, p).tag == focus]
    if not spots:
        return mutate_tree(item, rng, donors)
    spot = rng.choice(spots)
    return _replace(item, spot, mutate_tree(_get(item, spot), rng, donors))


def generate_ttlv(rng: random.Random, seeds: Sequence[Item], max_len: int = 1 << 16,
                  focus: int | None = None) -> bytes:
    """One fuzz input: random bytes, a mutated seed tree, or byte mutations of a seed's encoding.

    With ``focus`` (a tag), most tree mutations stay inside items of that tag.
    """
    roll = rng.random()
    if roll < 0.05 or not seeds:
        return rng.randbytes(rng.randrange(0, 256))
    seed = rng.choice(seeds)
    if roll < (0.85 if focus is not None else 0.65):
        if focus is not None and rng.random() < 0.75:
            tree = mutate_focused(seed, rng, focus, seeds)
        else:
            tree = mutate_tree(seed, rng, seeds)
        data = encode_or_none(tree)
        if data is not None:
            return data[:max_len] if rng.random() < 0.9 else mutate_bytes(data, rng, max_len)
    data = encode_or_none(seed) or b""
    return mutate_bytes(data, rng, max_len)


# --------------------------------------------------------------------------- properties


def check_ttlv_decode(data: bytes) -> Item | None:
    """decode either returns an Item or raises TTLVError; a decoded item re-encodes to an equal tree."""
    try:
        item = decode(data)
    except ALLOWED:
        return None
    try:
        again = decode(encode(item))
    except TTLVError as exc:
        raise PropertyViolation(f"decoded item does not re-encode/decode: {exc}") from exc
    if again != item:
        raise PropertyViolation("decode(encode(decode(x))) != decode(x)")
    return item


def check_framer(data: bytes, cuts: Iterable[int] = ()) -> None:
    """Framer.feed yields whole messages or raises FramingError, never buffers more than its limit."""
    limit = 4096
    framer = Framer(max_message_size=limit)
    pos = 0
    chunks = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
    try:
        for cut in chunks:
            messages = framer.feed(data[pos:cut])
            pos = cut
            for message in messages:
                if len(message) > limit or len(message) < 8 or message[3] != 1:
                    raise PropertyViolation(f"Framer produced a bad message of {len(message)} bytes")
            if framer.buffered > limit:
                raise PropertyViolation(f"Framer buffers {framer.buffered} bytes, over its limit of {limit}")
    except FramingError:
        return


def ttlv_target(data: bytes) -> None:
    check_ttlv_decode(data)
    check_framer(data, cuts=(len(data) // 3, len(data) // 2, 8))


# --------------------------------------------------------------------------- the run loop


@dataclass
class Stats:
    name: str
    executed: int = 0
    crashes: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    slowest: float = 0.0
    last_report: float = field(default_factory=time.monotonic)
    crash_dir: Path | None = None

    def record(self, data: bytes, exc: BaseException) -> bool:
        """Keep the first (and smallest) input per crash signature; True when the signature is new."""
        sig = signature(exc)
        tb = "".join(traceback.format_exception(exc))
        new = sig not in self.crashes
        if new or len(data) < len(self.crashes[sig][0]):
            self.crashes[sig] = (data, tb)
            if self.crash_dir is not None:
                self.crash_dir.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha1(sig.encode()).hexdigest()[:12]
                (self.crash_dir / f"crash-{digest}.bin").write_bytes(data)
                (self.crash_dir / f"crash-{digest}.txt").write_text(f"{sig}\n\ninput hex: {data.hex()}\n\n{tb}")
        if new:
            print(f"[{self.name}] NEW CRASH #{len(self.crashes)}: {sig}\n  input ({len(data)} bytes): "
                  f"{data[:200].hex()}{'...' if len(data) > 200 else ''}", file=sys.stderr, flush=True)
        return new

    def report(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last_report < 30:
            return
        self.last_report = now
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"[{self.name}] {'FINAL ' if final else ''}inputs={self.executed} unique_crashes={len(self.crashes)} "
              f"elapsed={now - self.started:.0f}s peak_rss={rss_kb / 1024:.1f}MiB slowest_input={self.slowest:.3f}s",
              file=sys.stderr, flush=True)
        if final:
            for sig, (data, _) in self.crashes.items():
                print(f"  crash: {sig}\n    smallest input ({len(data)} bytes): {data[:300].hex()}", file=sys.stderr)


#: An input taking longer than this counts as a hang.
HANG_SECONDS = 5.0


@dataclass
class Harness:
    """One fuzz target with its input generator (random loop) and custom mutator (atheris)."""

    name: str
    target: Callable[[bytes], None]
    seeds: Callable[[], list[bytes]]
    generate: Callable[[random.Random, list[bytes]], bytes]
    max_len: int = 1 << 16

    def main(self, argv: list[str] | None = None) -> int:
        argv = list(sys.argv if argv is None else argv)
        parser = argparse.ArgumentParser(description=f"fuzz {self.name}", add_help=False)
        parser.add_argument("--iterations", type=int)
        parser.add_argument("--seconds", type=float)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--keep-going", action="store_true",
                            help="record crashes and continue instead of stopping at the first")
        parser.add_argument("--crash-dir", type=Path, default=Path(tempfile.gettempdir()) / "kmipd-fuzz" / self.name)
        parser.add_argument("--random", action="store_true", help="the plain random loop even if atheris is present")
        opts, rest = parser.parse_known_args(argv[1:])
        try:
            import atheris
        except ImportError:
            atheris = None
        if atheris is None or opts.random or opts.iterations is not None:
            return self.random_loop(opts.iterations, opts.seconds, opts.seed, opts.keep_going, opts.crash_dir)
        return self.atheris_loop(argv[0], rest, opts.seed, opts.keep_going, opts.crash_dir)

    def _one(self, data: bytes, stats: Stats, keep_going: bool) -> None:
        start = time.monotonic()
        try:
            self.target(data)
        except Exception as exc:
            stats.record(data, exc)
            if not keep_going:
                raise
        finally:
            took = time.monotonic() - start
            stats.slowest = max(stats.slowest, took)
            stats.executed += 1
            if took > HANG_SECONDS:
                stats.record(data, PropertyViolation(f"hang: one input took {took:.1f}s"))
            stats.report()

    def random_loop(self, iterations: int | None, seconds: float | None, seed: int, keep_going: bool,
                    crash_dir: Path) -> int:
        rng = random.Random(seed)
        stats = Stats(self.name, crash_dir=crash_dir)
        seeds = self.seeds()
        print(f"[{self.name}] random loop: {len(seeds)} seeds, seed={seed}, iterations={iterations}, "
              f"seconds={seconds}", file=sys.stderr, flush=True)
        deadline = None if seconds is None else time.monotonic() + seconds
        if iterations is None and seconds is None:
            iterations = 10_000
        for data in seeds:
            self._one(data, stats, True)
        i = 0
        try:
            while (iterations is None or i < iterations) and (deadline is None or time.monotonic() < deadline):
                i += 1
                data = self.generate(rng, seeds)
                try:
                    self._one(data, stats, keep_going)
                except Exception:
                    break
        finally:
            stats.report(final=True)
        return 1 if stats.crashes else 0

    def atheris_loop(self, argv0: str, libfuzzer_args: list[str], seed: int, keep_going: bool,
                     crash_dir: Path) -> int:
        import atheris

        stats = Stats(self.name, crash_dir=crash_dir)
        corpus = Path(tempfile.mkdtemp(prefix=f"kmipd-fuzz-{self.name}-corpus-"))
        seeds = self.seeds()
        for n, data in enumerate(seeds):
            (corpus / f"seed-{n:04d}").write_bytes(data)
        print(f"[{self.name}] atheris: {len(seeds)} seeds in {corpus}", file=sys.stderr, flush=True)

        def one_input(data: bytes) -> None:
            self._one(data, stats, keep_going)

        def mutator(data: bytes, max_size: int, mseed: int) -> bytes:
            rng = random.Random(mseed ^ seed)
            if rng.random() < 0.35:
                return atheris.Mutate(data, max_size)
            if rng.random() < 0.5:
                return self.generate(rng, [data, *rng.sample(seeds, min(3, len(seeds)))])[:max_size]
            return self.generate(rng, [data])[:max_size]

        import atexit

        atexit.register(stats.report, True)
        args = [argv0, *libfuzzer_args, str(corpus)]
        if not any(a.startswith("-max_len=") for a in args):
            args.insert(1, f"-max_len={self.max_len}")
        if not any(a.startswith("-rss_limit_mb=") for a in args):
            args.insert(1, "-rss_limit_mb=2048")
        if not any(a.startswith("-timeout=") for a in args):
            args.insert(1, "-timeout=20")
        atheris.instrument_all()
        atheris.Setup(args, one_input, custom_mutator=mutator)
        atheris.Fuzz()
        return 0


def ttlv_seeds() -> list[bytes]:
    items = [item for _, item in seed_requests()]
    out = [encode(item) for item in items]
    out += [encode(structure(Tag.RESPONSE_MESSAGE, random_item(random.Random(n)))) for n in range(20)]
    out += [b"", bytes(8), b"\x42\x00\x78\x01\x00\x00\x00\x00", b"\x42\x00\x78\x01\xff\xff\xff\xf8"]
    return out


def generate_ttlv_input(rng: random.Random, seeds: list[bytes]) -> bytes:
    if rng.random() < 0.5 and seeds:
        return mutate_bytes(rng.choice(seeds), rng)
    trees = [t for t in (_decode_or_none(rng.choice(seeds)) for _ in range(2)) if t is not None] if seeds else []
    return generate_ttlv(rng, trees)


def _decode_or_none(data: bytes) -> Item | None:
    try:
        return decode(data)
    except TTLVError:
        return None


HARNESS = Harness("ttlv", ttlv_target, ttlv_seeds, generate_ttlv_input)

if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(HARNESS.main())
