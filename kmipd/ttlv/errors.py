"""Errors raised by the codec; the protocol layer maps them onto KMIP Result Reasons."""


class TTLVError(ValueError):
    """The bytes (or text) are not a well-formed encoding of a TTLV tree.

    ``offset`` is the byte position where decoding gave up, for diagnostics.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset
