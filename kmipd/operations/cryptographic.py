"""Encrypt, Decrypt, MAC, MACVerify, Hash, RNGRetrieve, RNGSeed (KMIP 1.4 sections 4.29-4.37; 2.1 section 6.1).

Every operation runs single-part, or multi-part: a request with Init Indicator
opens a stream and gets a Correlation Value back, later requests carry that
value, and the one with Final Indicator finishes it. Streams live in this
process's memory (see :mod:`kmipd.crypto.streams` for the bounds and why a
stream must stay on one connection). Each part reloads the key and checks its
state and usage mask again, so revoking a key stops its open streams.

When neither the request nor the key names a mode, an AES or Triple-DES key
encrypts in CBC with PKCS#5 padding and a server-generated IV returned in
IV/Counter/Nonce: MongoDB sends no Cryptographic Parameters and expects exactly
that. Whenever the server generates an IV it returns it, whether or not the
client set Random IV; an IV the client sends is always the one used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from kmipd.crypto import asymmetric, digests, formats
from kmipd.crypto.digests import Digest
from kmipd.crypto.errors import UnsupportedParameters
from kmipd.crypto.streams import CORRELATION_BYTES, Stream, StreamTable
from kmipd.crypto.symmetric import decryptor, encryptor, iv_length, with_defaults
from kmipd.errors import FeatureNotSupported, InvalidField, MissingData
from kmipd.operations.context import Context, NeedsWrite
from kmipd.operations.cryptoparams import (
    Parameters,
    cipher_spec,
    effective_parameters,
    key_block,
    kmip_errors,
    parse_parameters,
    symmetric_key,
    unknown_stream,
    wrong_object_type,
)
from kmipd.operations.cryptouse import consume_usage
from kmipd.operations.objects import ManagedObject, load, resolve_uid
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.operations.usage import require_usable
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicUsageMask,
    ObjectType,
    Operation,
    Tag,
    ValidityIndicator,
)
from kmipd.protocol.versions import V1_2
from kmipd.store.interface import ConcurrentUpdate
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, integer, text

T = TypeVar("T")

#: Most bytes one RNG Retrieve returns: enough for any key or nonce, small enough for one message.
MAX_RNG_BYTES = 1 << 20

#: Open Encrypt/Decrypt streams and open Hash/MAC/MAC Verify streams of this process.


# --------------------------------------------------------------------------- request parts


@dataclass(frozen=True, slots=True)
class Part:
    """Where a request stands in a (possibly) multi-part operation."""

    correlation: bytes | None
    opens: bool
    final: bool

    @property
    def single(self) -> bool:
        """A whole operation in one request."""
        return self.correlation is None and not self.opens

    @property
    def finishes(self) -> bool:
        """This request produces the result."""
        return self.single or self.final


def _bytes(payload: Payload, tag: int, *, required: bool = False, what: str = "") -> bytes | None:
    item = payload.find(tag)
    if item is None:
        if required:
            raise MissingData(f"{what} is required")
        return None
    if item.type is not ItemType.BYTE_STRING:
        raise InvalidField(f"{what or 'the field'} must be a Byte String")
    return bytes(item.value)  # type: ignore[arg-type]


def _part(payload: Payload) -> Part:
    correlation = _bytes(payload, Tag.CORRELATION_VALUE, what="Correlation Value")
    opens = bool(payload.boolean(Tag.INIT_INDICATOR))
    final = bool(payload.boolean(Tag.FINAL_INDICATOR))
    if correlation is not None and opens:
        raise InvalidField("a request cannot both continue a stream (Correlation Value) and open one")
    return Part(correlation, opens=opens and not final, final=final)


def _data(payload: Payload, part: Part) -> bytes:
    """The Data: required for a single-part request, optional for the parts of a stream."""
    return _bytes(payload, Tag.DATA, required=part.single, what="Data") or b""


def _resume(ctx: Context, table: StreamTable[T], part: Part, operation: int) -> Stream[T] | None:
    if part.correlation is None:
        return None
    stream = table.take(part.correlation, ctx.identity.name, operation, ctx.now)
    if stream is None:
        raise unknown_stream(ctx)
    return stream


def _keep(ctx: Context, table: StreamTable[T], part: Part, stream: Stream[T]) -> list[Item]:
    """Store an unfinished stream; return the Correlation Value item to answer with."""
    token = part.correlation or ctx.entropy.token_bytes(CORRELATION_BYTES)
    with kmip_errors():
        table.put(token, stream, ctx.now)
    return [byte_string(Tag.CORRELATION_VALUE, token)]


def _key(
    ctx: Context,
    payload: Payload,
    resumed: tuple[StreamTable[T], Part, Stream[T]] | None,
    usage: CryptographicUsageMask,
    *,
    protect: bool,
    data_bytes: int = 0,
) -> ManagedObject:
    """The key of this request (a stream's own key when continuing one), checked for this use now.

    Protecting operations also take their share of the key's Usage Limits here, before any
    cryptographic work. When that needs a write transaction (or meets a concurrent change), the
    processor reruns the operation: the resumed stream goes back into its table untouched.
    """
    named = payload.find(Tag.UNIQUE_IDENTIFIER)
    try:
        if resumed is not None:
            uid = resumed[2].uid or ""
            if named is not None and named.value != uid:
                raise InvalidField("the Unique Identifier differs from the one the stream was opened with")
        else:
            uid = resolve_uid(ctx, named)
        obj = load(ctx, uid)
        require_usable(ctx, obj, usage, protect=protect)
        if protect:
            obj = consume_usage(ctx, obj, data_bytes, opening=resumed is None)
    except (NeedsWrite, ConcurrentUpdate):
        if resumed is not None:
            table, part, stream = resumed
            table.put(part.correlation or b"", stream, ctx.now)
        raise
    return obj


def _resumed(
    table: StreamTable[T], part: Part, stream: Stream[T] | None
) -> tuple[StreamTable[T], Part, Stream[T]] | None:
    return None if stream is None else (table, part, stream)


# --------------------------------------------------------------------------- Encrypt / Decrypt


def _rsa(ctx: Context, obj: ManagedObject, params: Parameters, data: bytes, *, encrypting: bool) -> bytes:
    """RSA encryption with a Public Key, decryption with a Private Key (OAEP or PKCS#1 v1.5)."""
    block = key_block(obj)
    with kmip_errors():
        if encrypting:
            public = formats.load_public_key(block)
            if not isinstance(public, rsa.RSAPublicKey):
                raise UnsupportedParameters("public-key encryption is offered with RSA keys only")
            return asymmetric.rsa_encrypt(
                public,
                data,
                padding_method=params.padding_method,
                hashing_algorithm=params.hashing_algorithm,
                mgf_hashing_algorithm=params.mask_generator_hashing_algorithm,
                label=params.p_source,
            )
        private = formats.load_private_key(block)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise UnsupportedParameters("public-key decryption is offered with RSA keys only")
        return asymmetric.rsa_decrypt(
            private,
            data,
            padding_method=params.padding_method,
            hashing_algorithm=params.hashing_algorithm,
            mgf_hashing_algorithm=params.mask_generator_hashing_algorithm,
            label=params.p_source,
        )


def _cipher(ctx: Context, payload: Payload, *, encrypting: bool) -> list[Item]:
    operation = Operation.ENCRYPT if encrypting else Operation.DECRYPT
    usage = CryptographicUsageMask.ENCRYPT if encrypting else CryptographicUsageMask.DECRYPT
    part = _part(payload)
    stream = _resume(ctx, ctx.process.cipher_streams, part, operation)
    data = _data(payload, part)
    obj = _key(
        ctx,
        payload,
        _resumed(ctx.process.cipher_streams, part, stream),
        usage,
        protect=encrypting,
        data_bytes=len(data),
    )
    generated_iv: bytes | None = None
    if stream is None:
        params = effective_parameters(payload.structure(Tag.CRYPTOGRAPHIC_PARAMETERS), obj)
        asymmetric_type = ObjectType.PUBLIC_KEY if encrypting else ObjectType.PRIVATE_KEY
        if obj.object_type == asymmetric_type:
            if not part.single:
                raise FeatureNotSupported("public-key encryption and decryption are single-part only")
            out = _rsa(ctx, obj, params, data, encrypting=encrypting)
            return [text(Tag.UNIQUE_IDENTIFIER, obj.uid), byte_string(Tag.DATA, out)]
        if obj.object_type != ObjectType.SYMMETRIC_KEY:
            raise wrong_object_type("encryption" if encrypting else "decryption")
        key = symmetric_key(obj)
        iv = _bytes(payload, Tag.IV_COUNTER_NONCE, what="IV/Counter/Nonce")
        aad = _bytes(
            payload, Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, what="Authenticated Encryption Additional Data"
        )
        with kmip_errors():
            spec = with_defaults(cipher_spec(params, key.algorithm))
            if encrypting:
                if iv is None and (size := iv_length(spec)):
                    iv = generated_iv = ctx.entropy.token_bytes(size)
                transform = encryptor(spec, key.material, iv, aad)
            else:
                tag = _bytes(payload, Tag.AUTHENTICATED_ENCRYPTION_TAG, what="Authenticated Encryption Tag")
                transform = decryptor(spec, key.material, iv, aad, tag)
        stream = Stream(ctx.identity.name, operation, obj.uid, transform, ctx.now)
    with kmip_errors():
        out = stream.state.update(data)
        if part.finishes:
            out += stream.state.finalize()
    response = [text(Tag.UNIQUE_IDENTIFIER, obj.uid), byte_string(Tag.DATA, out)]
    if generated_iv is not None:
        response.append(byte_string(Tag.IV_COUNTER_NONCE, generated_iv))
    if not part.finishes:
        response.extend(_keep(ctx, ctx.process.cipher_streams, part, stream))
    elif stream.state.tag is not None:
        response.append(byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, stream.state.tag))
    return response


@handler(Operation.ENCRYPT, since=V1_2, mutates=False)
def encrypt(ctx: Context, payload: Payload) -> list[Item]:
    """Encrypt Data with a symmetric key (or an RSA public key)."""
    return _cipher(ctx, payload, encrypting=True)


@handler(Operation.DECRYPT, since=V1_2, mutates=False)
def decrypt(ctx: Context, payload: Payload) -> list[Item]:
    """Decrypt Data with a symmetric key (or an RSA private key); authenticated modes check the tag first."""
    return _cipher(ctx, payload, encrypting=False)


# --------------------------------------------------------------------------- MAC / MAC Verify / Hash


def _mac_context(ctx: Context, payload: Payload, obj: ManagedObject) -> Digest:
    """HMAC by the parameters' (or the key's) HMAC algorithm; CMAC for an AES or Triple-DES key."""
    if obj.object_type != ObjectType.SYMMETRIC_KEY:
        raise wrong_object_type("MAC")
    key = symmetric_key(obj)
    params = effective_parameters(payload.structure(Tag.CRYPTOGRAPHIC_PARAMETERS), obj)
    algorithm = params.cryptographic_algorithm if params.cryptographic_algorithm is not None else key.algorithm
    if algorithm is None:
        raise InvalidField("neither the key nor the Cryptographic Parameters name a MAC algorithm")
    with kmip_errors():
        if algorithm in digests.CMAC_CIPHERS and params.block_cipher_mode not in (None, BlockCipherMode.CMAC):
            raise UnsupportedParameters("a MAC with a block cipher key is CMAC")
        return digests.mac(algorithm, key.material)


def _digest_step(ctx: Context, part: Part, stream: Stream[Digest], data: bytes) -> tuple[bytes | None, list[Item]]:
    """Feed a part; return the result when finished, else the Correlation Value to continue with."""
    with kmip_errors():
        stream.state.update(data)
    if part.finishes:
        return stream.state.finalize(), []
    return None, _keep(ctx, ctx.process.digest_streams, part, stream)


@handler(Operation.MAC, since=V1_2, mutates=False)
def mac(ctx: Context, payload: Payload) -> list[Item]:
    """Compute an HMAC or CMAC of Data."""
    part = _part(payload)
    stream = _resume(ctx, ctx.process.digest_streams, part, Operation.MAC)
    data = _data(payload, part)
    resumed = _resumed(ctx.process.digest_streams, part, stream)
    obj = _key(ctx, payload, resumed, CryptographicUsageMask.MAC_GENERATE, protect=True, data_bytes=len(data))
    if stream is None:
        stream = Stream(ctx.identity.name, Operation.MAC, obj.uid, _mac_context(ctx, payload, obj), ctx.now)
    result, more = _digest_step(ctx, part, stream, data)
    response = [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]
    if result is not None:
        response.append(byte_string(Tag.MAC_DATA, result))
    return response + more


@handler(Operation.MAC_VERIFY, since=V1_2, mutates=False)
def mac_verify(ctx: Context, payload: Payload) -> list[Item]:
    """Check MAC Data against a MAC of Data computed here, in constant time."""
    part = _part(payload)
    stream = _resume(ctx, ctx.process.digest_streams, part, Operation.MAC_VERIFY)
    data = _data(payload, part)
    obj = _key(
        ctx,
        payload,
        _resumed(ctx.process.digest_streams, part, stream),
        CryptographicUsageMask.MAC_VERIFY,
        protect=False,
    )
    presented = _bytes(payload, Tag.MAC_DATA, required=part.finishes, what="MAC Data")
    if stream is None:
        stream = Stream(ctx.identity.name, Operation.MAC_VERIFY, obj.uid, _mac_context(ctx, payload, obj), ctx.now)
    result, more = _digest_step(ctx, part, stream, data)
    validity = ValidityIndicator.UNKNOWN
    if result is not None and presented is not None:
        validity = ValidityIndicator.VALID if digests.matches(result, presented) else ValidityIndicator.INVALID
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid), enumeration(Tag.VALIDITY_INDICATOR, validity), *more]


