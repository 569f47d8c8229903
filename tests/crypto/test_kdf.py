"""Known-answer tests of the key derivation functions behind Derive Key."""

from __future__ import annotations

import hashlib
import hmac as std_hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, KBKDFHMAC, CounterLocation, Mode

from kmipd.crypto import kdf
from kmipd.crypto.errors import BadParameters, UnsupportedParameters
from kmipd.protocol.enums import CryptographicAlgorithm, HashingAlgorithm

h = bytes.fromhex


# --------------------------------------------------------------------------- PBKDF2 (RFC 6070)


@pytest.mark.parametrize(
    ("password", "salt", "iterations", "expected"),
    [
        (b"password", b"salt", 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
        (b"password", b"salt", 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        (b"password", b"salt", 4096, "4b007901b765489abead49d926f721d065a429c1"),
        (
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
        ),
        (b"pass\0word", b"sa\0lt", 4096, "56fa6aa75548099dcc37d7f03425e0c3"),
    ],
)
def test_pbkdf2_hmac_sha1_rfc6070(password: bytes, salt: bytes, iterations: int, expected: str) -> None:
    out = kdf.pbkdf2(password, salt=salt, iterations=iterations, length=len(h(expected)), algorithm=hashes.SHA1())
    assert out == h(expected)


def test_pbkdf2_refuses_unbounded_work_and_bad_inputs() -> None:
    sha256 = hashes.SHA256()
    with pytest.raises(BadParameters, match="Iteration Count"):
        kdf.pbkdf2(b"pw", salt=b"s", iterations=kdf.MAX_PBKDF2_WORK + 1, length=32, algorithm=sha256)
    # The budget counts output blocks too: two SHA-256 blocks at half the budget each is over it.
    with pytest.raises(BadParameters):
        kdf.pbkdf2(b"pw", salt=b"s", iterations=kdf.MAX_PBKDF2_WORK // 2 + 1, length=33, algorithm=sha256)
    with pytest.raises(BadParameters):
        kdf.pbkdf2(b"pw", salt=b"s", iterations=0, length=32, algorithm=sha256)
    with pytest.raises(BadParameters):
        kdf.pbkdf2(b"", salt=b"s", iterations=1, length=32, algorithm=sha256)
    with pytest.raises(BadParameters):
        kdf.pbkdf2(b"pw", salt=b"s", iterations=1, length=kdf.MAX_OUTPUT_BYTES + 1, algorithm=sha256)


# --------------------------------------------------------------------------- HKDF (RFC 5869)

_IKM = bytes([0x0B] * 22)
_SALT = bytes(range(0x0D))
_INFO = bytes(range(0xF0, 0xFA))


@pytest.mark.parametrize(
    ("algorithm", "ikm", "salt", "info", "expected"),
    [
        (  # Test Case 1
            hashes.SHA256(),
            _IKM,
            _SALT,
            _INFO,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (  # Test Case 3: no salt, no info
            hashes.SHA256(),
            _IKM,
            None,
            None,
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
        (  # Test Case 4: SHA-1
            hashes.SHA1(),
            bytes([0x0B] * 11),
            _SALT,
            _INFO,
            "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896",
        ),
    ],
)
def test_hkdf_rfc5869(
    algorithm: hashes.HashAlgorithm, ikm: bytes, salt: bytes | None, info: bytes | None, expected: str
) -> None:
    assert kdf.hkdf(ikm, salt=salt, info=info, length=42, algorithm=algorithm) == h(expected)


def test_hkdf_empty_salt_and_info_read_as_absent() -> None:
    expected = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    assert kdf.hkdf(_IKM, salt=b"", info=b"", length=42, algorithm=hashes.SHA256()) == h(expected)


def test_hkdf_length_is_bounded() -> None:
    with pytest.raises(BadParameters):
        kdf.hkdf(_IKM, salt=None, info=None, length=255 * 20 + 1, algorithm=hashes.SHA1())


# --------------------------------------------------------------------------- HMAC and Hash


def test_hmac_derive_is_the_truncated_mac_rfc4231() -> None:
    mac = h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")  # RFC 4231 test case 2
    key, data = b"Jefe", b"what do ya want for nothing?"
    assert kdf.hmac_derive(key, data, length=32, algorithm=hashes.SHA256()) == mac
    assert kdf.hmac_derive(key, data, length=16, algorithm=hashes.SHA256()) == mac[:16]
    with pytest.raises(BadParameters, match="exceeds"):
        kdf.hmac_derive(key, data, length=33, algorithm=hashes.SHA256())
    with pytest.raises(BadParameters):
        kdf.hmac_derive(b"", data, length=16, algorithm=hashes.SHA256())


def test_hash_derive() -> None:
    digest = h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # SHA-256("abc")
    assert kdf.hash_derive(b"abc", length=32, algorithm=hashes.SHA256()) == digest
    assert kdf.hash_derive(b"abc", length=16, algorithm=hashes.SHA256()) == digest[:16]
    with pytest.raises(BadParameters):
        kdf.hash_derive(b"abc", length=33, algorithm=hashes.SHA256())
    with pytest.raises(BadParameters):
        kdf.hash_derive(b"abc", length=0, algorithm=hashes.SHA256())


def test_hash_lookups_refuse_md5() -> None:
    assert isinstance(kdf.hash_by_hashing_algorithm(HashingAlgorithm.SHA_384), hashes.SHA384)
    assert isinstance(kdf.hash_of_hmac(CryptographicAlgorithm.HMAC_SHA512), hashes.SHA512)
    assert kdf.hash_of_hmac(CryptographicAlgorithm.AES) is None
    with pytest.raises(UnsupportedParameters):
        kdf.hash_by_hashing_algorithm(HashingAlgorithm.MD5)
    with pytest.raises(UnsupportedParameters):
        kdf.hash_of_hmac(CryptographicAlgorithm.HMAC_MD5)
    with pytest.raises(UnsupportedParameters):
        kdf.hash_by_hashing_algorithm(HashingAlgorithm.WHIRLPOOL)


# --------------------------------------------------------------------------- NIST SP 800-108 counter mode


def _counter_mode_reference(key: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """SP 800-108 section 5.1 written out with the standard library: K(i) = HMAC(key, [i]32 || fixed)."""
    fixed = label + b"\x00" + context + (length * 8).to_bytes(4, "big")
    out = b""
    counter = 1
    while len(out) < length:
        out += std_hmac.new(key, counter.to_bytes(4, "big") + fixed, hashlib.sha256).digest()
        counter += 1
    return out[:length]


@pytest.mark.parametrize("length", [16, 32, 42, 64])
def test_kbkdf_counter_hmac_matches_the_construction(length: int) -> None:
    key, label, context = bytes(range(32)), b"encryption", b"session-7"
    derived = kdf.kbkdf_counter_hmac(key, label + b"\x00" + context, length=length, algorithm=hashes.SHA256())
    assert derived == _counter_mode_reference(key, label, context, length)
    # cryptography's own Label/Context form builds the same fixed input ([L]2 in 32 bits).
    reference = KBKDFHMAC(
        hashes.SHA256(), Mode.CounterMode, length, 4, 4, CounterLocation.BeforeFixed, label, context, None
    )
    assert derived == reference.derive(key)


def test_kbkdf_counter_cmac_matches_cryptography_label_context_form() -> None:
    key, label, context = bytes(range(16)), b"label", b"context"
    derived = kdf.kbkdf_counter_cmac(key, label + b"\x00" + context, length=48)
    reference = KBKDFCMAC(algorithms.AES, Mode.CounterMode, 48, 4, 4, CounterLocation.BeforeFixed, label, context, None)
    assert derived == reference.derive(key)
    with pytest.raises(BadParameters):
        kdf.kbkdf_counter_cmac(bytes(10), b"x", length=16)
    with pytest.raises(BadParameters):
        kdf.kbkdf_counter_hmac(b"", b"x", length=16, algorithm=hashes.SHA256())


def test_kbkdf_output_depends_on_the_length() -> None:
    """[L]2 is part of the fixed input, so a shorter request is not a prefix of a longer one."""
    key = bytes(32)
    short = kdf.kbkdf_counter_hmac(key, b"l\x00c", length=16, algorithm=hashes.SHA256())
    long = kdf.kbkdf_counter_hmac(key, b"l\x00c", length=32, algorithm=hashes.SHA256())
    assert long[:16] != short


# --------------------------------------------------------------------------- AWS Signature Version 4


def test_aws_sigv4_signing_key_from_aws_documentation() -> None:
    derived = kdf.aws_sigv4_signing_key(
        b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215", b"us-east-1", b"iam", length=32
    )
    assert derived == h("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    with pytest.raises(BadParameters):
        kdf.aws_sigv4_signing_key(b"k", b"d", b"r", b"s", length=33)
