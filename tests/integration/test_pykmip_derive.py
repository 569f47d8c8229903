"""DeriveKey with the PyKMIP 0.11 client (ProxyKmipClient.derive_key) against a running kmipd, KMIP 1.2 and 2.0.

Each base object is registered with known bytes, so the derived key the server
returns through Get can be recomputed here with `cryptography` alone.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from kmip.core import enums
from kmip.core.enums import KMIPVersion
from kmip.pie import objects
from kmip.pie.exceptions import KmipOperationFailure

from tests.integration.conftest import VERSIONS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Usage = enums.CryptographicUsageMask
Alg = enums.CryptographicAlgorithm
Method = enums.DerivationMethod
AES_256 = {"cryptographic_algorithm": Alg.AES, "cryptographic_length": 256}


@pytest.fixture(params=list(VERSIONS), ids=[f"kmip{v}" for v in VERSIONS])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def alice(version: str, make_client: Any) -> Any:
    kmip_version: KMIPVersion = VERSIONS[version]
    return make_client("alice", kmip_version)


def _unique(kind: str) -> str:
    return f"derive-{kind}-{uuid.uuid4().hex[:12]}"


def _base_key(client: Any, material: bytes, algorithm: Any = Alg.AES, masks: list[Any] | None = None) -> str:
    key = objects.SymmetricKey(
        algorithm, len(material) * 8, material, masks=masks or [Usage.DERIVE_KEY], name=_unique("key")
    )
    uid = str(client.register(key))
    client.activate(uid)
    return uid


def _password(client: Any, password: bytes) -> str:
    secret = objects.SecretData(password, enums.SecretDataType.PASSWORD, masks=[Usage.DERIVE_KEY], name=_unique("pw"))
    uid = str(client.register(secret))
    client.activate(uid)
    return uid


def _derive(client: Any, uids: list[str], method: Any, parameters: dict[str, Any], **attributes: Any) -> str:
    return str(client.derive_key(enums.ObjectType.SYMMETRIC_KEY, uids, method, parameters, **(attributes or AES_256)))


def test_pbkdf2_from_a_registered_password(alice: Any) -> None:
    password, salt = b"correct horse battery staple " + os.urandom(4), os.urandom(16)
    base = _password(alice, password)
    params = {
        "cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256},
        "salt": salt,
        "iteration_count": 4096,
    }
    uid = _derive(alice, [base], Method.PBKDF2, params)
    derived = alice.get(uid)
    assert derived.cryptographic_algorithm == Alg.AES and derived.cryptographic_length == 256
    assert derived.value == PBKDF2HMAC(hashes.SHA256(), 32, salt, 4096).derive(password)


def test_hmac_with_an_hmac_key(alice: Any) -> None:
    key, data = os.urandom(32), b"context for this key"
    base = _base_key(alice, key, Alg.HMAC_SHA256)
    uid = _derive(
        alice, [base], Method.HMAC, {"derivation_data": data}, cryptographic_algorithm=Alg.AES, cryptographic_length=128
    )
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    assert alice.get(uid).value == mac.finalize()[:16]


def test_nist_800_108_counter_mode(alice: Any) -> None:
    key, label, context = os.urandom(32), b"kmipd", b"pykmip"
    base = _base_key(alice, key, Alg.HMAC_SHA256)
    params = {
        "cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256},
        "derivation_data": label + b"\x00" + context,
    }
    uid = _derive(alice, [base], Method.NIST800_108_C, params)
    reference = KBKDFHMAC(
        hashes.SHA256(), Mode.CounterMode, 32, 4, 4, CounterLocation.BeforeFixed, label, context, None
    )
    assert alice.get(uid).value == reference.derive(key)


def test_encrypt_and_hash(alice: Any) -> None:
    key, data = os.urandom(32), os.urandom(32)
    base = _base_key(alice, key)
    ecb = {
        "cryptographic_parameters": {
            "cryptographic_algorithm": Alg.AES,
            "block_cipher_mode": enums.BlockCipherMode.ECB,
        },
        "derivation_data": data,
    }
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    assert alice.get(_derive(alice, [base], Method.ENCRYPT, ecb)).value == encryptor.update(data)
    hashed = {
        "cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_512},
        "derivation_data": data,
    }
    digest = hashes.Hash(hashes.SHA512())
    digest.update(data)
    assert alice.get(_derive(alice, [base], Method.HASH, hashed)).value == digest.finalize()[:32]


def test_secret_data_can_be_derived(alice: Any) -> None:
    key, data = os.urandom(64), b"two keys and an iv"
    base = _base_key(alice, key, Alg.HMAC_SHA512)
    uid = alice.derive_key(
        enums.ObjectType.SECRET_DATA, [base], Method.HMAC, {"derivation_data": data}, cryptographic_length=384
    )
    mac = hmac.HMAC(key, hashes.SHA512())
    mac.update(data)
    derived = alice.get(uid)
    assert isinstance(derived, objects.SecretData)
    assert derived.value == mac.finalize()[:48]


def test_base_without_derive_key_is_refused(alice: Any, version: str) -> None:
    base = _base_key(alice, os.urandom(32), masks=[Usage.ENCRYPT, Usage.DECRYPT])
    with pytest.raises(KmipOperationFailure) as failed:
        _derive(
            alice,
            [base],
            Method.HASH,
            {
                "cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256},
                "derivation_data": b"x",
            },
        )
    expected = (
        enums.ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK
        if version == "2.0"
        else enums.ResultReason.INVALID_FIELD
    )
    assert failed.value.reason == expected


def test_another_clients_base_looks_missing(alice: Any, version: str, make_client: Any) -> None:
    base = _password(alice, b"alice's own password")
    bob = make_client("bob", VERSIONS[version])
    with pytest.raises(KmipOperationFailure) as failed:
        _derive(bob, [base], Method.PBKDF2, {"salt": b"salt", "iteration_count": 10})
    expected = enums.ResultReason.OBJECT_NOT_FOUND if version == "2.0" else enums.ResultReason.ITEM_NOT_FOUND
    assert failed.value.reason == expected
