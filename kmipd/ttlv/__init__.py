"""Sans-I/O TTLV codec: bytes to a tree of items and back, plus the KMIP XML and JSON encodings.

Nothing here knows KMIP semantics, sockets or databases; tag names for the text
encodings are supplied by the caller through a :class:`~kmipd.ttlv.names.TagNames`.
"""

from kmipd.ttlv.codec import Limits, decode, encode
from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.framing import Framer, FramingError
from kmipd.ttlv.item import Item, ItemType, Value

__all__ = ["Framer", "FramingError", "Item", "ItemType", "Limits", "TTLVError", "Value", "decode", "encode"]
