"""Errors of the cryptographic primitives, independent of KMIP Result Reasons.

The functions in :mod:`kmipd.crypto` know nothing about protocol versions; the
operation handlers translate these exceptions into the Result Reason a client
of the request's version expects (see :mod:`kmipd.operations.cryptographic`).
Messages name parameters and lengths, never key material or data.
"""

from __future__ import annotations


class CryptoError(Exception):
    """A cryptographic operation could not be performed."""


class UnsupportedParameters(CryptoError):
    """The algorithm, mode, padding or hash is one kmipd does not offer."""


class BadParameters(CryptoError):
    """The parameters are recognised but their values cannot work (key, IV or nonce length, counter)."""


class InvalidTagLength(BadParameters):
    """An authentication tag length outside what the AEAD allows.

    Kept apart because the OASIS test cases (CS-BC-M-GCM-1, CS-BC-M-CHACHA20POLY1305-1)
    expect General Failure for it rather than a parameter error.
    """


class MissingIV(CryptoError):
    """The mode needs an IV/Counter/Nonce to decrypt and none was given."""


class MissingTag(CryptoError):
    """An authenticated decryption was asked for without its Authenticated Encryption Tag."""


class AuthenticationFailed(CryptoError):
    """Decryption found the data not authentic: a wrong tag, a failed unwrap, or bad padding.

    One class for all of them, with a fixed message, so that the answer does not tell an
    attacker which check failed (no padding oracle).
    """


class DataLengthError(CryptoError):
    """The data does not fit the mode: not a whole number of blocks without padding, too short to unwrap."""


class StreamLimit(CryptoError):
    """A multi-part operation would exceed the server's bounds (open streams, buffered bytes)."""
