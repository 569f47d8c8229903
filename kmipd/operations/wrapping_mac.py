"""The MAC/signature half of key wrapping: MAC/Signature Key Information (KMIP 1.4 section 2.1.5, Table 11).

The key is "either the Unique Identifier of the Symmetric Key used to MAC, or
of the Private Key (or its corresponding Public Key) used to sign". A
Symmetric Key MACs: HMAC when its (or the parameters') Cryptographic Algorithm
is an HMAC algorithm, CMAC when it is AES or Triple-DES, as the MAC operation
does. A Private Key signs with the Cryptographic Parameters given, else its
own first Cryptographic Parameters attribute, as the Sign operation does.

Each side is split in two steps: ``prepare_*`` loads the key and checks that
it may be used now (state, dates, usage mask) and returns a function that does
only the cryptography. The wrapping code prepares every key before it computes
anything, so that a refused key never leaves half-done work behind.
"""

from __future__ import annotations

from collections.abc import Callable

from kmipd.crypto import asymmetric, digests
from kmipd.crypto.errors import UnsupportedParameters
from kmipd.crypto.formats import load_private_key, load_public_key, public_key_from_certificate
from kmipd.errors import IllegalOperation, InvalidField
from kmipd.operations.context import Context
from kmipd.operations.cryptoparams import effective_parameters, key_block, kmip_errors, symmetric_key
from kmipd.operations.objects import ManagedObject, load
from kmipd.operations.usage import require_usable
from kmipd.protocol.enums import BlockCipherMode, CryptographicUsageMask, LinkType, ObjectType, Tag
from kmipd.ttlv.codec import decode
from kmipd.ttlv.item import Item

Signer = Callable[[bytes], bytes]
#: (data, presented MAC/Signature) -> whether it is valid.
Verifier = Callable[[bytes, bytes], bool]


def linked_key(ctx: Context, obj: ManagedObject, link_type: int) -> ManagedObject | None:
    """The object ``obj`` links to with ``link_type`` (loaded with the caller's visibility), if any."""
    for link in obj.values("Link"):
        kind = link.find(Tag.LINK_TYPE)
        target = link.find(Tag.LINKED_OBJECT_IDENTIFIER)
        if kind is not None and kind.value == link_type and target is not None:
            return load(ctx, str(target.value))
    return None


def _named(ctx: Context, info: Item) -> ManagedObject:
    return load(ctx, str(info.find(Tag.UNIQUE_IDENTIFIER).value))  # type: ignore[union-attr]


def _enum(params: Item | None, tag: int) -> int | None:
    item = params.find(tag) if params is not None else None
    return None if item is None else int(item.value)  # type: ignore[arg-type]


def _signature_parameters(info: Item, obj: ManagedObject) -> asymmetric.SignatureParameters:
    """The Key Information's Cryptographic Parameters, else the key's first (as Sign and Verify read them)."""
    given = info.find(Tag.CRYPTOGRAPHIC_PARAMETERS)
    params = given if given is not None and given.children else obj.first("Cryptographic Parameters")
    salt = _enum(params, Tag.SALT_LENGTH)
    return asymmetric.SignatureParameters(
        digital_signature_algorithm=_enum(params, Tag.DIGITAL_SIGNATURE_ALGORITHM),
        cryptographic_algorithm=_enum(params, Tag.CRYPTOGRAPHIC_ALGORITHM),
        padding_method=_enum(params, Tag.PADDING_METHOD),
        hashing_algorithm=_enum(params, Tag.HASHING_ALGORITHM),
        mask_generator_hashing_algorithm=_enum(params, Tag.MASK_GENERATOR_HASHING_ALGORITHM),
        salt_length=salt,
    )


