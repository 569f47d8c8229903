"""Key wrapping through the Processor, in KMIP 1.4 and 2.1: Get with a Key Wrapping Specification, Register of
wrapped key material.

Every wrapped value is checked with ``cryptography`` directly (AES key wrap, RSA-OAEP, HMAC, CMAC, RSA
signatures), never with kmipd's own unwrapping, so that a symmetric mistake cannot pass unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives import cmac, hashes, hmac, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms

from kmipd.protocol.enums import BlockCipherMode as Mode
from kmipd.protocol.enums import CryptographicAlgorithm as Alg
from kmipd.protocol.enums import CryptographicUsageMask as Usage
from kmipd.protocol.enums import (
    EncodingOption,
    HashingAlgorithm,
    KeyFormatType,
    ObjectType,
    Operation,
    PaddingMethod,
    ResultReason,
    Tag,
)
from kmipd.protocol.enums import WrappingMethod as Method
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, structure, text
from tests.kmip_helpers import (
    V1_4,
    V2_0,
    V2_1,
    Client,
    Result,
    attr_1x,
    attr_2x,
    av,
    key_material,
    not_found_reason,
    symmetric_key,
)

Attrs = Sequence[tuple[str, Item]]
KEY = bytes(range(32))


@pytest.fixture(params=[V1_4, V2_1], ids=["1.4", "2.1"])
def client(request, processor) -> Client:  # type: ignore[no-untyped-def]
    return Client(processor, request.param)


def a(name: str, value: object) -> tuple[str, Item]:
    return name, av(name, value)


def usage_reason(client: Client) -> int:
    """Incompatible Cryptographic Usage Mask is a 2.x reason; 1.x clients are told Invalid Field."""
    return ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK if client.version >= V2_0 else ResultReason.INVALID_FIELD


def active_key(client: Client, mask: int, algorithm: int = Alg.AES, length: int = 256, attrs: Attrs = ()) -> str:
    uid = client.create_uid(algorithm=algorithm, length=length, attrs=[a("Cryptographic Usage Mask", mask), *attrs])
    client.activate(uid).expect_ok()
    return uid


def registered_key(client: Client, material: bytes, mask: int, algorithm: int = Alg.AES) -> str:
    uid = (
        client.register(
            ObjectType.SYMMETRIC_KEY, symmetric_key(material, algorithm), [a("Cryptographic Usage Mask", mask)]
        )
        .expect_ok()
        .uid
    )
    client.activate(uid).expect_ok()
    return uid


def plain(client: Client, uid: str) -> bytes:
    return key_material(client.get(uid).expect_ok())


def key_info(tag: int, uid: str, *params: Item) -> Item:
    return structure(
        tag, text(Tag.UNIQUE_IDENTIFIER, uid), structure(Tag.CRYPTOGRAPHIC_PARAMETERS, *params) if params else None
    )


def spec(
    method: int = Method.ENCRYPT,
    encryption: Item | None = None,
    authentication: Item | None = None,
    encoding: int | None = EncodingOption.NO_ENCODING,
    tag: int = Tag.KEY_WRAPPING_SPECIFICATION,
) -> Item:
    return structure(
        tag,
        enumeration(Tag.WRAPPING_METHOD, method),
        encryption,
        authentication,
        enumeration(Tag.ENCODING_OPTION, encoding) if encoding is not None else None,
    )


def kw(uid: str, mode: int = Mode.NISTKEYWRAP) -> Item:
    return key_info(Tag.ENCRYPTION_KEY_INFORMATION, uid, enumeration(Tag.BLOCK_CIPHER_MODE, mode))


def mac_info(uid: str, *params: Item) -> Item:
    return key_info(Tag.MAC_SIGNATURE_KEY_INFORMATION, uid, *params)


def wrapped_parts(result: Result, tag: int = Tag.SYMMETRIC_KEY) -> tuple[bytes, Item]:
    """The wrapped Key Value bytes and the Key Wrapping Data of a Get response."""
    body = result.expect_ok().find(tag)
    assert body is not None
    block = body.find(Tag.KEY_BLOCK)
    assert block is not None
    value = block.find(Tag.KEY_VALUE)
    data = block.find(Tag.KEY_WRAPPING_DATA)
    assert value is not None and value.type is ItemType.BYTE_STRING and data is not None
    return bytes(value.value), data  # type: ignore[arg-type]


def field(data: Item, *path: int) -> object:
    item: Item | None = data
    for tag in path:
        assert item is not None
        item = item.find(tag)
    assert item is not None, path
    return item.value


# --------------------------------------------------------------------------- Get: encryption


def test_get_wrapped_with_aes_key_wrap(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY | Usage.UNWRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    value, data = wrapped_parts(client.get(key, spec(encryption=kw(kek))))
    assert keywrap.aes_key_unwrap(plain(client, kek), value) == plain(client, key)
    assert field(data, Tag.WRAPPING_METHOD) == Method.ENCRYPT
    assert field(data, Tag.ENCRYPTION_KEY_INFORMATION, Tag.UNIQUE_IDENTIFIER) == kek
    assert field(data, Tag.ENCODING_OPTION) == EncodingOption.NO_ENCODING
    assert data.find(Tag.MAC_SIGNATURE) is None


def test_without_encoding_option_the_key_value_is_ttlv_encoded(client: Client) -> None:
    """KMIP 1.4 Table 12: "If Encoding Option is not present, the wrapped Key Value SHALL be TTLV encoded"."""
    kek = active_key(client, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    value, data = wrapped_parts(client.get(key, spec(encryption=kw(kek, Mode.AESKEYWRAPPADDING), encoding=None)))
    key_value = decode(keywrap.aes_key_unwrap_with_padding(plain(client, kek), value))
    assert key_value.tag == Tag.KEY_VALUE
    assert key_value.find(Tag.KEY_MATERIAL).value == plain(client, key)  # type: ignore[union-attr]
    assert data.find(Tag.ENCODING_OPTION) is None


@pytest.mark.parametrize("mode", [Mode.NISTKEYWRAP, Mode.AESKEYWRAPPADDING, None])
def test_odd_lengths_take_key_wrap_with_padding_and_say_so(client: Client, mode: int | None) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    hmac_key = registered_key(client, os.urandom(20), Usage.MAC_GENERATE, Alg.HMAC_SHA256)
    info = kw(kek, mode) if mode is not None else key_info(Tag.ENCRYPTION_KEY_INFORMATION, kek)
    value, data = wrapped_parts(client.get(hmac_key, spec(encryption=info)))
    assert keywrap.aes_key_unwrap_with_padding(plain(client, kek), value) == plain(client, hmac_key)
    reported = field(data, Tag.ENCRYPTION_KEY_INFORMATION, Tag.CRYPTOGRAPHIC_PARAMETERS, Tag.BLOCK_CIPHER_MODE)
    assert reported == Mode.AESKEYWRAPPADDING


# --------------------------------------------------------------------------- key pairs


def _pair_container(client: Client, which: int, attrs: Attrs) -> Item:
    if client.version >= V2_0:
        tag = (Tag.COMMON_ATTRIBUTES, Tag.PRIVATE_KEY_ATTRIBUTES, Tag.PUBLIC_KEY_ATTRIBUTES)[which]
        return structure(tag, *(attr_2x(n, v) for n, v in attrs))
    tag = (Tag.COMMON_TEMPLATE_ATTRIBUTE, Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE)[which]
    return structure(tag, *(attr_1x(n, v) for n, v in attrs))


def rsa_pair(client: Client, private_mask: int, public_mask: int) -> tuple[str, str, rsa.RSAPrivateKey]:
    """An active RSA-2048 pair: (private uid, public uid, the private key as ``cryptography`` reads it)."""
    result = client.call(
        Operation.CREATE_KEY_PAIR,
        _pair_container(client, 0, [a("Cryptographic Algorithm", Alg.RSA), a("Cryptographic Length", 2048)]),
        _pair_container(client, 1, [a("Cryptographic Usage Mask", private_mask)]),
        _pair_container(client, 2, [a("Cryptographic Usage Mask", public_mask)]),
    ).expect_ok()
    private_uid = str(result.find(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
    public_uid = str(result.find(Tag.PUBLIC_KEY_UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
    for uid in (private_uid, public_uid):
        client.activate(uid).expect_ok()
    got = client.get(private_uid, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.PKCS_8)).expect_ok()
    der = got.find(Tag.PRIVATE_KEY).find(Tag.KEY_BLOCK).find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL).value  # type: ignore[union-attr]
    private = serialization.load_der_private_key(der, password=None)  # type: ignore[arg-type]
    assert isinstance(private, rsa.RSAPrivateKey)
    return private_uid, public_uid, private


OAEP_PARAMS = (
    enumeration(Tag.PADDING_METHOD, PaddingMethod.OAEP),
    enumeration(Tag.HASHING_ALGORITHM, HashingAlgorithm.SHA_256),
)
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def test_get_wrapped_with_rsa_oaep_under_a_public_key(client: Client) -> None:
    _, public_uid, private = rsa_pair(client, Usage.UNWRAP_KEY, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    info = key_info(Tag.ENCRYPTION_KEY_INFORMATION, public_uid, *OAEP_PARAMS)
    value, _ = wrapped_parts(client.get(key, spec(encryption=info)))
    assert private.decrypt(value, OAEP) == plain(client, key)


# --------------------------------------------------------------------------- Get: MAC and signature


def _hmac(key: bytes, data: bytes) -> bytes:
    context = hmac.HMAC(key, hashes.SHA256())
    context.update(data)
    return context.finalize()


def test_encrypt_then_mac_macs_the_wrapped_value(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_GENERATE, Alg.HMAC_SHA256)
    key = active_key(client, Usage.ENCRYPT)
    value, data = wrapped_parts(client.get(key, spec(Method.ENCRYPT_THEN_MAC_SIGN, kw(kek), mac_info(mac_key))))
    assert keywrap.aes_key_unwrap(plain(client, kek), value) == plain(client, key)
    assert field(data, Tag.MAC_SIGNATURE) == _hmac(plain(client, mac_key), value)
    assert field(data, Tag.MAC_SIGNATURE_KEY_INFORMATION, Tag.UNIQUE_IDENTIFIER) == mac_key


def test_mac_then_encrypt_cmacs_the_plaintext_key_value(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    mac_key = active_key(client, Usage.MAC_GENERATE, length=128)  # AES: CMAC
    key = active_key(client, Usage.ENCRYPT)
    value, data = wrapped_parts(client.get(key, spec(Method.MAC_SIGN_THEN_ENCRYPT, kw(kek), mac_info(mac_key))))
    assert keywrap.aes_key_unwrap(plain(client, kek), value) == plain(client, key)
    expected = cmac.CMAC(algorithms.AES(plain(client, mac_key)))
    expected.update(plain(client, key))
    assert field(data, Tag.MAC_SIGNATURE) == expected.finalize()


def test_encrypt_then_sign_with_a_private_key(client: Client) -> None:
    private_uid, _, private = rsa_pair(client, Usage.SIGN, Usage.VERIFY)
    kek = active_key(client, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    pss = (
        enumeration(Tag.PADDING_METHOD, PaddingMethod.PSS),
        enumeration(Tag.HASHING_ALGORITHM, HashingAlgorithm.SHA_256),
    )
    value, data = wrapped_parts(
        client.get(key, spec(Method.ENCRYPT_THEN_MAC_SIGN, kw(kek), mac_info(private_uid, *pss)))
    )
    signature = field(data, Tag.MAC_SIGNATURE)
    assert isinstance(signature, bytes)
    pss_padding = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    private.public_key().verify(signature, value, pss_padding, hashes.SHA256())  # raises when invalid


def test_mac_key_needs_mac_generate(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_VERIFY, Alg.HMAC_SHA256)
    key = active_key(client, Usage.ENCRYPT)
    result = client.get(key, spec(Method.ENCRYPT_THEN_MAC_SIGN, kw(kek), mac_info(mac_key)))
    assert result.failure()[0] == usage_reason(client)


def test_mac_sign_only_sends_the_key_value_with_its_mac(client: Client) -> None:
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_GENERATE, Alg.HMAC_SHA256)
    key = active_key(client, Usage.ENCRYPT)
    value, data = wrapped_parts(client.get(key, spec(Method.MAC_SIGN, authentication=mac_info(mac_key))))
    assert value == plain(client, key)
    assert field(data, Tag.MAC_SIGNATURE) == _hmac(plain(client, mac_key), value)
    assert data.find(Tag.ENCRYPTION_KEY_INFORMATION) is None


def test_mac_sign_only_is_refused_for_a_sensitive_key(client: Client) -> None:
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_GENERATE, Alg.HMAC_SHA256)
    key = active_key(client, Usage.ENCRYPT, attrs=[a("Sensitive", True)])
    assert not client.get(key, spec(Method.MAC_SIGN, authentication=mac_info(mac_key))).ok


def test_key_information_must_fit_the_method(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    assert client.get(key, spec(Method.ENCRYPT_THEN_MAC_SIGN, kw(kek))).failure()[0] == ResultReason.MISSING_DATA
    assert client.get(key, spec(Method.ENCRYPT)).failure()[0] == ResultReason.MISSING_DATA
    tr31 = client.get(key, spec(Method.TR_31, kw(kek))).failure()[0]
    assert tr31 == (
        ResultReason.KEY_WRAP_TYPE_NOT_SUPPORTED if client.version >= V2_0 else ResultReason.GENERAL_FAILURE
    )


# --------------------------------------------------------------------------- Get: refusals


def test_wrapping_key_needs_wrap_key_usage(client: Client) -> None:
    kek = active_key(client, Usage.ENCRYPT | Usage.UNWRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    assert client.get(key, spec(encryption=kw(kek))).failure()[0] == usage_reason(client)


def test_another_clients_key_cannot_wrap(client: Client) -> None:
    kek = active_key(client.as_(name="bob"), Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT)
    assert client.get(key, spec(encryption=kw(kek))).failure()[0] == not_found_reason(client.version)


def test_non_extractable_key_is_refused_even_wrapped(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT, attrs=[a("Extractable", False)])
    assert client.get(key).failure()[0] == ResultReason.NOT_EXTRACTABLE
    assert client.get(key, spec(encryption=kw(kek))).failure()[0] == ResultReason.NOT_EXTRACTABLE


def test_sensitive_key_is_refused_plain_but_served_wrapped(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY)
    key = active_key(client, Usage.ENCRYPT, attrs=[a("Sensitive", True)])
    assert client.get(key).failure()[0] == ResultReason.SENSITIVE
    value, _ = wrapped_parts(client.get(key, spec(encryption=kw(kek))))
    assert len(keywrap.aes_key_unwrap(plain(client, kek), value)) == 32


# --------------------------------------------------------------------------- Register


def wrapped_symmetric_key(value: bytes, data: Item, length: int = 256) -> Item:
    return structure(
        Tag.SYMMETRIC_KEY,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.RAW),
            byte_string(Tag.KEY_VALUE, value),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, Alg.AES),
            Item(Tag.CRYPTOGRAPHIC_LENGTH, ItemType.INTEGER, length),
            data,
        ),
    )


def register_wrapped(client: Client, value: bytes, data: Item) -> Result:
    return client.register(ObjectType.SYMMETRIC_KEY, wrapped_symmetric_key(value, data))


def count_keys(client: Client) -> int:
    return len(client.locate_uids([a("Object Type", ObjectType.SYMMETRIC_KEY)]))


def test_register_unwraps_aes_key_wrap(client: Client) -> None:
    kek = active_key(client, Usage.UNWRAP_KEY)
    value = keywrap.aes_key_wrap(plain(client, kek), KEY)
    uid = register_wrapped(client, value, spec(encryption=kw(kek), tag=Tag.KEY_WRAPPING_DATA)).expect_ok().uid
    assert plain(client, uid) == KEY


def test_register_unwraps_a_ttlv_encoded_key_value_without_a_mode(client: Client) -> None:
    kek = active_key(client, Usage.UNWRAP_KEY)
    encoded = encode(structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, KEY)))
    value = keywrap.aes_key_wrap_with_padding(plain(client, kek), encoded)
    info = key_info(Tag.ENCRYPTION_KEY_INFORMATION, kek)
    uid = register_wrapped(client, value, spec(encryption=info, encoding=None, tag=Tag.KEY_WRAPPING_DATA))
    assert plain(client, uid.expect_ok().uid) == KEY


@pytest.mark.parametrize("named", ["private", "public"])
def test_register_unwraps_rsa_oaep(client: Client, named: str) -> None:
    private_uid, public_uid, private = rsa_pair(client, Usage.UNWRAP_KEY, Usage.WRAP_KEY)
    value = private.public_key().encrypt(KEY, OAEP)
    uid = private_uid if named == "private" else public_uid
    info = key_info(Tag.ENCRYPTION_KEY_INFORMATION, uid, *OAEP_PARAMS)
    registered = register_wrapped(client, value, spec(encryption=info, tag=Tag.KEY_WRAPPING_DATA)).expect_ok()
    assert plain(client, registered.uid) == KEY


def test_get_wrapped_then_register_round_trip(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY | Usage.UNWRAP_KEY)
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_GENERATE | Usage.MAC_VERIFY, Alg.HMAC_SHA256)
    key = active_key(client, Usage.ENCRYPT)
    for method in (Method.ENCRYPT_THEN_MAC_SIGN, Method.MAC_SIGN_THEN_ENCRYPT):
        got = client.get(key, spec(method, kw(kek), mac_info(mac_key), encoding=None)).expect_ok()
        body = got.find(Tag.SYMMETRIC_KEY)
        assert body is not None
        copy = client.register(ObjectType.SYMMETRIC_KEY, body).expect_ok().uid
        assert plain(client, copy) == plain(client, key)


def test_register_checks_the_mac(client: Client) -> None:
    kek = active_key(client, Usage.UNWRAP_KEY)
    mac_key = registered_key(client, os.urandom(32), Usage.MAC_VERIFY, Alg.HMAC_SHA256)
    value = keywrap.aes_key_wrap(plain(client, kek), KEY)
    data = spec(Method.ENCRYPT_THEN_MAC_SIGN, kw(kek), mac_info(mac_key), tag=Tag.KEY_WRAPPING_DATA)
    good = Item(
        data.tag, data.type, (*data.children, byte_string(Tag.MAC_SIGNATURE, _hmac(plain(client, mac_key), value)))
    )
    bad = Item(data.tag, data.type, (*data.children, byte_string(Tag.MAC_SIGNATURE, bytes(32))))
    before = count_keys(client)
    assert register_wrapped(client, value, bad).failure()[0] == ResultReason.CRYPTOGRAPHIC_FAILURE
    assert register_wrapped(client, value, data).failure()[0] == ResultReason.MISSING_DATA
    assert count_keys(client) == before
    assert plain(client, register_wrapped(client, value, good).expect_ok().uid) == KEY


def test_register_with_the_wrong_kek_fails_cleanly_and_stores_nothing(client: Client) -> None:
    kek = active_key(client, Usage.UNWRAP_KEY)
    value = keywrap.aes_key_wrap(os.urandom(32), KEY)
    before = count_keys(client)
    reason, message = register_wrapped(client, value, spec(encryption=kw(kek), tag=Tag.KEY_WRAPPING_DATA)).failure()
    assert reason == ResultReason.CRYPTOGRAPHIC_FAILURE
    assert KEY.hex() not in (message or "") and value.hex() not in (message or "")
    assert count_keys(client) == before


def test_register_needs_unwrap_key_usage(client: Client) -> None:
    kek = active_key(client, Usage.WRAP_KEY | Usage.DECRYPT)
    value = keywrap.aes_key_wrap(plain(client, kek), KEY)
    result = register_wrapped(client, value, spec(encryption=kw(kek), tag=Tag.KEY_WRAPPING_DATA))
    assert result.failure()[0] == usage_reason(client)


def test_register_cannot_unwrap_with_another_clients_key(client: Client) -> None:
    bob = client.as_(name="bob")
    kek = active_key(bob, Usage.UNWRAP_KEY)
    value = keywrap.aes_key_wrap(plain(bob, kek), KEY)
    result = register_wrapped(client, value, spec(encryption=kw(kek), tag=Tag.KEY_WRAPPING_DATA))
    assert result.failure()[0] == not_found_reason(client.version)


def test_byte_string_key_value_needs_key_wrapping_data(client: Client) -> None:
    body = structure(
        Tag.SYMMETRIC_KEY,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.RAW),
            byte_string(Tag.KEY_VALUE, KEY),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, Alg.AES),
            Item(Tag.CRYPTOGRAPHIC_LENGTH, ItemType.INTEGER, 256),
        ),
    )
    assert client.register(ObjectType.SYMMETRIC_KEY, body).failure()[0] == ResultReason.INVALID_FIELD