@handler(Operation.HASH, since=V1_2, mutates=False)
def hash_(ctx: Context, payload: Payload) -> list[Item]:
    """Hash Data with the Hashing Algorithm of the Cryptographic Parameters."""
    part = _part(payload)
    stream = _resume(ctx, ctx.process.digest_streams, part, Operation.HASH)
    data = _data(payload, part)
    if stream is None:
        params = parse_parameters(payload.structure(Tag.CRYPTOGRAPHIC_PARAMETERS, required=True))
        with kmip_errors():
            state = digests.hasher(params.hashing_algorithm, params.cryptographic_algorithm)
        stream = Stream(ctx.identity.name, Operation.HASH, None, state, ctx.now)
    result, more = _digest_step(ctx, part, stream, data)
    return ([byte_string(Tag.DATA, result)] if result is not None else []) + more


# --------------------------------------------------------------------------- RNG


@handler(Operation.RNG_RETRIEVE, since=V1_2, mutates=False)
def rng_retrieve(ctx: Context, payload: Payload) -> list[Item]:
    """Data Length bytes from the server's CSPRNG (the operating system's), at most :data:`MAX_RNG_BYTES`."""
    length = payload.integer(Tag.DATA_LENGTH, required=True) or 0
    if not 0 < length <= MAX_RNG_BYTES:
        raise InvalidField(f"Data Length must be between 1 and {MAX_RNG_BYTES} bytes")
    return [byte_string(Tag.DATA, ctx.entropy.token_bytes(length))]


@handler(Operation.RNG_SEED, since=V1_2, mutates=False)
def rng_seed(ctx: Context, payload: Payload) -> list[Item]:
    """Accept seed material and report that none of it was used.

    kmipd draws every random byte from the operating system's CSPRNG, which seeds and
    reseeds itself from the kernel's entropy sources; there is no server-side generator
    state for a client's seed to reset or bias. The request succeeds (so that clients that
    seed before use keep working) and truthfully reports Data Length 0, the outcome of the
    OASIS test case CS-RNG-O-3 (O-1, O-2 and O-4 are its alternatives). The seed is not
    stored or logged.
    """
    del ctx
    _bytes(payload, Tag.DATA, required=True, what="Data")
    return [integer(Tag.DATA_LENGTH, 0)]


__all__ = [
    "MAX_RNG_BYTES",
    "decrypt",
    "encrypt",
    "hash_",
    "mac",
    "mac_verify",
    "rng_retrieve",
    "rng_seed",
]
