"""Known-answer tests of the symmetric primitives (FIPS 197, SP 800-38A/D, RFC 3394, 5649, 4231, 4493, 8439)."""

from __future__ import annotations

import pytest

from kmipd.crypto import digests
from kmipd.crypto.errors import (
    AuthenticationFailed,
    BadParameters,
    DataLengthError,
    InvalidTagLength,
    MissingIV,
    MissingTag,
    StreamLimit,
    UnsupportedParameters,
)
from kmipd.crypto.streams import Stream, StreamTable
from kmipd.crypto.symmetric import CipherSpec, decrypt, decryptor, encrypt, encryptor, iv_length, with_defaults
from kmipd.protocol.enums import BlockCipherMode as Mode
from kmipd.protocol.enums import CryptographicAlgorithm as Alg
from kmipd.protocol.enums import HashingAlgorithm
from kmipd.protocol.enums import PaddingMethod as Pad

h = bytes.fromhex

# SP 800-38A appendix F key and plaintext blocks.
KEY_38A = h("2b7e151628aed2a6abf7158809cf4f3c")
PT_38A = h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")

# SP 800-38D / McGrew-Viega GCM test cases 2, 4 and 5.
GCM_KEY = h("feffe9928665731c6d6a8f9467308308")
GCM_PT = h(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM_AAD = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM4_CT = h(
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
)
GCM4_TAG = h("5bc94fbc3221a5db94fae95ae7121a47")
GCM5_CT = h(
    "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
    "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598"
)
GCM5_TAG = h("3612d2e79e3b0785561be14aaca2fccb")

# RFC 8439 section 2.8.2.
CCP_KEY = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
CCP_NONCE = h("070000004041424344454647")
CCP_AAD = h("50515253c0c1c2c3c4c5c6c7")
CCP_PT = (
    b"Ladies and Gentlemen of the class of '99: "
    b"If I could offer you only one tip for the future, sunscreen would be it."
)
CCP_CT = h(
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116"
)
CCP_TAG = h("1ae10b594f09e26a7e902ecbd0600691")

AES = CipherSpec(Alg.AES, Mode.ECB)
GCM = CipherSpec(Alg.AES, Mode.GCM)


# --------------------------------------------------------------------------- block modes


def test_aes_ecb_fips197_c1() -> None:
    key = h("000102030405060708090a0b0c0d0e0f")
    ct, tag = encrypt(AES, key, h("00112233445566778899aabbccddeeff"))
    assert ct == h("69c4e0d86a7b0430d8cdb78070b4c55a")
    assert tag is None
    assert decrypt(AES, key, ct) == h("00112233445566778899aabbccddeeff")


def test_aes_cbc_sp800_38a_f21() -> None:
    spec = CipherSpec(Alg.AES, Mode.CBC)
    iv = h("000102030405060708090a0b0c0d0e0f")
    ct, _ = encrypt(spec, KEY_38A, PT_38A, iv)
    assert ct == h("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")
    assert decrypt(spec, KEY_38A, ct, iv) == PT_38A


def test_aes_ctr_sp800_38a_f51() -> None:
    spec = CipherSpec(Alg.AES, Mode.CTR)
    counter = h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    ct, _ = encrypt(spec, KEY_38A, PT_38A, counter)
    assert ct == h("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff")


def test_aes_ctr_short_nonce_takes_the_initial_counter_value() -> None:
    spec = CipherSpec(Alg.AES, Mode.CTR, initial_counter=0xFCFDFEFF)
    ct, _ = encrypt(spec, KEY_38A, PT_38A[:16], h("f0f1f2f3f4f5f6f7f8f9fafb"))
    assert ct == h("874d6191b620e3261bef6864990db6ce")


def test_aes_cfb_and_ofb_sp800_38a() -> None:
    iv = h("000102030405060708090a0b0c0d0e0f")
    assert encrypt(CipherSpec(Alg.AES, Mode.CFB), KEY_38A, PT_38A[:16], iv)[0] == h("3b3fd92eb72dad20333449f8e83cfb4a")
    assert encrypt(CipherSpec(Alg.AES, Mode.OFB), KEY_38A, PT_38A[:16], iv)[0] == h("3b3fd92eb72dad20333449f8e83cfb4a")


def test_pkcs5_padding_adds_a_whole_block_to_aligned_data() -> None:
    spec = CipherSpec(Alg.AES, Mode.ECB, Pad.PKCS5)
    key = h("0123456789abcdef0123456789abcdef")
    data = h("01020304050607080910111213141516")
    ct, _ = encrypt(spec, key, data)
    # The OASIS case CS-BC-M-8 pins this ciphertext.
    assert ct == h("d9bcce11b0b437b90239552df3a360c90efb6bfed93b4d1ea2123ba4db075ff6")
    assert decrypt(spec, key, ct) == data


def test_bad_padding_reads_as_not_authentic() -> None:
    spec = CipherSpec(Alg.AES, Mode.ECB, Pad.PKCS5)
    key = bytes(16)
    ct, _ = encrypt(AES, key, bytes(16))  # decrypts to zeros: no valid PKCS#7 padding
    with pytest.raises(AuthenticationFailed):
        decrypt(spec, key, ct)


def test_ansi_x923_padding_round_trip() -> None:
    spec = CipherSpec(Alg.AES, Mode.CBC, Pad.ANSI_X9_23)
    ct, _ = encrypt(spec, KEY_38A, b"abc", bytes(16))
    assert len(ct) == 16
    assert decrypt(spec, KEY_38A, ct, bytes(16)) == b"abc"


def test_unpadded_partial_block_is_a_length_error() -> None:
    with pytest.raises(DataLengthError):
        encrypt(AES, KEY_38A, b"short")


def test_triple_des_with_three_equal_keys_is_des() -> None:
    # The classic DES example (key 133457799BBCDFF1): K1 = K2 = K3 reduces TDEA to single DES.
    spec = CipherSpec(Alg.TRIPLE_DES, Mode.ECB)
    key = h("133457799bbcdff1") * 3
    ct, _ = encrypt(spec, key, h("0123456789abcdef"))
    assert ct == h("85e813540f0ab405")
    cbc = CipherSpec(Alg.TRIPLE_DES, Mode.CBC, Pad.PKCS5)
    ct, _ = encrypt(cbc, key, b"eight by", bytes(8))
    assert len(ct) == 16
    assert decrypt(cbc, key, ct, bytes(8)) == b"eight by"


def test_defaults_are_cbc_pkcs5_with_a_block_iv() -> None:
    spec = with_defaults(CipherSpec(Alg.AES))
    assert (spec.mode, spec.padding) == (Mode.CBC, Pad.PKCS5)
    assert iv_length(spec) == 16
    assert iv_length(with_defaults(CipherSpec(Alg.TRIPLE_DES))) == 8
    assert iv_length(CipherSpec(Alg.AES, Mode.ECB)) == 0
    assert iv_length(GCM) == 12
    assert iv_length(CipherSpec(Alg.AES, Mode.GCM, iv_length=16)) == 16
    assert with_defaults(CipherSpec(Alg.CHACHA20POLY1305)).mode == Mode.AEAD


def test_parameter_errors() -> None:
    with pytest.raises(MissingIV):
        decrypt(CipherSpec(Alg.AES, Mode.CBC), KEY_38A, bytes(16))
    with pytest.raises(BadParameters):
        encrypt(CipherSpec(Alg.AES, Mode.CBC), KEY_38A, bytes(16), bytes(8))
    with pytest.raises(BadParameters):
        encrypt(AES, bytes(15), bytes(16))
    with pytest.raises(BadParameters):
        encrypt(CipherSpec(Alg.AES, Mode.CBC), KEY_38A, bytes(16), bytes(16), aad=b"x")
    with pytest.raises(UnsupportedParameters):
        encrypt(CipherSpec(Alg.TRIPLE_DES, Mode.GCM), bytes(24), bytes(8), bytes(12))
    with pytest.raises(UnsupportedParameters):
        encrypt(CipherSpec(Alg.AES, Mode.XTS), bytes(32), bytes(16), bytes(16))
    with pytest.raises(UnsupportedParameters):
        encrypt(CipherSpec(Alg.AES, Mode.CTR, Pad.PKCS5), KEY_38A, bytes(16), bytes(16))
    with pytest.raises(UnsupportedParameters):
        encrypt(CipherSpec(Alg.RSA), KEY_38A, bytes(16))


# --------------------------------------------------------------------------- GCM


def test_gcm_test_case_2() -> None:
    ct, tag = encrypt(GCM, bytes(16), bytes(16), bytes(12))
    assert ct == h("0388dace60b6a392f328c2b971b2fe78")
    assert tag == h("ab6e47d42cec13bdf53a67b21257bddf")


def test_gcm_test_cases_4_and_5_with_aad() -> None:
    assert encrypt(GCM, GCM_KEY, GCM_PT, h("cafebabefacedbaddecaf888"), GCM_AAD) == (GCM4_CT, GCM4_TAG)
    # Test case 5: a 64-bit IV.
    assert encrypt(GCM, GCM_KEY, GCM_PT, h("cafebabefacedbad"), GCM_AAD) == (GCM5_CT, GCM5_TAG)
    assert decrypt(GCM, GCM_KEY, GCM5_CT, h("cafebabefacedbad"), GCM_AAD, GCM5_TAG) == GCM_PT


def test_gcm_truncated_tags() -> None:
    spec = CipherSpec(Alg.AES, Mode.GCM, tag_length=12)
    ct, tag = encrypt(spec, bytes(16), bytes(16), bytes(12))
    assert tag == h("ab6e47d42cec13bdf53a67b2")
    assert decrypt(spec, bytes(16), ct, bytes(12), tag=tag) == bytes(16)
    # Without a Tag Length the presented tag's own length is used.
    assert decrypt(GCM, bytes(16), ct, bytes(12), tag=tag) == bytes(16)


@pytest.mark.parametrize(
    ("ct", "iv", "tag"),
    [
        ("0388dace60b6a392f328c2b971b2fe78", "000000000000000000000000", "006e47d42cec13bdf53a67b21257bddf"),
        ("0388dace60b6a392f328c2b971b2fe78", "ff0000000000000000000000", "ab6e47d42cec13bdf53a67b21257bddf"),
        ("ff88dace60b6a392f328c2b971b2fe78", "000000000000000000000000", "ab6e47d42cec13bdf53a67b21257bddf"),
    ],
)
def test_gcm_rejects_any_change(ct: str, iv: str, tag: str) -> None:
    with pytest.raises(AuthenticationFailed):
        decrypt(GCM, bytes(16), h(ct), h(iv), tag=h(tag))


def test_gcm_tag_length_bounds_and_missing_tag() -> None:
    for bad in (1, 3, 17, 32):
        with pytest.raises(InvalidTagLength):
            encrypt(CipherSpec(Alg.AES, Mode.GCM, tag_length=bad), bytes(16), b"", bytes(12))
    with pytest.raises(MissingTag):
        decrypt(GCM, bytes(16), b"", bytes(12))
    with pytest.raises(AuthenticationFailed):  # Tag Length says 16, the tag has 12 bytes
        decrypt(CipherSpec(Alg.AES, Mode.GCM, tag_length=16), bytes(16), b"", bytes(12), tag=bytes(12))


def test_gcm_in_parts_equals_one_shot_and_holds_plaintext_until_verified() -> None:
    iv = h("cafebabefacedbad")
    enc = encryptor(GCM, GCM_KEY, iv, GCM_AAD)
    first = enc.update(GCM_PT[:32])
    assert first == GCM5_CT[:32]  # streamed at once, as CS-BC-M-GCM-3 expects
    assert first + enc.update(GCM_PT[32:]) + enc.finalize() == GCM5_CT
    assert enc.tag == GCM5_TAG
    dec = decryptor(GCM, GCM_KEY, iv, GCM_AAD, GCM5_TAG)
    assert dec.update(GCM5_CT[:32]) == b""
    assert dec.update(GCM5_CT[32:]) + dec.finalize() == GCM_PT
    bad = decryptor(GCM, GCM_KEY, iv, GCM_AAD, bytes(16))
    assert bad.update(GCM5_CT) == b""
    with pytest.raises(AuthenticationFailed):
        bad.finalize()


# --------------------------------------------------------------------------- ChaCha20


def test_chacha20_keystreams() -> None:
    spec = CipherSpec(Alg.CHACHA20)
    block0 = h(
        "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
        "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
    )
    assert encrypt(spec, bytes(32), bytes(64), bytes(8))[0] == block0  # original 64-bit nonce
    assert encrypt(spec, bytes(32), bytes(64), bytes(12))[0] == block0  # RFC 8439 layout, counter 0
    assert encrypt(spec, bytes(32), bytes(64), bytes(16))[0] == block0  # explicit counter block
    # The OASIS case CS-BC-M-CHACHA20-3 (nonce 0000000000000001 in the original layout).
    assert encrypt(spec, bytes(32), bytes(16), h("0000000000000001"))[0] == h("de9cba7bf3d69ef5e786dc63973f653a")
    assert decrypt(spec, bytes(32), block0, bytes(8)) == bytes(64)
    with pytest.raises(BadParameters):
        encrypt(spec, bytes(32), b"x", bytes(10))
    with pytest.raises(MissingIV):
        decrypt(spec, bytes(32), b"x")
    with pytest.raises(UnsupportedParameters):
        encrypt(CipherSpec(Alg.CHACHA20, Mode.CBC), bytes(32), b"x", bytes(12))


def test_chacha20_poly1305_rfc8439() -> None:
    spec = CipherSpec(Alg.CHACHA20POLY1305)
    assert encrypt(spec, CCP_KEY, CCP_PT, CCP_NONCE, CCP_AAD) == (CCP_CT, CCP_TAG)
    assert decrypt(spec, CCP_KEY, CCP_CT, CCP_NONCE, CCP_AAD, CCP_TAG) == CCP_PT
    with pytest.raises(AuthenticationFailed):
        decrypt(spec, CCP_KEY, CCP_CT, CCP_NONCE, CCP_AAD, b"\xff" + CCP_TAG[1:])


def test_chacha20_poly1305_truncated_tag() -> None:
    spec = CipherSpec(Alg.CHACHA20POLY1305, Mode.AEAD, tag_length=12)
    assert encrypt(spec, CCP_KEY, CCP_PT, CCP_NONCE, CCP_AAD) == (CCP_CT, CCP_TAG[:12])
    assert decrypt(spec, CCP_KEY, CCP_CT, CCP_NONCE, CCP_AAD, CCP_TAG[:12]) == CCP_PT
    with pytest.raises(AuthenticationFailed):
        decrypt(spec, CCP_KEY, b"\x00" + CCP_CT[1:], CCP_NONCE, CCP_AAD, CCP_TAG[:12])
    with pytest.raises(InvalidTagLength):
        encrypt(CipherSpec(Alg.CHACHA20POLY1305, tag_length=32), CCP_KEY, CCP_PT, CCP_NONCE)
    with pytest.raises(BadParameters):
        encrypt(CipherSpec(Alg.CHACHA20POLY1305), CCP_KEY, CCP_PT, bytes(8))


# --------------------------------------------------------------------------- key wrap


def test_aes_key_wrap_rfc3394_4_1() -> None:
    spec = CipherSpec(Alg.AES, Mode.NISTKEYWRAP)
    kek = h("000102030405060708090a0b0c0d0e0f")
    wrapped, _ = encrypt(spec, kek, h("00112233445566778899aabbccddeeff"))
    assert wrapped == h("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5")
    assert decrypt(spec, kek, wrapped) == h("00112233445566778899aabbccddeeff")
    with pytest.raises(AuthenticationFailed):
        decrypt(spec, kek, b"\x00" + wrapped[1:])
    with pytest.raises(DataLengthError):
        encrypt(spec, kek, bytes(20))
    with pytest.raises(UnsupportedParameters):
        encrypt(spec, kek, bytes(16), iv=bytes(8))


def test_aes_key_wrap_with_padding_rfc5649_6() -> None:
    spec = CipherSpec(Alg.AES, Mode.AESKEYWRAPPADDING)
    kek = h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
    key20 = h("c37b7e6492584340bed12207808941155068f738")
    wrapped, _ = encrypt(spec, kek, key20)
    assert wrapped == h("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
    assert encrypt(spec, kek, h("466f7250617369"))[0] == h("afbeb0f07dfbf5419200f2ccb50bb24f")
    assert decrypt(spec, kek, wrapped) == key20


# --------------------------------------------------------------------------- MACs and hashes


def _mac(algorithm: int, key: bytes, data: bytes) -> bytes:
    context = digests.mac(algorithm, key)
    context.update(data)
    return context.finalize()


def test_hmac_rfc4231_case_1_and_rfc2202() -> None:
    key = b"\x0b" * 20
    assert _mac(Alg.HMAC_SHA224, key, b"Hi There") == h("896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22")
    assert _mac(Alg.HMAC_SHA256, key, b"Hi There") == h(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )
    assert _mac(Alg.HMAC_SHA384, key, b"Hi There") == h(
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"
    )
    assert _mac(Alg.HMAC_SHA512, key, b"Hi There") == h(
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
    )
    assert _mac(Alg.HMAC_SHA1, key, b"Hi There") == h("b617318655057264e28bc0b6fb378c8ef146be00")


def test_hmac_rfc4231_case_2_in_parts() -> None:
    context = digests.mac(Alg.HMAC_SHA256, b"Jefe")
    context.update(b"what do ya want ")
    context.update(b"for nothing?")
    assert context.finalize() == h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_aes_cmac_rfc4493() -> None:
    assert _mac(Alg.AES, KEY_38A, b"") == h("bb1d6929e95937287fa37d129b756746")
    assert _mac(Alg.AES, KEY_38A, PT_38A[:16]) == h("070a16b46b4d4144f79bdd9dd04a287c")
    with pytest.raises(BadParameters):
        digests.mac(Alg.AES, bytes(7))
    with pytest.raises(UnsupportedParameters):
        digests.mac(Alg.RSA, bytes(16))


def test_mac_comparison() -> None:
    assert digests.matches(b"abc", b"abc")
    assert not digests.matches(b"abc", b"abd")
    assert not digests.matches(b"abc", b"ab")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        (HashingAlgorithm.SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (HashingAlgorithm.SHA_256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (HashingAlgorithm.SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
    ],
)
def test_hashes_of_abc(algorithm: int, digest: str) -> None:
    context = digests.hasher(algorithm)
    context.update(b"ab")
    context.update(b"c")
    assert context.finalize() == h(digest)


def test_hash_selection() -> None:
    context = digests.hasher(None, Alg.SHA3_256)
    context.update(b"abc")
    assert context.finalize().hex().startswith("3a985da7")
    with pytest.raises(BadParameters):
        digests.hasher(None)
    with pytest.raises(UnsupportedParameters):
        digests.hasher(HashingAlgorithm.MD2)


# --------------------------------------------------------------------------- streams


def test_stream_table_is_private_bounded_and_expires() -> None:
    table: StreamTable[str] = StreamTable(max_streams=2, idle_seconds=10)
    table.put(b"a", Stream("alice", 1, "k", "state-a", 0), now=100)
    table.put(b"b", Stream("alice", 1, "k", "state-b", 0), now=100)
    with pytest.raises(StreamLimit):
        table.put(b"c", Stream("alice", 1, "k", "state-c", 0), now=101)
    assert table.take(b"a", "bob", 1, now=101) is None  # someone else's
    assert table.take(b"a", "alice", 2, now=101) is None  # another operation
    taken = table.take(b"a", "alice", 1, now=101)
    assert taken is not None and taken.state == "state-a"
    assert table.take(b"a", "alice", 1, now=101) is None  # taken out while in use
    assert len(table) == 1
    assert table.take(b"b", "alice", 1, now=111) is None  # idle for more than 10 s
    table.put(b"c", Stream("alice", 1, "k", "state-c", 0), now=111)
    assert len(table) == 1


def test_generated_iv_lengths_are_bounded() -> None:
    with pytest.raises(BadParameters):
        iv_length(CipherSpec(Alg.AES, Mode.GCM, iv_length=1 << 28))
    with pytest.raises(BadParameters):
        iv_length(CipherSpec(Alg.AES, Mode.GCM, iv_length=4))
    with pytest.raises(BadParameters):
        iv_length(CipherSpec(Alg.CHACHA20, iv_length=10))
    assert iv_length(CipherSpec(Alg.CHACHA20, iv_length=8)) == 8
    with pytest.raises(BadParameters):
        encrypt(GCM, bytes(16), b"", bytes(4))
