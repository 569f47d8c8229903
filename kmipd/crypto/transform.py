"""One shape for every symmetric cipher: feed data in parts, finish once.

KMIP's Encrypt and Decrypt can be single-part or multi-part (Init Indicator,
Correlation Value, Final Indicator); giving every cipher the same
``update``/``finalize`` interface lets one code path serve both. Ciphers that
`cryptography` only offers as one-shot functions (ChaCha20-Poly1305, AES key
wrap) are buffered until the final part, within a size bound.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import (
    AEADEncryptionContext,
    BlockCipherAlgorithm,
    CipherContext,
    algorithms,
)
from cryptography.hazmat.primitives.padding import PaddingContext

from kmipd.crypto.errors import (
    AuthenticationFailed,
    BadParameters,
    DataLengthError,
    StreamLimit,
    UnsupportedParameters,
)
from kmipd.protocol.enums import CryptographicAlgorithm

#: Most bytes one transform may hold back (buffered input, or plaintext awaiting its tag check).
MAX_BUFFERED = 4 << 20

_AES_KEY_BYTES = frozenset({16, 24, 32})
_TRIPLE_DES_KEY_BYTES = frozenset({16, 24})


def block_algorithm(algorithm: int, key: bytes) -> BlockCipherAlgorithm:
    """The `cryptography` block cipher for a KMIP Cryptographic Algorithm and key.

    Raises:
        UnsupportedParameters: not a block cipher kmipd runs.
        BadParameters: the key has a length the cipher does not take.
    """
    if algorithm == CryptographicAlgorithm.AES:
        if len(key) not in _AES_KEY_BYTES:
            raise BadParameters(f"an AES key is 16, 24 or 32 bytes, not {len(key)}")
        return algorithms.AES(key)
    if algorithm == CryptographicAlgorithm.TRIPLE_DES:
        if len(key) not in _TRIPLE_DES_KEY_BYTES:
            raise BadParameters(f"a Triple-DES key is 16 or 24 bytes, not {len(key)}")
        return TripleDES(key)
    raise UnsupportedParameters("this cryptographic algorithm is not available as a block cipher")


class Transform:
    """A cipher in progress. ``tag`` is set by authenticated encryption once finalized."""

    tag: bytes | None = None

    def update(self, data: bytes) -> bytes:
        """Process one part; return the output available so far."""
        raise NotImplementedError

    def finalize(self) -> bytes:
        """Process the end of the data; return the remaining output.

        Raises:
            AuthenticationFailed: decryption found the data not authentic.
            DataLengthError: the data does not fit the mode.
        """
        raise NotImplementedError


class CipherTransform(Transform):
    """A `cryptography` cipher context, with padding before (encrypt) or after (decrypt) it.

    With ``hold`` the output is kept back until :meth:`finalize` succeeds: authenticated
    decryption must not release plaintext whose tag has not been checked yet.
    """

    def __init__(
        self,
        context: CipherContext,
        *,
        pad: PaddingContext | None = None,
        unpad: PaddingContext | None = None,
        hold: bool = False,
        tag_length: int | None = None,
    ) -> None:
        self._context = context
        self._pad = pad
        self._unpad = unpad
        self._hold = hold
        self._held = bytearray()
        self._tag_length = tag_length

    def update(self, data: bytes) -> bytes:
        """Encrypt or decrypt one part."""
        if self._pad is not None:
            data = self._pad.update(data)
        out = self._context.update(data)
        if self._unpad is not None:
            out = self._unpad.update(out)
        return self._keep(out)

    def _keep(self, out: bytes) -> bytes:
        if not self._hold:
            return out
        if len(self._held) + len(out) > MAX_BUFFERED:
            raise StreamLimit(f"authenticated decryption holds at most {MAX_BUFFERED} bytes until its tag is checked")
        self._held += out
        return b""

    def finalize(self) -> bytes:
        """Finish; check the tag or the padding."""
        try:
            out = self._context.update(self._pad.finalize()) if self._pad is not None else b""
            out += self._context.finalize()
        except InvalidTag:
            raise AuthenticationFailed("the data is not authentic") from None
        except ValueError:
            # cryptography's only ValueError at this point: a partial final block.
            raise DataLengthError("the data is not a whole number of cipher blocks") from None
        if self._unpad is not None:
            try:
                out = self._unpad.update(out) + self._unpad.finalize()
            except ValueError:
                raise AuthenticationFailed("the data is not authentic") from None
        if self._tag_length is not None and isinstance(self._context, AEADEncryptionContext):
            self.tag = self._context.tag[: self._tag_length]
        if self._hold:
            out = bytes(self._held) + out
            self._held.clear()
        return out


class BufferedTransform(Transform):
    """Collects every part and runs a one-shot function on the whole at the end.

    ``run`` returns the output and, for authenticated encryption, the tag.
    """

    def __init__(self, run: Callable[[bytes], tuple[bytes, bytes | None]]) -> None:
        self._run = run
        self._data = bytearray()

    def update(self, data: bytes) -> bytes:
        """Keep the part for later; nothing is output before the end."""
        if len(self._data) + len(data) > MAX_BUFFERED:
            raise StreamLimit(f"this cipher processes at most {MAX_BUFFERED} bytes in one operation")
        self._data += data
        return b""

    def finalize(self) -> bytes:
        """Run the cipher over everything collected."""
        data = bytes(self._data)
        self._data.clear()
        out, self.tag = self._run(data)
        return out