def _mac_function(info: Item, obj: ManagedObject) -> Signer:
    """HMAC or CMAC under a Symmetric Key, by the parameters' or the key's Cryptographic Algorithm."""
    key = symmetric_key(obj)
    params = effective_parameters(info.find(Tag.CRYPTOGRAPHIC_PARAMETERS), obj)
    algorithm = params.cryptographic_algorithm if params.cryptographic_algorithm is not None else key.algorithm
    if algorithm is None:
        raise InvalidField("neither the MAC key nor its Cryptographic Parameters name a MAC algorithm")
    with kmip_errors():
        if not digests.is_mac_algorithm(algorithm):
            raise UnsupportedParameters("key wrapping MACs with HMAC, or CMAC under an AES or Triple-DES key")
        if algorithm in digests.CMAC_CIPHERS and params.block_cipher_mode not in (None, BlockCipherMode.CMAC):
            raise UnsupportedParameters("a MAC with a block cipher key is CMAC")
        digests.mac(algorithm, key.material)  # refuses a key the MAC cannot take, before any data

    def compute(data: bytes) -> bytes:
        with kmip_errors():
            context = digests.mac(algorithm, key.material)
            context.update(data)
            return context.finalize()

    return compute


def prepare_signer(ctx: Context, info: Item) -> Signer:
    """The MAC or signature function of the key ``info`` names, checked for MAC Generate / Sign now.

    Raises:
        ItemNotFound: the key (or a Public Key's Private Key) is not visible to the client.
        IllegalOperation: the object is not a Symmetric, Private or Public Key.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: it may not be used now.
    """
    obj = _named(ctx, info)
    if obj.object_type == ObjectType.SYMMETRIC_KEY:
        require_usable(ctx, obj, CryptographicUsageMask.MAC_GENERATE, protect=True)
        return _mac_function(info, obj)
    if obj.object_type == ObjectType.PUBLIC_KEY:
        private = linked_key(ctx, obj, LinkType.PRIVATE_KEY_LINK)
        if private is None:
            raise IllegalOperation("the Public Key has no Private Key to sign with")
        obj = private
    if obj.object_type != ObjectType.PRIVATE_KEY:
        raise IllegalOperation("the MAC/Signature key must be a Symmetric Key or a Private Key")
    require_usable(ctx, obj, CryptographicUsageMask.SIGN, protect=True)
    params = _signature_parameters(info, obj)
    private_key = load_private_key(key_block(obj))

    def sign(data: bytes) -> bytes:
        with kmip_errors():
            return asymmetric.sign(private_key, params, data)

    return sign


def prepare_verifier(ctx: Context, info: Item) -> Verifier:
    """The MAC or signature check of the key ``info`` names, checked for MAC Verify / Verify now.

    A Private Key is checked through its linked Public Key, which must allow Verify.

    Raises:
        ItemNotFound: the key (or a Private Key's Public Key) is not visible to the client.
        IllegalOperation: the object is not a key that can check a MAC or signature.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: it may not be used now.
    """
    obj = _named(ctx, info)
    if obj.object_type == ObjectType.SYMMETRIC_KEY:
        require_usable(ctx, obj, CryptographicUsageMask.MAC_VERIFY, protect=False)
        compute = _mac_function(info, obj)
        return lambda data, presented: digests.matches(compute(data), presented)
    if obj.object_type == ObjectType.PRIVATE_KEY:
        public = linked_key(ctx, obj, LinkType.PUBLIC_KEY_LINK)
        if public is None:
            raise IllegalOperation("the Private Key has no Public Key to verify with")
        obj = public
    if obj.object_type not in (ObjectType.PUBLIC_KEY, ObjectType.CERTIFICATE):
        raise IllegalOperation("the MAC/Signature key must be a Symmetric Key, a Public Key or a Certificate")
    require_usable(ctx, obj, CryptographicUsageMask.VERIFY, protect=False)
    params = _signature_parameters(info, obj)
    if obj.object_type == ObjectType.CERTIFICATE:
        assert obj.stored.body is not None  # require_usable refused destroyed objects
        public_key = public_key_from_certificate(decode(obj.stored.body))
    else:
        public_key = load_public_key(key_block(obj))

    def verify(data: bytes, presented: bytes) -> bool:
        with kmip_errors():
            return asymmetric.verify(public_key, params, presented, data)

    return verify


__all__ = ["Signer", "Verifier", "linked_key", "prepare_signer", "prepare_verifier"]
