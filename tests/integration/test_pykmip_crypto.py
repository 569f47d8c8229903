"""Symmetric cryptographic services with the PyKMIP 0.11 client (ProxyKmipClient), KMIP 1.2 and 2.0.

Covers Encrypt and Decrypt with AES-CBC (a client IV and a server-generated one) and MAC.
ProxyKmipClient has no fields for AEAD tags, so AES-GCM is covered by the Processor tests.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from kmip.core import enums
from kmip.core.enums import KMIPVersion
from kmip.pie.exceptions import KmipOperationFailure

from tests.integration.conftest import VERSIONS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Usage = enums.CryptographicUsageMask
CBC = {
    "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
    "block_cipher_mode": enums.BlockCipherMode.CBC,
    "padding_method": enums.PaddingMethod.PKCS5,
}


@pytest.fixture(params=list(VERSIONS), ids=[f"kmip{v}" for v in VERSIONS])
def alice(request: pytest.FixtureRequest, make_client: Any) -> Any:
    version: KMIPVersion = VERSIONS[request.param]
    return make_client("alice", version)


def _key(client: Any, masks: list[Any], algorithm: Any = enums.CryptographicAlgorithm.AES, length: int = 256) -> str:
    uid = str(client.create(algorithm, length, cryptographic_usage_mask=masks))
    client.activate(uid)
    return uid


def _cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def test_encrypt_decrypt_cbc_with_a_client_iv(alice: Any) -> None:
    uid = _key(alice, [Usage.ENCRYPT, Usage.DECRYPT])
    key = alice.get(uid).value
    iv = os.urandom(16)
    data = b"attack at dawn, bring snacks"
    ciphertext, returned_iv = alice.encrypt(data, uid=uid, cryptographic_parameters=CBC, iv_counter_nonce=iv)
    assert returned_iv is None  # the client's IV is used, not echoed
    assert ciphertext == _cbc(key, iv, data)
    assert alice.decrypt(ciphertext, uid=uid, cryptographic_parameters=CBC, iv_counter_nonce=iv) == data


def test_server_generated_iv_is_returned(alice: Any) -> None:
    uid = _key(alice, [Usage.ENCRYPT, Usage.DECRYPT])
    key = alice.get(uid).value
    data = b"no parameters at all, as MongoDB sends"
    ciphertext, iv = alice.encrypt(data, uid=uid)
    assert iv is not None and len(iv) == 16
    assert ciphertext == _cbc(key, iv, data)
    random_iv = dict(CBC, random_iv=True)
    again, second_iv = alice.encrypt(data, uid=uid, cryptographic_parameters=random_iv)
    assert second_iv is not None and second_iv != iv and again != ciphertext
    assert alice.decrypt(again, uid=uid, cryptographic_parameters=CBC, iv_counter_nonce=second_iv) == data


def test_decrypt_refuses_bad_padding(alice: Any) -> None:
    # (ProxyKmipClient.create always adds Encrypt and Decrypt to the usage mask, so refusals by
    # usage mask are covered by the Processor tests.)
    uid = _key(alice, [Usage.ENCRYPT, Usage.DECRYPT])
    key, iv = alice.get(uid).value, os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    zeros = encryptor.update(bytes(16)) + encryptor.finalize()  # decrypts to a block without PKCS#7 padding
    with pytest.raises(KmipOperationFailure) as failed:
        alice.decrypt(zeros, uid=uid, cryptographic_parameters=CBC, iv_counter_nonce=iv)
    assert failed.value.reason == enums.ResultReason.CRYPTOGRAPHIC_FAILURE


def test_mac_hmac_sha256(alice: Any) -> None:
    uid = _key(alice, [Usage.MAC_GENERATE], enums.CryptographicAlgorithm.HMAC_SHA256, 256)
    key = alice.get(uid).value
    data = b"message to authenticate"
    mac_uid, mac_data = alice.mac(data, uid=uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
    assert mac_uid == uid
    expected = hmac.HMAC(key, hashes.SHA256())
    expected.update(data)
    assert mac_data == expected.finalize()
    # Without an algorithm the key's own (HMAC-SHA256) is used.
    assert alice.mac(data, uid=uid)[1] == mac_data
