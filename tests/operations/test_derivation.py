"""DeriveKey through the Processor, in KMIP 1.4 and 2.1: every method against `cryptography`, links, usage."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, KBKDFHMAC, CounterLocation, Mode
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from kmipd.protocol.enums import (
    BlockCipherMode,
    HashingAlgorithm,
    KeyFormatType,
    LinkType,
    ObjectType,
    Operation,
    ResultReason,
    SecretDataType,
    Tag,
)
from kmipd.protocol.enums import CryptographicAlgorithm as Alg
from kmipd.protocol.enums import CryptographicUsageMask as Usage
from kmipd.protocol.enums import DerivationMethod as Method
from kmipd.ttlv.item import Item, ItemType, byte_string, date_time, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    V1_4,
    V2_0,
    V2_1,
    Client,
    Result,
    attributes_for,
    av,
    key_material,
    not_found_reason,
    op,
    symmetric_key,
    wrong_state_reason,
)

h = bytes.fromhex
KEY = bytes(range(32))
PASSWORD = b"correct horse battery staple"
SALT = b"NaCl-and-pepper!"


@pytest.fixture(params=[V1_4, V2_1], ids=["1.4", "2.1"])
def client(request, processor) -> Client:  # type: ignore[no-untyped-def]
    return Client(processor, request.param)


def modern(client: Client, reason_2x: int, reason_1x: int) -> int:
    return reason_2x if client.version >= V2_0 else reason_1x


def bad(client: Client) -> int:
    """Bad Cryptographic Parameters, as a 1.x client is told it."""
    return modern(client, ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE)


def unsupported(client: Client) -> int:
    """Unsupported Cryptographic Parameters, as a 1.x client is told it."""
    return modern(client, ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE)


def secret_data(value: bytes, kind: int = SecretDataType.PASSWORD) -> Item:
    return structure(
        Tag.SECRET_DATA,
        enumeration(Tag.SECRET_DATA_TYPE, kind),
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.OPAQUE),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, value)),
        ),
    )


def register(
    client: Client,
    material: bytes = KEY,
    *,
    algorithm: int = Alg.AES,
    usage: int = Usage.DERIVE_KEY,
    secret: bool = False,
    active: bool = True,
    key_params: Item | None = None,
) -> str:
    attrs = [("Cryptographic Usage Mask", av("Cryptographic Usage Mask", integer(0, int(usage))))]
    if active:
        attrs.append(("Activation Date", av("Activation Date", date_time(0, T0 - 3600))))
    if key_params is not None:
        attrs.append(("Cryptographic Parameters", av("Cryptographic Parameters", key_params)))
    if secret:
        return client.register(ObjectType.SECRET_DATA, secret_data(material), attrs).expect_ok().uid
    return client.register(ObjectType.SYMMETRIC_KEY, symmetric_key(material, algorithm), attrs).expect_ok().uid


def cparams(*, hashing: int | None = None, algorithm: int | None = None, mode: int | None = None) -> Item:
    return structure(
        Tag.CRYPTOGRAPHIC_PARAMETERS,
        enumeration(Tag.BLOCK_CIPHER_MODE, mode) if mode is not None else None,
        enumeration(Tag.HASHING_ALGORITHM, hashing) if hashing is not None else None,
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm) if algorithm is not None else None,
    )


def dparams(
    params: Item | None = None,
    *,
    data: bytes | Sequence[bytes] | None = None,
    salt: bytes | None = None,
    iterations: int | None = None,
    iv: bytes | None = None,
) -> Item:
    datas = [data] if isinstance(data, bytes) else list(data or [])
    return structure(
        Tag.DERIVATION_PARAMETERS,
        params,
        byte_string(Tag.INITIALIZATION_VECTOR, iv) if iv is not None else None,
        *(byte_string(Tag.DERIVATION_DATA, d) for d in datas),
        byte_string(Tag.SALT, salt) if salt is not None else None,
        integer(Tag.ITERATION_COUNT, iterations) if iterations is not None else None,
    )


def derive_op(
    client: Client,
    uids: str | Sequence[str],
    method: int,
    parameters: Item,
    *,
    object_type: int = ObjectType.SYMMETRIC_KEY,
    algorithm: int | None = Alg.AES,
    length: int | None = 256,
) -> list[Item | None]:
    attrs: list[tuple[str, Item]] = []
    if algorithm is not None:
        attrs.append(("Cryptographic Algorithm", av("Cryptographic Algorithm", enumeration(0, algorithm))))
    if length is not None:
        attrs.append(("Cryptographic Length", av("Cryptographic Length", integer(0, length))))
    names = [uids] if isinstance(uids, str) else list(uids)
    return [
        enumeration(Tag.OBJECT_TYPE, object_type),
        *(text(Tag.UNIQUE_IDENTIFIER, u) for u in names),
        enumeration(Tag.DERIVATION_METHOD, method),
        parameters,
        attributes_for(client.version, attrs),
    ]


def derive(client: Client, uids: str | Sequence[str], method: int, parameters: Item, **kw: object) -> Result:
    return client.call(Operation.DERIVE_KEY, *derive_op(client, uids, method, parameters, **kw))  # type: ignore[arg-type]


def derived_key(client: Client, result: Result) -> bytes:
    return key_material(client.get(result.expect_ok().uid).expect_ok())


def secret_value(result: Result) -> bytes:
    body = result.expect_ok().find(Tag.SECRET_DATA)
    assert body is not None
    material = body.find(Tag.KEY_BLOCK).find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL)  # type: ignore[union-attr]
    assert material is not None and material.type is ItemType.BYTE_STRING
    return bytes(material.value)  # type: ignore[arg-type]


def links(client: Client, uid: str) -> list[tuple[int, str]]:
    values = client.attributes(uid, "Link").get("Link", [])
    return [
        (int(v.find(Tag.LINK_TYPE).value), str(v.find(Tag.LINKED_OBJECT_IDENTIFIER).value))  # type: ignore[union-attr, arg-type]
        for v in values
    ]


# --------------------------------------------------------------------------- methods


def test_pbkdf2_from_a_password_links_both_ways(client: Client) -> None:
    base = register(client, PASSWORD, secret=True)
    result = derive(
        client, base, Method.PBKDF2, dparams(cparams(hashing=HashingAlgorithm.SHA_256), salt=SALT, iterations=1000)
    )
    uid = result.expect_ok().uid
    expected = PBKDF2HMAC(hashes.SHA256(), 32, SALT, 1000).derive(PASSWORD)
    assert derived_key(client, result) == expected
    assert client.attribute(uid, "Cryptographic Length") == 256
    assert client.attribute(uid, "Cryptographic Algorithm") == Alg.AES
    assert links(client, uid) == [(LinkType.DERIVATION_BASE_OBJECT_LINK, base)]
    assert links(client, base) == [(LinkType.DERIVED_KEY_LINK, uid)]


def test_pbkdf2_defaults_to_hmac_sha1_and_needs_salt_and_count(client: Client) -> None:
    base = register(client, PASSWORD, secret=True)
    result = derive(client, base, Method.PBKDF2, dparams(salt=SALT, iterations=2), length=128)
    assert derived_key(client, result) == PBKDF2HMAC(hashes.SHA1(), 16, SALT, 2).derive(PASSWORD)
    assert derive(client, base, Method.PBKDF2, dparams(iterations=2)).reason == ResultReason.MISSING_DATA
    assert derive(client, base, Method.PBKDF2, dparams(salt=SALT)).reason == ResultReason.MISSING_DATA
    with_data = dparams(data=b"x", salt=SALT, iterations=2)
    assert derive(client, base, Method.PBKDF2, with_data).reason == ResultReason.INVALID_FIELD


def test_hkdf_is_kmip_2_only_and_defaults_to_sha256(client: Client) -> None:
    base = register(client)
    result = derive(client, base, Method.HKDF, dparams(data=b"app info", salt=SALT))
    if client.version < V2_0:
        assert result.reason == ResultReason.INVALID_FIELD
        return
    assert derived_key(client, result) == HKDF(hashes.SHA256(), 32, SALT, b"app info").derive(KEY)
    sha512 = derive(client, base, Method.HKDF, dparams(cparams(hashing=HashingAlgorithm.SHA_512), salt=SALT))
    assert derived_key(client, sha512) == HKDF(hashes.SHA512(), 32, SALT, None).derive(KEY)


def test_hmac_uses_the_base_keys_hmac_algorithm_and_never_stretches(client: Client) -> None:
    base = register(client, KEY, algorithm=Alg.HMAC_SHA256)
    # The Cryptographic Parameters are ignored for an HMAC key (KMIP 1.4 section 4.6).
    params = dparams(cparams(hashing=HashingAlgorithm.SHA_512), data=b"label")
    result = derive(client, base, Method.HMAC, params, length=128)
    mac = hmac.HMAC(KEY, hashes.SHA256())
    mac.update(b"label")
    assert derived_key(client, result) == mac.finalize()[:16]
    too_long = derive(client, base, Method.HMAC, params, algorithm=Alg.HMAC_SHA256, length=384)
    assert too_long.reason == bad(client)
    assert derive(client, base, Method.HMAC, dparams()).reason == ResultReason.MISSING_DATA


def test_hash_of_the_data_or_of_the_key(client: Client) -> None:
    base = register(client)
    sha256 = cparams(hashing=HashingAlgorithm.SHA_256)
    of_data = derive(client, base, Method.HASH, dparams(sha256, data=b"abc"), length=128)
    assert derived_key(client, of_data) == h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[:16]
    of_key = derive(client, base, Method.HASH, dparams(sha256))
    digest = hashes.Hash(hashes.SHA256())
    digest.update(KEY)
    assert derived_key(client, of_key) == digest.finalize()
    no_hash = derive(client, base, Method.HASH, dparams(data=b"abc"))
    assert no_hash.reason == bad(client)


def test_hash_algorithm_may_come_from_the_base_keys_parameters(client: Client) -> None:
    base = register(client, key_params=Item(0, ItemType.STRUCTURE, (enumeration(Tag.HASHING_ALGORITHM, 7),)))
    result = derive(client, base, Method.HASH, dparams(data=b"abc"))
    digest = hashes.Hash(hashes.SHA384())
    digest.update(b"abc")
    assert derived_key(client, result) == digest.finalize()[:32]


def test_nist_800_108_counter_mode_hmac_and_cmac(client: Client) -> None:
    label, context = b"kmipd", b"tenant-42"
    data = label + b"\x00" + context
    hmac_base = register(client, KEY, algorithm=Alg.HMAC_SHA256)
    result = derive(client, hmac_base, Method.NIST800_108_C, dparams(data=data))
    reference = KBKDFHMAC(
        hashes.SHA256(), Mode.CounterMode, 32, 4, 4, CounterLocation.BeforeFixed, label, context, None
    )
    assert derived_key(client, result) == reference.derive(KEY)
    aes_base = register(client, KEY[:16])
    result = derive(client, aes_base, Method.NIST800_108_C, dparams(data=data), length=128)
    cmac = KBKDFCMAC(algorithms.AES, Mode.CounterMode, 16, 4, 4, CounterLocation.BeforeFixed, label, context, None)
    assert derived_key(client, result) == cmac.derive(KEY[:16])
    sha384 = derive(
        client, aes_base, Method.NIST800_108_C, dparams(cparams(hashing=HashingAlgorithm.SHA_384), data=data)
    )
    reference = KBKDFHMAC(
        hashes.SHA384(), Mode.CounterMode, 32, 4, 4, CounterLocation.BeforeFixed, label, context, None
    )
    assert derived_key(client, sha384) == reference.derive(KEY[:16])


def test_encrypt_in_ecb_and_cbc_with_the_empty_iv(client: Client) -> None:
    base = register(client)
    data = bytes(range(100, 132))
    ecb = derive(client, base, Method.ENCRYPT, dparams(cparams(mode=BlockCipherMode.ECB), data=data))
    encryptor = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
    assert derived_key(client, ecb) == encryptor.update(data) + encryptor.finalize()
    cbc = derive(client, base, Method.ENCRYPT, dparams(data=data))  # CBC, PKCS#5, all-zero IV
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(bytes(16))).encryptor()
    assert derived_key(client, cbc) == encryptor.update(data)
    iv = bytes(range(16))
    with_iv = derive(client, base, Method.ENCRYPT, dparams(cparams(mode=BlockCipherMode.CBC), data=data, iv=iv))
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    assert derived_key(client, with_iv) == encryptor.update(data)


def test_encrypt_refuses_stream_modes_and_short_data(client: Client) -> None:
    base = register(client)
    refused = unsupported(client)
    for mode in (BlockCipherMode.CTR, BlockCipherMode.GCM, BlockCipherMode.OFB):
        result = derive(client, base, Method.ENCRYPT, dparams(cparams(mode=mode), data=bytes(32), iv=bytes(16)))
        assert result.reason == refused
    short = derive(client, base, Method.ENCRYPT, dparams(cparams(mode=BlockCipherMode.ECB), data=bytes(16)))
    assert short.reason == bad(client)


def test_secret_data_output_of_several_keys_worth(client: Client) -> None:
    base = register(client, KEY, algorithm=Alg.HMAC_SHA512)
    result = derive(
        client,
        base,
        Method.HMAC,
        dparams(data=b"k1|k2|iv"),
        object_type=ObjectType.SECRET_DATA,
        algorithm=None,
        length=384,
    )
    uid = result.expect_ok().uid
    mac = hmac.HMAC(KEY, hashes.SHA512())
    mac.update(b"k1|k2|iv")
    assert secret_value(client.get(uid)) == mac.finalize()[:48]
    assert client.attribute(uid, "Object Type") == ObjectType.SECRET_DATA
    assert client.attribute(uid, "Cryptographic Length") == 384


def test_second_secret_data_object_supplies_the_derivation_data(client: Client) -> None:
    base = register(client, KEY, algorithm=Alg.HMAC_SHA256)
    label = register(client, b"from-an-object", secret=True)
    result = derive(client, [base, label], Method.HMAC, dparams(), length=128)
    uid = result.expect_ok().uid
    mac = hmac.HMAC(KEY, hashes.SHA256())
    mac.update(b"from-an-object")
    assert derived_key(client, result) == mac.finalize()[:16]
    assert sorted(links(client, uid)) == sorted(
        [(LinkType.DERIVATION_BASE_OBJECT_LINK, base), (LinkType.DERIVATION_BASE_OBJECT_LINK, label)]
    )
    assert links(client, label) == [(LinkType.DERIVED_KEY_LINK, uid)]
    both = derive(client, [base, label], Method.HMAC, dparams(data=b"x"), length=128)
    assert both.reason == ResultReason.INVALID_FIELD
    other_key = register(client)
    assert derive(client, [base, other_key], Method.HMAC, dparams(), length=128).reason == ResultReason.INVALID_FIELD


def test_id_placeholder_names_the_derived_key(client: Client) -> None:
    base = register(client)
    params = dparams(cparams(hashing=HashingAlgorithm.SHA_256), data=b"abc")
    derive_item = op(Operation.DERIVE_KEY, *derive_op(client, base, Method.HASH, params), batch_id=b"1")
    derived, got = client.batch([derive_item, op(Operation.GET, batch_id=b"2")]).items
    assert got.expect_ok().uid == derived.expect_ok().uid


# --------------------------------------------------------------------------- refusals


def test_base_must_allow_derive_key(client: Client) -> None:
    base = register(client, usage=Usage.ENCRYPT | Usage.DECRYPT)
    result = derive(client, base, Method.HASH, dparams(cparams(hashing=6), data=b"abc"))
    assert result.reason == modern(
        client, ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK, ResultReason.INVALID_FIELD
    )
    assert links(client, base) == []


def test_base_must_be_active_and_not_destroyed(client: Client) -> None:
    pending = register(client, active=False)
    params = dparams(cparams(hashing=6), data=b"abc")
    assert derive(client, pending, Method.HASH, params).reason == wrong_state_reason(client.version)
    client.destroy(pending).expect_ok()
    destroyed = derive(client, pending, Method.HASH, params)
    assert destroyed.reason == modern(client, ResultReason.OBJECT_DESTROYED, ResultReason.KEY_VALUE_NOT_PRESENT)


def test_another_clients_base_looks_missing(client: Client) -> None:
    base = register(client)
    params = dparams(cparams(hashing=6), data=b"abc")
    stranger = derive(client.as_(name="bob"), base, Method.HASH, params)
    assert stranger.reason == not_found_reason(client.version)
    assert derive(client, "no-such-object", Method.HASH, params).reason == not_found_reason(client.version)
    teammate = derive(client.as_(name="carol"), base, Method.HASH, params)  # same group
    assert teammate.ok


def test_base_must_be_a_symmetric_key_or_secret_data(client: Client) -> None:
    opaque = structure(
        Tag.OPAQUE_OBJECT, enumeration(Tag.OPAQUE_DATA_TYPE, 0x80000001), byte_string(Tag.OPAQUE_DATA_VALUE, b"blob")
    )
    uid = client.register(ObjectType.OPAQUE_OBJECT, opaque).expect_ok().uid
    result = derive(client, uid, Method.HASH, dparams(cparams(hashing=6), data=b"abc"))
    assert result.reason == modern(client, ResultReason.INVALID_OBJECT_TYPE, ResultReason.INVALID_FIELD)


def test_the_new_object_needs_a_type_algorithm_and_usable_length(client: Client) -> None:
    base = register(client)
    params = dparams(cparams(hashing=6), data=b"abc")
    assert derive(client, base, Method.HASH, params, length=None).reason == ResultReason.MISSING_DATA
    assert derive(client, base, Method.HASH, params, algorithm=None).reason == ResultReason.MISSING_DATA
    assert derive(client, base, Method.HASH, params, length=100).reason == ResultReason.CRYPTOGRAPHIC_FAILURE
    assert derive(client, base, Method.HASH, params, length=124).reason == ResultReason.CRYPTOGRAPHIC_FAILURE
    wrong_type = derive(client, base, Method.HASH, params, object_type=ObjectType.PRIVATE_KEY)
    assert wrong_type.reason == ResultReason.INVALID_FIELD
    no_uid = client.call(Operation.DERIVE_KEY, *derive_op(client, [], Method.HASH, params))
    assert no_uid.reason == ResultReason.MISSING_DATA


def test_methods_not_offered_and_stray_ivs_are_refused(client: Client) -> None:
    base = register(client)
    refused = unsupported(client)
    assert derive(client, base, Method.NIST800_108_F, dparams(data=b"l\x00c")).reason == refused
    assert derive(client, base, 0x7F, dparams(data=b"x")).reason == ResultReason.INVALID_FIELD
    stray_iv = derive(client, base, Method.HASH, dparams(cparams(hashing=6), data=b"abc", iv=bytes(16)))
    assert stray_iv.reason == bad(client)
    md5 = derive(client, base, Method.HASH, dparams(cparams(hashing=HashingAlgorithm.MD5), data=b"abc"), length=128)
    assert md5.reason == refused


def test_a_refused_derivation_leaves_no_trace(client: Client) -> None:
    base = register(client, PASSWORD, secret=True)
    huge = dparams(salt=SALT, iterations=100_000_000)
    result = derive(client, base, Method.PBKDF2, huge)
    assert result.reason == bad(client)
    assert links(client, base) == []
    assert result.message is not None and PASSWORD.decode() not in result.message


def test_aws_signature_version_4_is_kmip_2_only(client: Client) -> None:
    base = register(client, b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", secret=True)
    data = [b"20120215", b"us-east-1", b"iam"]
    result = derive(client, base, Method.AWS_SIGNATURE_VERSION_4, dparams(data=data), algorithm=Alg.HMAC_SHA256)
    if client.version < V2_0:
        assert result.reason == ResultReason.INVALID_FIELD
        return
    assert derived_key(client, result) == h("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    two = derive(client, base, Method.AWS_SIGNATURE_VERSION_4, dparams(data=data[:2]), algorithm=Alg.HMAC_SHA256)
    assert two.reason == ResultReason.INVALID_FIELD
    dates = register(client, b"20120215", secret=True)  # the three parts come from the request only
    from_object = derive(client, [base, dates], Method.AWS_SIGNATURE_VERSION_4, dparams(), algorithm=Alg.HMAC_SHA256)
    assert from_object.reason == ResultReason.INVALID_FIELD
