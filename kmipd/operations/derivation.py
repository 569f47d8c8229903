"""DeriveKey (KMIP 1.4 section 4.6; 2.1 sections 6.1.14 and 7.12).

A new Symmetric Key or Secret Data is computed from a base Symmetric Key or
Secret Data (a password, for PBKDF2) the client may use for Derive Key, stored
as a new object, and linked both ways: Derivation Base Object Link on the new
object, Derived Key Link on each base. A second base object, when named, must
be Secret Data and stands in for the Derivation Data (KMIP 1.4 section 4.6).

Methods, and how the specification's loose wording is read:

* PBKDF2: HMAC with the Cryptographic Parameters' Hashing Algorithm, else the
  base key's HMAC algorithm, else HMAC-SHA1 (PKCS #5's default PRF); Salt and
  Iteration Count are required.
* HKDF (2.x): Salt, and the Derivation Data as info; SHA-256 unless a Hashing
  Algorithm is given, as KMIP 2.1 section 7.12 says.
* HMAC: HMAC(base key, Derivation Data) with the base key's HMAC algorithm ("the
  attributes of the derivation key provide enough information about the PRF");
  a base key of another algorithm uses the parameters' Hashing Algorithm.
* Hash: the hash of the Derivation Data, or of the base key when there is none.
* NIST800-108-C: SP 800-108 counter mode, 32-bit counter before the fixed input;
  the Derivation Data is Label || 0x00 || Context and the server appends [L]2.
  The PRF is HMAC with a given hash (or the key's HMAC algorithm), else CMAC-AES.
* Encrypt: the base key encrypts the Derivation Data in ECB or CBC (CBC with
  PKCS#5 when no mode is given, as for Encrypt), with an all-zero IV unless one
  is given ("an empty IV is assumed"). Stream modes (CTR, OFB, CFB, GCM,
  ChaCha20) are refused: their output is the data XOR a keystream, so one
  disclosed derived key would give away every other key derived with that key
  and IV.
* AWS Signature Version 4 (2.x): the signing key from the Date, Region and
  Service Derivation Data.

Fixed-output methods truncate and never stretch: a Cryptographic Length beyond
their output is refused, as the specification requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from kmipd.crypto import kdf
from kmipd.crypto.errors import BadParameters, UnsupportedParameters
from kmipd.crypto.symmetric import encrypt, iv_length, with_defaults
from kmipd.errors import CryptographicFailure, InvalidField, MissingData
from kmipd.operations import rules
from kmipd.operations.context import Context
from kmipd.operations.cryptoparams import (
    Parameters,
    SymmetricKey,
    cipher_spec,
    effective_parameters,
    kmip_errors,
    symmetric_key,
    wrong_object_type,
)
from kmipd.operations.lifecycle import checked_request_attributes, insert_object, new_uid, symmetric_key_body
from kmipd.operations.objects import ManagedObject, load, save
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.operations.usage import require_usable
from kmipd.protocol.attributes import Attribute
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    DerivationMethod,
    KeyFormatType,
    LinkType,
    ObjectType,
    Operation,
    SecretDataType,
    Tag,
)
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, structure, text

#: Methods KMIP 2.0 introduced: a 1.x client cannot name them.
_SINCE_2_0 = frozenset({DerivationMethod.HKDF, DerivationMethod.AWS_SIGNATURE_VERSION_4})
#: Methods that need Derivation Data (from the request or a second, Secret Data, base object).
_NEED_DATA = frozenset(
    {
        DerivationMethod.HMAC,
        DerivationMethod.ENCRYPT,
        DerivationMethod.NIST800_108_C,
        DerivationMethod.AWS_SIGNATURE_VERSION_4,
    }
)
#: Block cipher modes whose output is a permutation of the data, not data XOR keystream.
_ENCRYPT_MODES = frozenset({BlockCipherMode.ECB, BlockCipherMode.CBC})
#: Symmetric key lengths (bits) kmipd derives for algorithms with fixed key sizes.
_KEY_LENGTHS: dict[int, frozenset[int]] = {
    CryptographicAlgorithm.AES: frozenset({128, 192, 256}),
    CryptographicAlgorithm.TRIPLE_DES: frozenset({128, 192}),
    CryptographicAlgorithm.CHACHA20: frozenset({256}),
    CryptographicAlgorithm.CHACHA20POLY1305: frozenset({256}),
}
_BASE_TYPES = frozenset({ObjectType.SYMMETRIC_KEY, ObjectType.SECRET_DATA})


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the Derivation Parameters structure carries (the Cryptographic Parameters still unmerged)."""

    parameters: Item | None
    iv: bytes | None
    data: tuple[bytes, ...]
    salt: bytes | None
    iterations: int | None


