"""Protocol versions: ordered (major, minor) tuples, never floats."""

from __future__ import annotations

from typing import NamedTuple


class ProtocolVersion(NamedTuple):
    """A KMIP protocol version; tuples order the way versions do."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def is_2x(self) -> bool:
        """True for the 2.x attribute and message model."""
        return self.major >= 2

    @classmethod
    def parse(cls, text: str) -> ProtocolVersion:
        """Parse "1.4" into (1, 4)."""
        major, _, minor = text.partition(".")
        return cls(int(major), int(minor or 0))


V1_0 = ProtocolVersion(1, 0)
V1_1 = ProtocolVersion(1, 1)
V1_2 = ProtocolVersion(1, 2)
V1_3 = ProtocolVersion(1, 3)
V1_4 = ProtocolVersion(1, 4)
V2_0 = ProtocolVersion(2, 0)
V2_1 = ProtocolVersion(2, 1)

#: Every version kmipd speaks, most preferred first (the DiscoverVersions order).
SUPPORTED: tuple[ProtocolVersion, ...] = (V2_1, V2_0, V1_4, V1_3, V1_2, V1_1, V1_0)


def fallback_version(requested: ProtocolVersion) -> ProtocolVersion:
    """The version in which to tell a client that ``requested`` is unsupported.

    A client that speaks an unknown 1.x minor is answered in 1.4, anything
    else in 2.1: the closest dialect it is most likely to decode.
    """
    return V1_4 if requested.major <= 1 else V2_1
