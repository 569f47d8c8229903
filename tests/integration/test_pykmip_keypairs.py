"""Key pairs with the PyKMIP 0.11 client: CreateKeyPair, Get of both keys, Sign and SignatureVerify."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kmip.core import enums, misc
from kmip.core.enums import KMIPVersion
from kmip.pie import objects

from tests.integration.conftest import VERSIONS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Usage = enums.CryptographicUsageMask
DATA = b"data to be signed by kmipd"
PSS = {
    "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
    "padding_method": enums.PaddingMethod.PSS,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
}


@pytest.fixture(params=list(VERSIONS), ids=[f"kmip{v}" for v in VERSIONS])
def alice(request: pytest.FixtureRequest, make_client: Any) -> Any:
    version: KMIPVersion = VERSIONS[request.param]
    return make_client("alice", version)


def _pair(client: Any) -> tuple[str, str]:
    public_uid, private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA,
        2048,
        public_usage_mask=[Usage.VERIFY],
        private_usage_mask=[Usage.SIGN],
    )
    return str(public_uid), str(private_uid)


def test_create_key_pair_and_get_both_keys(alice: Any) -> None:
    public_uid, private_uid = _pair(alice)
    public = alice.get(public_uid)
    private = alice.get(private_uid)
    assert isinstance(public, objects.PublicKey) and isinstance(private, objects.PrivateKey)
    assert public.key_format_type == enums.KeyFormatType.PKCS_1
    assert public.cryptographic_length == private.cryptographic_length == 2048
    private_key = serialization.load_der_private_key(private.value, None)
    public_key = serialization.load_der_public_key(public.value)
    assert isinstance(private_key, rsa.RSAPrivateKey) and isinstance(public_key, rsa.RSAPublicKey)
    assert private_key.public_key().public_numbers() == public_key.public_numbers()


def test_get_in_another_format(alice: Any) -> None:
    _, private_uid = _pair(alice)
    pkcs1 = alice.get(private_uid)
    # pykmip's Get has no Key Format Type argument: ask through the lower-level proxy.
    result = alice.proxy.get(private_uid, key_format_type=misc.KeyFormatType(enums.KeyFormatType.PKCS_8))
    assert result.result_status.value == enums.ResultStatus.SUCCESS
    pkcs8 = result.secret.key_block.key_value.key_material.value
    key = serialization.load_der_private_key(pkcs8, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.private_numbers() == serialization.load_der_private_key(pkcs1.value, None).private_numbers()  # type: ignore[union-attr]


def test_sign_and_verify(alice: Any) -> None:
    public_uid, private_uid = _pair(alice)
    alice.activate(private_uid)
    alice.activate(public_uid)
    signature = alice.sign(DATA, uid=private_uid, cryptographic_parameters=PSS)
    public_key = serialization.load_der_public_key(alice.get(public_uid).value)
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, DATA, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    valid = alice.signature_verify(DATA, signature, uid=public_uid, cryptographic_parameters=PSS)
    assert valid == enums.ValidityIndicator.VALID
    tampered = alice.signature_verify(DATA + b"!", signature, uid=public_uid, cryptographic_parameters=PSS)
    assert tampered == enums.ValidityIndicator.INVALID