def _read_inputs(item: Item) -> Inputs:
    """Read Derivation Parameters, refusing fields of the wrong type."""
    fields = Payload(item)
    iv = fields.find(Tag.INITIALIZATION_VECTOR)
    salt = fields.find(Tag.SALT)
    data = fields.find_all(Tag.DERIVATION_DATA)
    for blob in (iv, salt, *data):
        if blob is not None and blob.type is not ItemType.BYTE_STRING:
            raise InvalidField("Initialization Vector, Salt and Derivation Data must be byte strings")
    return Inputs(
        parameters=fields.structure(Tag.CRYPTOGRAPHIC_PARAMETERS),
        iv=None if iv is None else bytes(iv.value),  # type: ignore[arg-type]
        data=tuple(bytes(d.value) for d in data),  # type: ignore[arg-type]
        salt=None if salt is None else bytes(salt.value),  # type: ignore[arg-type]
        iterations=fields.integer(Tag.ITERATION_COUNT),
    )


def _base_uids(payload: Payload) -> list[str]:
    """The named base objects: one, or two when the second supplies the Derivation Data.

    The ID Placeholder is not a substitute here (KMIP 1.4 Table 180 forbids it).
    """
    items = payload.find_all(Tag.UNIQUE_IDENTIFIER)
    if not items:
        raise MissingData("Derive Key needs the Unique Identifier of the base object")
    if any(i.type is not ItemType.TEXT_STRING for i in items):
        raise InvalidField("Unique Identifier must be of type TEXT_STRING")
    uids = [str(i.value) for i in items]
    if len(uids) > 2 or len(set(uids)) != len(uids):
        raise InvalidField("Derive Key takes one base object, and at most one distinct Secret Data for its data")
    return uids


def _target(object_type: int, attributes: list[Attribute]) -> tuple[int | None, int]:
    """The new object's Cryptographic Algorithm (keys only) and length in bits, checked."""
    by_name = {a.name: a.value for a in attributes}
    length_item = by_name.get("Cryptographic Length")
    algorithm_item = by_name.get("Cryptographic Algorithm")
    if length_item is None:
        raise MissingData("Derive Key needs a Cryptographic Length attribute")
    length = int(length_item.value)  # type: ignore[arg-type]
    algorithm = None if algorithm_item is None else int(algorithm_item.value)  # type: ignore[arg-type]
    if length <= 0 or length % 8:
        raise CryptographicFailure(f"a derived object is a whole number of bytes, not {length} bits")
    if object_type == ObjectType.SYMMETRIC_KEY:
        if algorithm is None:
            raise MissingData("deriving a Symmetric Key needs a Cryptographic Algorithm attribute")
        allowed = _KEY_LENGTHS.get(algorithm)
        if allowed is not None and length not in allowed:
            raise CryptographicFailure(f"this algorithm's keys are {sorted(allowed)} bits, not {length}")
    return algorithm, length


# --------------------------------------------------------------------------- the methods


def _hash_named(params: Parameters) -> hashes.HashAlgorithm | None:
    """The hash the Cryptographic Parameters name, as a Hashing Algorithm or an HMAC algorithm."""
    if params.hashing_algorithm is not None:
        return kdf.hash_by_hashing_algorithm(params.hashing_algorithm)
    if params.cryptographic_algorithm is not None:
        return kdf.hash_of_hmac(params.cryptographic_algorithm)
    return None


