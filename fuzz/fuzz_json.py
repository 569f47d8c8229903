"""Fuzz the KMIP JSON decoder (kmipd.ttlv.jsonenc.decode_json) and its round trip through encode_json.

Property: any input (bytes, or the same bytes as str when they are UTF-8) decodes to an Item
or raises TTLVError -- never another exception, never a hang; a decoded item encodes back to
JSON that decodes to the same tree.

    python fuzz/fuzz_json.py -max_total_time=180 --keep-going   # atheris
    python fuzz/fuzz_json.py --iterations 20000 --seed 1        # plain random loop
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_ttlv import (
    ALLOWED,
    Harness,
    PropertyViolation,
    mutate_tree,
    seed_requests,
    shared_vector_seeds,
)
from fuzz_xml import TYPE_TOKENS, VALUE_TOKENS

from kmipd.protocol.names import spec_names
from kmipd.ttlv import Item, TTLVError
from kmipd.ttlv.jsonenc import decode_json, encode_json
from kmipd.ttlv.xml import decode_xml

NAMES = spec_names()

JSON_VALUES: list[Any] = [
    *VALUE_TOKENS, 0, -1, 1.5, 1e308, 2**31, -(2**31) - 1, 2**32, 2**63, -(2**63) - 1, 2**64, 10**400,
    True, False, None, [], {}, [{}], {"tag": "x"}, "0x" + "0" * 16, "0x8000000000000000",
]
TEXT_SNIPPETS = ["NaN", "Infinity", "-Infinity", "1e5", "[" * 2000, "{" * 50, '"\\ud800"', '"\\u0000"', "\x00",
                 '{"tag":"RequestMessage","tag":"x","value":[]}', "1" * 5000, ",", "]", "}", '"', "\ufeff"]


def _walk(obj: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(obj, dict):
        out.append(obj)
        for v in obj.values():
            _walk(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, out)


def mutate_object(obj: Any, rng: random.Random) -> Any:
    nodes: list[dict[str, Any]] = []
    _walk(obj, nodes)
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not nodes:
            break
        node = rng.choice(nodes)
        kind = rng.randrange(7)
        if kind < 3:
            node["value"] = rng.choice(JSON_VALUES)
        elif kind == 3:
            node["type"] = rng.choice([*TYPE_TOKENS, 1, None])
        elif kind == 4:
            node["tag"] = rng.choice(["0x420001", "0x42", "0x000001", "0x54ffff", "Bogus", 5, None, "TTLV"])
        elif kind == 5:
            node.pop(rng.choice(["tag", "type", "value"]), None)
        else:
            node[rng.choice(["extra", "Value", "TAG"])] = 1
    return obj


def seeds() -> list[bytes]:
    out = [encode_json(item, NAMES).encode() for _, item in seed_requests()]
    for raw in shared_vector_seeds(60):  # the XML vectors, re-encoded as JSON
        try:
            out.append(encode_json(decode_xml(raw, NAMES, placeholder=lambda t, k, s: 0), NAMES).encode())
        except (TTLVError, ValueError, TypeError):
            continue
    return [*out, b"", b"{}", b"[]", b'{"tag":"RequestMessage","value":[]}']


def generate(rng: random.Random, pool: list[bytes]) -> bytes:
    if not pool:
        return rng.randbytes(rng.randrange(64))
    data = rng.choice(pool)
    roll = rng.random()
    if roll < 0.4:
        with contextlib.suppress(TTLVError, ValueError, TypeError, OverflowError):
            data = encode_json(mutate_tree(decode_json(data, NAMES), rng), NAMES).encode()
    elif roll < 0.8:
        with contextlib.suppress(ValueError, TypeError, RecursionError):
            data = json.dumps(mutate_object(json.loads(data), rng)).encode()
    if rng.random() < 0.3 or roll >= 0.8:
        text = data.decode("utf-8", "replace")
        i = rng.randrange(len(text) + 1)
        if rng.random() < 0.5:
            text = text[:i] + rng.choice(TEXT_SNIPPETS) + text[i:]
        else:
            text = text[:i] + text[i + rng.randrange(1, 10) :]
        data = text.encode("utf-8", "surrogatepass")
    return data


def check(item: Item) -> None:
    try:
        again = decode_json(encode_json(item, NAMES), NAMES)
    except TTLVError as exc:
        raise PropertyViolation(f"decoded JSON item does not round-trip: {exc}") from exc
    if again != item:
        raise PropertyViolation("decode_json(encode_json(item)) != item")


def target(data: bytes) -> None:
    inputs: list[str | bytes] = [data]
    with contextlib.suppress(UnicodeDecodeError):
        inputs.append(data.decode("utf-8"))
    for source in inputs:
        try:
            item = decode_json(source, NAMES)
        except ALLOWED:
            continue
        check(item)


HARNESS = Harness("json", target, seeds, generate)

if __name__ == "__main__":
    sys.exit(HARNESS.main())
