"""Splits a byte stream into whole TTLV messages, checking the size from the header first.

The 8-byte header of the outer item carries the length, so an oversize or
malformed message is refused before a single body byte is buffered: a peer
cannot make the server hold more than ``max_message_size`` bytes per connection.
"""

from __future__ import annotations

import struct

from kmipd.ttlv.errors import TTLVError

__all__ = ["Framer", "FramingError"]

_HEADER = struct.Struct(">IL")
_STRUCTURE = 0x01


class FramingError(TTLVError):
    """The stream cannot be split into messages; the connection must be closed."""


class Framer:
    """Accumulates bytes and yields complete messages (header included)."""

    __slots__ = ("_buffer", "max_message_size")

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return every message now complete, in order.

        Raises:
            FramingError: the outer header is not a Structure or declares a size over the limit.
        """
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while len(buffer) >= 8:
            word, length = _HEADER.unpack_from(buffer, 0)
            if word & 0xFF != _STRUCTURE:
                raise FramingError(f"message item type 0x{word & 0xFF:02x} is not a Structure")
            if length % 8:
                raise FramingError(f"message length {length} is not a multiple of 8")
            total = 8 + length
            if total > self.max_message_size:
                raise FramingError(f"message of {total} bytes exceeds the limit of {self.max_message_size}")
            if len(buffer) < total:
                break
            messages.append(bytes(buffer[:total]))
            del buffer[:total]
        return messages