def _key_hash(key: SymmetricKey) -> hashes.HashAlgorithm | None:
    return None if key.algorithm is None else kdf.hash_of_hmac(key.algorithm)


def _encrypt_method(params: Parameters, key: SymmetricKey, data: bytes, iv: bytes | None, length: int) -> bytes:
    spec = with_defaults(cipher_spec(params, key.algorithm))
    if spec.mode not in _ENCRYPT_MODES:
        raise UnsupportedParameters("derivation by encryption runs ECB or CBC (stream modes would expose a keystream)")
    if iv is None:
        iv = bytes(iv_length(spec)) if spec.mode == BlockCipherMode.CBC else None
    ciphertext, _ = encrypt(spec, key.material, data, iv)
    if length > len(ciphertext):
        raise BadParameters("the requested length exceeds the encrypted Derivation Data")
    return ciphertext[:length]


def _kbkdf_counter(params: Parameters, key: SymmetricKey, data: bytes, length: int) -> bytes:
    prf_hash = _hash_named(params)
    cmac = (
        params.cryptographic_algorithm == CryptographicAlgorithm.AES
        or params.block_cipher_mode == BlockCipherMode.CMAC
        or (prf_hash is None and key.algorithm == CryptographicAlgorithm.AES)
    )
    if prf_hash is None and not cmac:
        prf_hash = _key_hash(key)
    if prf_hash is not None:
        return kdf.kbkdf_counter_hmac(key.material, data, length=length, algorithm=prf_hash)
    if cmac:
        return kdf.kbkdf_counter_cmac(key.material, data, length=length)
    raise BadParameters("NIST800-108-C needs a PRF: a Hashing Algorithm (HMAC) or an AES key (CMAC)")


def _run(method: int, inputs: Inputs, params: Parameters, key: SymmetricKey, data: bytes | None, size: int) -> bytes:
    """Derive ``size`` bytes; primitives' errors are left to the caller to translate."""
    if inputs.iv and method != DerivationMethod.ENCRYPT:
        raise BadParameters("only the Encrypt derivation method takes an Initialization Vector")
    if method == DerivationMethod.PBKDF2:
        if inputs.salt is None:
            raise MissingData("PBKDF2 needs a Salt")
        if inputs.iterations is None:
            raise MissingData("PBKDF2 needs an Iteration Count")
        prf = _hash_named(params) or _key_hash(key) or hashes.SHA1()
        return kdf.pbkdf2(key.material, salt=inputs.salt, iterations=inputs.iterations, length=size, algorithm=prf)
    if method == DerivationMethod.HKDF:
        prf = _hash_named(params) or hashes.SHA256()
        return kdf.hkdf(key.material, salt=inputs.salt, info=data, length=size, algorithm=prf)
    if method == DerivationMethod.HASH:
        algorithm = _hash_named(params)
        if algorithm is None:
            raise BadParameters("the Hash derivation method needs a Hashing Algorithm in its Cryptographic Parameters")
        return kdf.hash_derive(key.material if data is None else data, length=size, algorithm=algorithm)
    assert data is not None  # _NEED_DATA covers the remaining methods
    if method == DerivationMethod.HMAC:
        algorithm = _key_hash(key) or _hash_named(params)
        if algorithm is None:
            raise BadParameters("HMAC derivation needs an HMAC base key or a Hashing Algorithm")
        return kdf.hmac_derive(key.material, data, length=size, algorithm=algorithm)
    if method == DerivationMethod.ENCRYPT:
        return _encrypt_method(params, key, data, inputs.iv, size)
    if method == DerivationMethod.NIST800_108_C:
        return _kbkdf_counter(params, key, data, size)
    if method == DerivationMethod.AWS_SIGNATURE_VERSION_4:
        date, region, service = inputs.data
        return kdf.aws_sigv4_signing_key(key.material, date, region, service, length=size)
    raise UnsupportedParameters("this Derivation Method is not offered")


