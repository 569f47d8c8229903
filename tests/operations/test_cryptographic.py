"""Encrypt, Decrypt, MAC, MACVerify, Hash, RNGRetrieve and RNGSeed through the Processor, in KMIP 1.4 and 2.1."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kmipd.operations.cryptographic import MAX_RNG_BYTES
from kmipd.protocol.enums import BlockCipherMode as Mode
from kmipd.protocol.enums import CryptographicAlgorithm as Alg
from kmipd.protocol.enums import (
    CryptographicUsageMask,
    HashingAlgorithm,
    ObjectType,
    Operation,
    PaddingMethod,
    ResultReason,
    Tag,
    UsageLimitsUnit,
    ValidityIndicator,
)
from kmipd.ttlv.item import Item, boolean, byte_string, date_time, enumeration, integer, long_integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    V1_1,
    V1_4,
    V2_0,
    V2_1,
    Client,
    Result,
    attributes_for,
    av,
    op,
    symmetric_key,
    wrong_state_reason,
)

h = bytes.fromhex
Usage = CryptographicUsageMask
KEY = h("0123456789abcdef0123456789abcdef")
DATA = h("01020304050607080910111213141516")
ECB_DATA = h("d9bcce11b0b437b90239552df3a360c9")  # AES-128-ECB(KEY, DATA), as in the OASIS CS-BC cases
GCM_KEY = h("feffe9928665731c6d6a8f9467308308")
GCM_IV = h("cafebabefacedbad")
GCM_AAD = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_PT = h(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM_CT = h(
    "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
    "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598"
)
GCM_TAG = h("3612d2e79e3b0785561be14aaca2fccb")


@pytest.fixture(params=[V1_4, V2_1], ids=["1.4", "2.1"])
def client(request, processor) -> Client:  # type: ignore[no-untyped-def]
    return Client(processor, request.param)


def params(
    mode: int | None = None,
    pad: int | None = None,
    *,
    algorithm: int | None = None,
    tag_length: int | None = None,
    random_iv: bool | None = None,
    hashing: int | None = None,
    tag: int = Tag.CRYPTOGRAPHIC_PARAMETERS,
) -> Item:
    return structure(
        tag,
        enumeration(Tag.BLOCK_CIPHER_MODE, mode) if mode is not None else None,
        enumeration(Tag.PADDING_METHOD, pad) if pad is not None else None,
        enumeration(Tag.HASHING_ALGORITHM, hashing) if hashing is not None else None,
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm) if algorithm is not None else None,
        boolean(Tag.RANDOM_IV, random_iv) if random_iv is not None else None,
        integer(Tag.TAG_LENGTH, tag_length) if tag_length is not None else None,
    )


def register(
    client: Client,
    material: bytes = KEY,
    *,
    algorithm: int = Alg.AES,
    usage: int = Usage.ENCRYPT | Usage.DECRYPT,
    key_params: Item | None = None,
    active: bool = True,
    attrs: Sequence[tuple[str, Item]] = (),
) -> str:
    all_attrs = [("Cryptographic Usage Mask", av("Cryptographic Usage Mask", integer(0, int(usage))))]
    if active:
        all_attrs.append(("Activation Date", av("Activation Date", date_time(0, T0 - 3600))))
    if key_params is not None:
        all_attrs.append(("Cryptographic Parameters", av("Cryptographic Parameters", key_params)))
    all_attrs.extend(attrs)
    return client.register(ObjectType.SYMMETRIC_KEY, symmetric_key(material, algorithm), all_attrs).expect_ok().uid


def _blob(tag: int, value: bytes | None) -> Item | None:
    return None if value is None else byte_string(tag, value)


def encrypt(
    client: Client,
    uid: str | None,
    data: bytes | None,
    cparams: Item | None = None,
    *,
    iv: bytes | None = None,
    aad: bytes | None = None,
    correlation: bytes | None = None,
    init: bool | None = None,
    final: bool | None = None,
    operation: int = Operation.ENCRYPT,
    auth_tag: bytes | None = None,
) -> Result:
    return client.call(
        operation,
        text(Tag.UNIQUE_IDENTIFIER, uid) if uid is not None else None,
        cparams,
        _blob(Tag.DATA, data),
        _blob(Tag.IV_COUNTER_NONCE, iv),
        _blob(Tag.CORRELATION_VALUE, correlation),
        boolean(Tag.INIT_INDICATOR, init) if init is not None else None,
        boolean(Tag.FINAL_INDICATOR, final) if final is not None else None,
        _blob(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, aad),
        _blob(Tag.AUTHENTICATED_ENCRYPTION_TAG, auth_tag),
    )


def decrypt(client: Client, uid: str | None, data: bytes | None, cparams: Item | None = None, **kw: object) -> Result:
    return encrypt(client, uid, data, cparams, operation=Operation.DECRYPT, **kw)  # type: ignore[arg-type]


def blob(result: Result, tag: int) -> bytes | None:
    item = result.expect_ok().find(tag)
    return None if item is None else bytes(item.value)  # type: ignore[arg-type]


def modern(client: Client, reason_2x: int, reason_1x: int) -> int:
    return reason_2x if client.version >= V2_0 else reason_1x


# --------------------------------------------------------------------------- Encrypt / Decrypt


def test_ecb_known_answer_both_ways(client: Client) -> None:
    uid = register(client)
    result = encrypt(client, uid, DATA, params(Mode.ECB))
    assert result.uid == uid
    assert blob(result, Tag.DATA) == ECB_DATA
    assert result.find(Tag.IV_COUNTER_NONCE) is None  # ECB uses none
    assert blob(decrypt(client, uid, ECB_DATA, params(Mode.ECB)), Tag.DATA) == DATA


def test_no_parameters_means_cbc_pkcs5_with_a_returned_iv(client: Client) -> None:
    uid = register(client)
    result = encrypt(client, uid, b"secret")
    iv = blob(result, Tag.IV_COUNTER_NONCE)
    assert iv is not None and len(iv) == 16
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    expected = encryptor.update(padder.update(b"secret") + padder.finalize()) + encryptor.finalize()
    assert blob(result, Tag.DATA) == expected
    assert decrypt(client, uid, expected).failure()[0] == ResultReason.INVALID_MESSAGE  # no IV
    assert blob(decrypt(client, uid, expected, iv=iv), Tag.DATA) == b"secret"


def test_key_attribute_parameters_apply_unless_the_request_has_its_own(client: Client) -> None:
    uid = register(client, key_params=params(Mode.CBC, PaddingMethod.PKCS5, tag=0))
    iv = h("ff020304050607080910111213141516")
    data = DATA + DATA + b"\x01"
    expected = h(
        "e768203ba72b6e157daaad34b1e791d8e88457dc147942f01bfaff7b28a3cdde2203d4d5a4c7928ba9e9cc78b66a6546"
    )  # OASIS CS-BC-M-12
    assert blob(encrypt(client, uid, data, iv=iv), Tag.DATA) == expected
    assert blob(encrypt(client, uid, DATA, params(Mode.ECB)), Tag.DATA) == ECB_DATA


def test_gcm_with_a_server_generated_iv_and_truncated_tag(client: Client) -> None:
    uid = register(client, GCM_KEY)
    result = encrypt(client, uid, GCM_PT, params(Mode.GCM, tag_length=12, random_iv=True), aad=GCM_AAD)
    iv, tag, ct = (
        blob(result, Tag.IV_COUNTER_NONCE),
        blob(result, Tag.AUTHENTICATED_ENCRYPTION_TAG),
        blob(result, Tag.DATA),
    )
    assert iv is not None and len(iv) == 12
    assert tag is not None and len(tag) == 12
    assert ct is not None and len(ct) == len(GCM_PT)
    back = decrypt(client, uid, ct, params(Mode.GCM, tag_length=12), iv=iv, aad=GCM_AAD, auth_tag=tag)
    assert blob(back, Tag.DATA) == GCM_PT


def test_gcm_known_answer_and_failures(client: Client) -> None:
    uid = register(client, GCM_KEY)
    gcm = params(Mode.GCM, tag_length=16)
    result = encrypt(client, uid, GCM_PT, gcm, iv=GCM_IV, aad=GCM_AAD)
    assert (blob(result, Tag.DATA), blob(result, Tag.AUTHENTICATED_ENCRYPTION_TAG)) == (GCM_CT, GCM_TAG)
    bad_tag = decrypt(client, uid, GCM_CT, gcm, iv=GCM_IV, aad=GCM_AAD, auth_tag=bytes(16))
    assert bad_tag.failure()[0] == ResultReason.CRYPTOGRAPHIC_FAILURE
    no_aad = decrypt(client, uid, GCM_CT, gcm, iv=GCM_IV, auth_tag=GCM_TAG)
    assert no_aad.failure()[0] == ResultReason.CRYPTOGRAPHIC_FAILURE
    no_tag = decrypt(client, uid, GCM_CT, gcm, iv=GCM_IV, aad=GCM_AAD)
    assert no_tag.failure()[0] == ResultReason.MISSING_DATA
    for length in (1, 32):
        bad_length = encrypt(client, uid, GCM_PT, params(Mode.GCM, tag_length=length), iv=GCM_IV)
        assert bad_length.failure()[0] == ResultReason.GENERAL_FAILURE


def test_multi_part_gcm_encryption_and_decryption(client: Client) -> None:
    uid = register(client, GCM_KEY)
    gcm = params(Mode.GCM, tag_length=16)
    first = encrypt(client, uid, GCM_PT[:32], gcm, iv=GCM_IV, aad=GCM_AAD, init=True).expect_ok()
    assert blob(first, Tag.DATA) == GCM_CT[:32]
    assert first.find(Tag.AUTHENTICATED_ENCRYPTION_TAG) is None
    token = blob(first, Tag.CORRELATION_VALUE)
    assert token is not None and len(token) == 16
    last = encrypt(client, uid, GCM_PT[32:], gcm, correlation=token, final=True)
    assert blob(last, Tag.DATA) == GCM_CT[32:]
    assert blob(last, Tag.AUTHENTICATED_ENCRYPTION_TAG) == GCM_TAG
    assert last.find(Tag.CORRELATION_VALUE) is None
    gone = encrypt(client, uid, b"", correlation=token, final=True)
    assert gone.failure()[0] == modern(client, ResultReason.INVALID_CORRELATION_VALUE, ResultReason.ITEM_NOT_FOUND)

    # Decryption releases nothing before the tag has been checked.
    opened = decrypt(client, uid, GCM_CT[:20], gcm, iv=GCM_IV, aad=GCM_AAD, auth_tag=GCM_TAG, init=True)
    assert blob(opened, Tag.DATA) == b""
    token = blob(opened, Tag.CORRELATION_VALUE)
    middle = decrypt(client, None, GCM_CT[20:40], correlation=token)
    assert blob(middle, Tag.DATA) == b""
    assert blob(middle, Tag.CORRELATION_VALUE) == token
    assert blob(decrypt(client, None, GCM_CT[40:], correlation=token, final=True), Tag.DATA) == GCM_PT


def test_streams_belong_to_their_client_and_key(client: Client) -> None:
    uid = register(client, GCM_KEY)
    other = register(client, KEY)
    opened = encrypt(client, uid, b"abc", params(Mode.GCM), iv=GCM_IV, init=True)
    token = blob(opened, Tag.CORRELATION_VALUE)
    stranger = encrypt(client.as_(name="bob"), None, b"x", correlation=token, final=True)
    assert stranger.failure()[0] == modern(client, ResultReason.INVALID_CORRELATION_VALUE, ResultReason.ITEM_NOT_FOUND)
    assert encrypt(client, other, b"x", correlation=token).failure()[0] == ResultReason.INVALID_FIELD
    assert decrypt(client, uid, b"x", correlation=token).failure()[0] == modern(
        client, ResultReason.INVALID_CORRELATION_VALUE, ResultReason.ITEM_NOT_FOUND
    )


def test_stream_survives_a_rerun_as_a_write_transaction(client: Client) -> None:
    """A key with Usage Limits makes each part write; the resumed stream must not be lost on the rerun."""
    limits = structure(
        0, long_integer(Tag.USAGE_LIMITS_TOTAL, 1000), enumeration(Tag.USAGE_LIMITS_UNIT, UsageLimitsUnit.BYTE)
    )
    uid = register(client, GCM_KEY, attrs=[("Usage Limits", av("Usage Limits", limits))])
    gcm = params(Mode.GCM)
    token = blob(encrypt(client, uid, GCM_PT[:32], gcm, iv=GCM_IV, aad=GCM_AAD, init=True), Tag.CORRELATION_VALUE)
    last = encrypt(client, uid, GCM_PT[32:], correlation=token, final=True)
    assert blob(last, Tag.DATA) == GCM_CT[32:]
    assert blob(last, Tag.AUTHENTICATED_ENCRYPTION_TAG) == GCM_TAG
    (value,) = client.attributes(uid, "Usage Limits")["Usage Limits"]
    count = value.find(Tag.USAGE_LIMITS_COUNT)
    assert count is not None and count.value == 1000 - len(GCM_PT)


def test_usage_limits_in_bytes(client: Client) -> None:
    limits = structure(
        0, long_integer(Tag.USAGE_LIMITS_TOTAL, 16), enumeration(Tag.USAGE_LIMITS_UNIT, UsageLimitsUnit.BYTE)
    )
    uid = register(client, attrs=[("Usage Limits", av("Usage Limits", limits))])
    assert blob(encrypt(client, uid, DATA, params(Mode.ECB)), Tag.DATA) == ECB_DATA
    assert encrypt(client, uid, DATA, params(Mode.ECB)).failure()[0] == ResultReason.PERMISSION_DENIED
    assert blob(decrypt(client, uid, ECB_DATA, params(Mode.ECB)), Tag.DATA) == DATA  # processing is not limited


def test_state_usage_mask_and_dates(client: Client) -> None:
    pre_active = register(client, active=False)
    assert encrypt(client, pre_active, DATA, params(Mode.ECB)).failure()[0] == wrong_state_reason(client.version)
    decrypt_only = register(client, usage=Usage.DECRYPT)
    assert encrypt(client, decrypt_only, DATA, params(Mode.ECB)).failure()[0] == modern(
        client, ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK, ResultReason.INVALID_FIELD
    )
    dated = register(
        client,
        attrs=[
            ("Process Start Date", av("Process Start Date", date_time(0, T0 + 3600))),
            ("Protect Stop Date", av("Protect Stop Date", date_time(0, T0 - 3600))),
        ],
    )
    assert encrypt(client, dated, DATA, params(Mode.ECB)).failure()[0] == wrong_state_reason(client.version)
    assert decrypt(client, dated, ECB_DATA, params(Mode.ECB)).failure()[0] == wrong_state_reason(client.version)
    revoked = register(client)
    client.revoke(revoked).expect_ok()
    assert encrypt(client, revoked, DATA, params(Mode.ECB)).failure()[0] == wrong_state_reason(client.version)
    assert blob(decrypt(client, revoked, ECB_DATA, params(Mode.ECB)), Tag.DATA) == DATA


def test_destroyed_and_missing_keys(client: Client) -> None:
    uid = register(client)
    client.revoke(uid).expect_ok()
    client.destroy(uid).expect_ok()
    reason = decrypt(client, uid, ECB_DATA, params(Mode.ECB)).failure()[0]
    assert reason == modern(client, ResultReason.OBJECT_DESTROYED, ResultReason.KEY_VALUE_NOT_PRESENT)
    missing = encrypt(client, "no-such-key", DATA).failure()[0]
    assert missing == modern(client, ResultReason.OBJECT_NOT_FOUND, ResultReason.ITEM_NOT_FOUND)
    assert encrypt(client, register(client), None).failure()[0] == ResultReason.MISSING_DATA


def test_unsupported_and_bad_parameters(client: Client) -> None:
    uid = register(client)
    xts = encrypt(client, uid, DATA, params(Mode.XTS), iv=bytes(16)).failure()[0]
    assert xts == modern(client, ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE)
    short_iv = encrypt(client, uid, DATA, params(Mode.CBC), iv=bytes(8)).failure()[0]
    assert short_iv == modern(client, ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE)
    other_algorithm = encrypt(client, uid, DATA, params(Mode.ECB, algorithm=Alg.TRIPLE_DES)).failure()[0]
    assert other_algorithm == modern(
        client, ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE
    )
    partial = encrypt(client, uid, b"12345", params(Mode.ECB)).failure()[0]
    assert partial == ResultReason.CRYPTOGRAPHIC_FAILURE


def test_id_placeholder_and_triple_des(client: Client) -> None:
    key = h("133457799bbcdff1") * 3
    attrs = [
        ("Cryptographic Usage Mask", av("Cryptographic Usage Mask", integer(0, int(Usage.ENCRYPT)))),
        ("Activation Date", av("Activation Date", date_time(0, T0 - 60))),
    ]
    response = client.batch(
        [
            op(
                Operation.REGISTER,
                enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
                symmetric_key(key, Alg.TRIPLE_DES, 168),
                attributes_for(client.version, attrs),
                batch_id=b"1",
            ),
            op(Operation.ENCRYPT, params(Mode.ECB), byte_string(Tag.DATA, h("0123456789abcdef")), batch_id=b"2"),
        ]
    )
    registered, encrypted = response.items
    assert encrypted.uid == registered.expect_ok().uid
    assert blob(encrypted, Tag.DATA) == h("85e813540f0ab405")


def test_aead_chacha20_poly1305_rfc8439(processor) -> None:  # type: ignore[no-untyped-def]
    client = Client(processor, V2_1)
    key = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    uid = register(client, key, algorithm=Alg.CHACHA20POLY1305)
    nonce, aad = h("070000004041424344454647"), h("50515253c0c1c2c3c4c5c6c7")
    result = encrypt(client, uid, b"Ladies and Gentlemen", params(Mode.AEAD), iv=nonce, aad=aad)
    ct, tag = blob(result, Tag.DATA), blob(result, Tag.AUTHENTICATED_ENCRYPTION_TAG)
    assert ct == h("d31a8d34648e60db7b86afbc53ef7ec2a4aded51")
    assert tag is not None and len(tag) == 16
    assert blob(decrypt(client, uid, ct, iv=nonce, aad=aad, auth_tag=tag), Tag.DATA) == b"Ladies and Gentlemen"
    wrong = decrypt(client, uid, ct, iv=nonce, aad=aad, auth_tag=bytes(16)).failure()[0]
    assert wrong == ResultReason.CRYPTOGRAPHIC_FAILURE


def test_not_a_symmetric_key(client: Client) -> None:
    secret = structure(
        Tag.SECRET_DATA,
        enumeration(Tag.SECRET_DATA_TYPE, 1),
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, 2),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, b"password")),
        ),
    )
    attrs = [
        ("Cryptographic Usage Mask", av("Cryptographic Usage Mask", integer(0, int(Usage.ENCRYPT)))),
        ("Activation Date", av("Activation Date", date_time(0, T0 - 60))),
    ]
    uid = client.register(ObjectType.SECRET_DATA, secret, attrs).expect_ok().uid
    reason = encrypt(client, uid, DATA).failure()[0]
    assert reason == modern(client, ResultReason.INVALID_OBJECT_TYPE, ResultReason.INVALID_FIELD)


def test_operations_arrived_in_kmip_1_2(processor) -> None:  # type: ignore[no-untyped-def]
    old = Client(processor, V1_1)
    result = old.call(Operation.RNG_RETRIEVE, integer(Tag.DATA_LENGTH, 8))
    assert result.failure()[0] == ResultReason.OPERATION_NOT_SUPPORTED


# --------------------------------------------------------------------------- MAC / MAC Verify / Hash


def mac(
    client: Client,
    uid: str | None,
    data: bytes | None,
    cparams: Item | None = None,
    *,
    correlation: bytes | None = None,
    init: bool = False,
    final: bool = False,
) -> Result:
    return client.call(
        Operation.MAC,
        text(Tag.UNIQUE_IDENTIFIER, uid) if uid is not None else None,
        cparams,
        _blob(Tag.DATA, data),
        _blob(Tag.CORRELATION_VALUE, correlation),
        boolean(Tag.INIT_INDICATOR, True) if init else None,
        boolean(Tag.FINAL_INDICATOR, True) if final else None,
    )


def mac_verify(client: Client, uid: str, data: bytes, mac_data: bytes) -> int:
    result = client.call(
        Operation.MAC_VERIFY,
        text(Tag.UNIQUE_IDENTIFIER, uid),
        byte_string(Tag.DATA, data),
        byte_string(Tag.MAC_DATA, mac_data),
    ).expect_ok()
    assert result.uid == uid
    indicator = result.find(Tag.VALIDITY_INDICATOR)
    assert indicator is not None
    return int(indicator.value)  # type: ignore[arg-type]


HMAC_USAGE = Usage.MAC_GENERATE | Usage.MAC_VERIFY
OASIS_HMAC = h("c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9")  # CS-AC-M-4


def test_hmac_from_the_key_parameters_and_verify(client: Client) -> None:
    uid = register(client, usage=HMAC_USAGE, key_params=params(algorithm=Alg.HMAC_SHA256, tag=0))
    result = mac(client, uid, DATA)
    assert result.uid == uid
    assert blob(result, Tag.MAC_DATA) == OASIS_HMAC
    assert mac_verify(client, uid, DATA, OASIS_HMAC) == ValidityIndicator.VALID
    assert mac_verify(client, uid, DATA, OASIS_HMAC[:-1] + b"\x00") == ValidityIndicator.INVALID
    assert mac_verify(client, uid, DATA + b"x", OASIS_HMAC) == ValidityIndicator.INVALID


def test_cmac_for_an_aes_key_and_hmac_by_request(client: Client) -> None:
    key = h("2b7e151628aed2a6abf7158809cf4f3c")
    uid = register(client, key, usage=HMAC_USAGE)
    message = h("6bc1bee22e409f96e93d7e117393172a")
    assert blob(mac(client, uid, message), Tag.MAC_DATA) == h("070a16b46b4d4144f79bdd9dd04a287c")  # RFC 4493
    hmac_key = register(client, b"Jefe", algorithm=Alg.HMAC_SHA256, usage=HMAC_USAGE)
    assert blob(mac(client, hmac_key, b"what do ya want for nothing?"), Tag.MAC_DATA) == h(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )  # RFC 4231 case 2
    cbc_mac = mac(client, uid, message, params(Mode.CBC_MAC)).failure()[0]
    assert cbc_mac == modern(
        client, ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE
    )


def test_mac_in_parts_and_usage_mask(client: Client) -> None:
    uid = register(client, usage=HMAC_USAGE, key_params=params(algorithm=Alg.HMAC_SHA256, tag=0))
    token = blob(mac(client, uid, DATA[:5], init=True), Tag.CORRELATION_VALUE)
    assert token is not None
    middle = mac(client, uid, DATA[5:9], correlation=token)
    assert middle.find(Tag.MAC_DATA) is None
    assert blob(mac(client, uid, DATA[9:], correlation=token, final=True), Tag.MAC_DATA) == OASIS_HMAC
    encrypt_only = register(client)
    assert mac(client, encrypt_only, DATA).failure()[0] == modern(
        client, ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK, ResultReason.INVALID_FIELD
    )


def hash_(
    client: Client,
    data: bytes,
    *,
    algorithm: int | None = HashingAlgorithm.SHA_256,
    correlation: bytes | None = None,
    init: bool = False,
    final: bool = False,
) -> Result:
    return client.call(
        Operation.HASH,
        params(hashing=algorithm) if algorithm is not None else None,
        byte_string(Tag.DATA, data),
        _blob(Tag.CORRELATION_VALUE, correlation),
        boolean(Tag.INIT_INDICATOR, True) if init else None,
        boolean(Tag.FINAL_INDICATOR, True) if final else None,
    )


def test_hash(client: Client) -> None:
    digest = h("ad41233d22cf9322e3a7ff49a13da434797abed3bab80950a1a0d4e582b7ea72")  # OASIS CS-AC-M-7
    assert blob(hash_(client, DATA), Tag.DATA) == digest
    token = blob(hash_(client, DATA[:3], init=True), Tag.CORRELATION_VALUE)
    assert token is not None
    assert blob(hash_(client, DATA[3:], algorithm=None, correlation=token, final=True), Tag.DATA) == digest
    assert hash_(client, DATA, algorithm=None).failure()[0] == ResultReason.MISSING_DATA
    md2 = hash_(client, DATA, algorithm=HashingAlgorithm.MD2).failure()[0]
    assert md2 == modern(client, ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS, ResultReason.CRYPTOGRAPHIC_FAILURE)


# --------------------------------------------------------------------------- RNG


def test_rng_retrieve_and_seed(client: Client) -> None:
    result = client.call(Operation.RNG_RETRIEVE, integer(Tag.DATA_LENGTH, 32))
    data = blob(result, Tag.DATA)
    assert data is not None and len(data) == 32
    assert len(set(data)) > 8  # the seeded test entropy, not zeros
    for bad in (0, -1, MAX_RNG_BYTES + 1):
        refused = client.call(Operation.RNG_RETRIEVE, integer(Tag.DATA_LENGTH, bad))
        assert refused.failure()[0] == ResultReason.INVALID_FIELD
    seeded = client.call(Operation.RNG_SEED, byte_string(Tag.DATA, bytes(range(32)))).expect_ok()
    length = seeded.find(Tag.DATA_LENGTH)
    assert length is not None and length.value == 0  # the OS generator does not take client seeds
    assert client.call(Operation.RNG_SEED).failure()[0] == ResultReason.MISSING_DATA