def _data(method: int, inputs: Inputs, bases: list[ManagedObject]) -> bytes | None:
    """The Derivation Data: the request's, or a second (Secret Data) base object's value, never both."""
    if method == DerivationMethod.AWS_SIGNATURE_VERSION_4:
        if len(inputs.data) != 3 or len(bases) > 1:
            raise InvalidField("AWS Signature Version 4 takes three Derivation Data: Date, Region and Service")
        return b""
    if len(bases) > 1:
        if inputs.data:
            raise InvalidField("give the Derivation Data or a Secret Data object holding it, not both")
        if bases[1].object_type != ObjectType.SECRET_DATA:
            raise InvalidField("a second base object supplies the Derivation Data and must be Secret Data")
        return symmetric_key(bases[1]).material
    if len(inputs.data) > 1:
        raise InvalidField("this Derivation Method takes one Derivation Data")
    if method == DerivationMethod.PBKDF2 and inputs.data:
        raise InvalidField("PBKDF2 derives from the base object's password and Salt; it takes no Derivation Data")
    if method in _NEED_DATA and not inputs.data:
        raise MissingData("this Derivation Method needs Derivation Data")
    return inputs.data[0] if inputs.data else None


# --------------------------------------------------------------------------- the operation


def _body(object_type: int, algorithm: int | None, length: int, material: bytes) -> Item:
    if object_type == ObjectType.SYMMETRIC_KEY:
        assert algorithm is not None  # _target requires it for keys
        return symmetric_key_body(algorithm, length, material)
    # Derived bytes are random-looking key material, not a password: Secret Data Type Seed.
    return structure(
        Tag.SECRET_DATA,
        enumeration(Tag.SECRET_DATA_TYPE, SecretDataType.SEED),
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.OPAQUE),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, material)),
        ),
    )


def _method(ctx: Context, payload: Payload) -> int:
    method = payload.enum(Tag.DERIVATION_METHOD, required=True)
    assert method is not None
    try:
        DerivationMethod(method)
    except ValueError:
        raise InvalidField("unknown Derivation Method") from None
    if method in _SINCE_2_0 and ctx.version.major < 2:
        raise InvalidField(f"KMIP {ctx.version} does not define this Derivation Method")
    return method


@handler(Operation.DERIVE_KEY)
def derive_key(ctx: Context, payload: Payload) -> list[Item]:
    """Derive a Symmetric Key or Secret Data from a base object and store it, linked to its base."""
    object_type = payload.enum(Tag.OBJECT_TYPE, required=True)
    if object_type not in _BASE_TYPES:
        raise InvalidField("Derive Key makes Symmetric Keys or Secret Data")
    uids = _base_uids(payload)
    method = _method(ctx, payload)
    derivation = payload.structure(Tag.DERIVATION_PARAMETERS, required=True)
    assert derivation is not None
    inputs = _read_inputs(derivation)
    attributes = checked_request_attributes(ctx, payload)
    algorithm, length = _target(object_type, attributes)
    bases = [load(ctx, uid, for_update=True) for uid in uids]
    for base in bases:
        if base.object_type not in _BASE_TYPES:
            raise wrong_object_type("key derivation")
        require_usable(ctx, base, CryptographicUsageMask.DERIVE_KEY, protect=True)
    data = _data(method, inputs, bases)
    key = symmetric_key(bases[0])
    with kmip_errors():
        params = effective_parameters(inputs.parameters, bases[0])
        material = _run(method, inputs, params, key, data, length // 8)
    uid = new_uid(ctx)
    links = [Attribute("Link", rules.link(LinkType.DERIVATION_BASE_OBJECT_LINK, base.uid)) for base in bases]
    # KMIP makes Random Number Generator mandatory on derived keys too; kmipd names none ("Unspecified").
    keyed = algorithm if object_type == ObjectType.SYMMETRIC_KEY else None
    extra = () if keyed is None else (rules.rng_attribute(keyed, length),)
    insert_object(
        ctx, uid, object_type, _body(object_type, algorithm, length, material), attributes + links, server_extra=extra
    )
    for base in bases:
        base.add("Link", rules.link(LinkType.DERIVED_KEY_LINK, uid))
        base.touch(ctx.now)
        save(ctx, base)
    return [text(Tag.UNIQUE_IDENTIFIER, uid)]


__all__ = ["derive_key"]
