"""Build KMIP request messages as Item trees, run them through a Processor, read the answers.

Everything goes through the real codec both ways: requests are encoded to bytes,
``Processor.process`` answers bytes, and those are decoded and checked to be a
well-formed Response Message before any test looks at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmipd.protocol.enums import (
    BatchErrorContinuationOption,
    CryptographicAlgorithm,
    NameType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    Tag,
)
from kmipd.protocol.names import attribute_rule, attribute_rule_by_tag
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import (
    Item,
    ItemType,
    byte_string,
    date_time,
    enumeration,
    integer,
    interval,
    structure,
    text,
)

Version = tuple[int, int]

V1_0: Version = (1, 0)
V1_1: Version = (1, 1)
V1_2: Version = (1, 2)
V1_3: Version = (1, 3)
V1_4: Version = (1, 4)
V2_0: Version = (2, 0)
V2_1: Version = (2, 1)
ALL_VERSIONS: tuple[Version, ...] = (V1_0, V1_1, V1_2, V1_3, V1_4, V2_0, V2_1)

#: What a 1.x client is told when the object's state forbids an operation: 1.x has no Wrong Key
#: Lifecycle State; the OASIS KMIP 1.4 test case SKLC-M-2-14 (Destroy of an Active key) expects
#: Permission Denied, and kmipd follows it (commit 680b947).
WRONG_STATE_1X = ResultReason.PERMISSION_DENIED


def not_found_reason(version: Version) -> int:
    """The Result Reason for a missing (or invisible) object: 1.x Item Not Found, 2.x Object Not Found."""
    return ResultReason.OBJECT_NOT_FOUND if version >= V2_0 else ResultReason.ITEM_NOT_FOUND


def read_only_reason(version: Version) -> int:
    """The Result Reason for changing a read-only attribute: 1.x Permission Denied, 2.x Attribute Read Only."""
    return ResultReason.ATTRIBUTE_READ_ONLY if version >= V2_0 else ResultReason.PERMISSION_DENIED


def wrong_state_reason(version: Version) -> int:
    """The Result Reason of a lifecycle-state refusal in ``version``."""
    return ResultReason.WRONG_KEY_LIFECYCLE_STATE if version >= V2_0 else WRONG_STATE_1X


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Op:
    """One batch item to send."""

    operation: int
    children: tuple[Item, ...] = ()
    batch_id: bytes | None = None
    payload: bool = True


def op(operation: int, *children: Item | None, batch_id: bytes | None = None) -> Op:
    """A batch item with a Request Payload of ``children`` (None children are left out)."""
    return Op(int(operation), tuple(c for c in children if c is not None), batch_id)


def version_item(version: Version) -> Item:
    return structure(
        Tag.PROTOCOL_VERSION,
        integer(Tag.PROTOCOL_VERSION_MAJOR, version[0]),
        integer(Tag.PROTOCOL_VERSION_MINOR, version[1]),
    )


def request_message(
    version: Version,
    ops: Sequence[Op],
    *,
    max_response_size: int | None = None,
    continuation: int | None = None,
    batch_count: int | None = None,
    header_extra: Iterable[Item] = (),
) -> Item:
    header = structure(
        Tag.REQUEST_HEADER,
        version_item(version),
        integer(Tag.MAXIMUM_RESPONSE_SIZE, max_response_size) if max_response_size is not None else None,
        enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, continuation) if continuation is not None else None,
        *header_extra,
        integer(Tag.BATCH_COUNT, len(ops) if batch_count is None else batch_count),
    )
    items = [
        structure(
            Tag.BATCH_ITEM,
            enumeration(Tag.OPERATION, o.operation),
            byte_string(Tag.UNIQUE_BATCH_ITEM_ID, o.batch_id) if o.batch_id is not None else None,
            structure(Tag.REQUEST_PAYLOAD, *o.children) if o.payload else None,
        )
        for o in ops
    ]
    return structure(Tag.REQUEST_MESSAGE, header, *items)


@dataclass
class Result:
    """One response batch item."""

    operation: int | None
    status: int
    reason: int | None
    message: str | None
    payload: Item | None
    batch_id: bytes | None

    @property
    def ok(self) -> bool:
        return self.status == ResultStatus.SUCCESS

    def find(self, tag: int) -> Item | None:
        return None if self.payload is None else self.payload.find(tag)

    def find_all(self, tag: int) -> list[Item]:
        return [] if self.payload is None else self.payload.find_all(tag)

    @property
    def uid(self) -> str:
        item = self.find(Tag.UNIQUE_IDENTIFIER)
        assert item is not None, f"no Unique Identifier in {self}"
        return str(item.value)

    def expect_ok(self) -> Result:
        assert self.ok, f"operation {self.operation} failed: reason {self.reason}: {self.message}"
        return self

    def failure(self) -> tuple[int | None, str | None]:
        assert self.status == ResultStatus.OPERATION_FAILED, f"expected a failure, got {self}"
        return self.reason, self.message


@dataclass
class Response:
    version: Version
    time_stamp: int
    batch_count: int
    items: list[Result] = field(default_factory=list)
    tree: Item | None = None

    @property
    def only(self) -> Result:
        assert len(self.items) == 1, f"expected one batch item, got {len(self.items)}"
        return self.items[0]


def _value(item: Item | None) -> Any:
    return None if item is None else item.value


def decode_response(raw: bytes) -> Response:
    """Decode and sanity-check a Response Message."""
    tree = decode(raw)
    assert tree.tag == Tag.RESPONSE_MESSAGE and tree.type is ItemType.STRUCTURE
    header = tree.find(Tag.RESPONSE_HEADER)
    assert header is not None
    pv = header.find(Tag.PROTOCOL_VERSION)
    assert pv is not None
    version = (int(_value(pv.find(Tag.PROTOCOL_VERSION_MAJOR))), int(_value(pv.find(Tag.PROTOCOL_VERSION_MINOR))))
    ts = header.find(Tag.TIME_STAMP)
    assert ts is not None and ts.type is ItemType.DATE_TIME
    count = header.find(Tag.BATCH_COUNT)
    assert count is not None
    results = []
    for b in tree.find_all(Tag.BATCH_ITEM):
        status = b.find(Tag.RESULT_STATUS)
        assert status is not None
        results.append(
            Result(
                operation=_value(b.find(Tag.OPERATION)),
                status=int(status.value),  # type: ignore[arg-type]
                reason=_value(b.find(Tag.RESULT_REASON)),
                message=_value(b.find(Tag.RESULT_MESSAGE)),
                payload=b.find(Tag.RESPONSE_PAYLOAD),
                batch_id=_value(b.find(Tag.UNIQUE_BATCH_ITEM_ID)),
            )
        )
    assert int(count.value) == len(results), "Batch Count does not match the batch items"  # type: ignore[arg-type]
    return Response(version, int(ts.value), int(count.value), results, tree)  # type: ignore[arg-type]


def run_raw(processor: Any, raw: bytes, client: str = "alice") -> Response:
    return decode_response(processor.process(raw, client))


def run(processor: Any, version: Version, ops: Sequence[Op], client: str = "alice", **kwargs: Any) -> Response:
    """Encode a request of ``ops`` in ``version``, process it as ``client`` and decode the response."""
    return run_raw(processor, encode(request_message(version, ops, **kwargs)), client)


# --------------------------------------------------------------------------- attributes


def name_value(value: str) -> Item:
    """A Name attribute value."""
    return structure(
        Tag.NAME,
        text(Tag.NAME_VALUE, value),
        enumeration(Tag.NAME_TYPE, NameType.UNINTERPRETED_TEXT_STRING),
    )


def av(name: str, value: Any) -> Item:
    """The value of standard attribute ``name`` as an item with the attribute's own tag and type."""
    rule = attribute_rule(name)
    assert rule is not None, name
    if isinstance(value, Item):
        return Item(rule.tag, value.type, value.value)
    kind = ItemType(rule.item_type)
    if kind is ItemType.BYTE_STRING:
        return byte_string(rule.tag, value)
    if kind is ItemType.INTERVAL:
        return interval(rule.tag, value)
    return Item(rule.tag, kind, value)


def _split_custom(name: str) -> tuple[str, str]:
    vendor, _, rest = name.partition("-")
    return vendor, rest


def attr_1x(name: str, value: Item | None = None, index: int | None = None) -> Item:
    """A KMIP 1.x Attribute structure (Attribute Name, Attribute Index, Attribute Value)."""
    return structure(
        Tag.ATTRIBUTE,
        text(Tag.ATTRIBUTE_NAME, name),
        integer(Tag.ATTRIBUTE_INDEX, index) if index is not None else None,
        Item(Tag.ATTRIBUTE_VALUE, value.type, value.value) if value is not None else None,
    )


def attr_2x(name: str, value: Item) -> Item:
    """One attribute in the KMIP 2.x model: its tagged item, or a vendor Attribute structure."""
    if attribute_rule(name) is None:
        vendor, rest = _split_custom(name)
        return structure(
            Tag.ATTRIBUTE,
            text(Tag.VENDOR_IDENTIFICATION, vendor),
            text(Tag.ATTRIBUTE_NAME, rest),
            Item(Tag.ATTRIBUTE_VALUE, value.type, value.value),
        )
    return av(name, value)


def attributes_for(version: Version, attrs: Sequence[tuple[str, Item]]) -> Item | None:
    """Create/Register attributes: a Template-Attribute (1.x) or an Attributes structure (2.x)."""
    if not attrs:
        return None
    if version >= V2_0:
        return structure(Tag.ATTRIBUTES, *(attr_2x(n, v) for n, v in attrs))
    return structure(Tag.TEMPLATE_ATTRIBUTE, *(attr_1x(n, v) for n, v in attrs))


def reference(version: Version, name: str) -> Item:
    """How a request names an attribute: 1.x Attribute Name, 2.x Attribute Reference."""
    if version < V2_0:
        return text(Tag.ATTRIBUTE_NAME, name)
    rule = attribute_rule(name)
    if rule is not None:
        return enumeration(Tag.ATTRIBUTE_REFERENCE, rule.tag)
    vendor, rest = _split_custom(name)
    return structure(Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, vendor), text(Tag.ATTRIBUTE_NAME, rest))


def parse_attributes(version: Version, result: Result) -> dict[str, list[Item]]:
    """Attributes of a GetAttributes response, by name, read in the client's own model.

    Values come back as items tagged as the response tagged them (Attribute Value in 1.x and
    for 2.x custom attributes; the attribute's own tag for 2.x standard attributes).
    """
    out: dict[str, list[Item]] = {}
    if version >= V2_0:
        attrs = result.find(Tag.ATTRIBUTES)
        assert attrs is not None, "a 2.x GetAttributes response carries one Attributes structure"
        assert not result.find_all(Tag.ATTRIBUTE), "no 1.x Attribute structures at the top level in 2.x"
        for child in attrs.children:
            if child.tag == Tag.ATTRIBUTE:
                vendor = child.find(Tag.VENDOR_IDENTIFICATION)
                aname = child.find(Tag.ATTRIBUTE_NAME)
                value = child.find(Tag.ATTRIBUTE_VALUE)
                assert vendor is not None and aname is not None and value is not None, child
                out.setdefault(f"{vendor.value}-{aname.value}", []).append(value)
            else:
                rule = attribute_rule_by_tag(child.tag)
                assert rule is not None, f"unknown attribute tag 0x{child.tag:06x}"
                out.setdefault(rule.name, []).append(child)
    else:
        assert result.find(Tag.ATTRIBUTES) is None, "1.x responses never carry a 2.x Attributes structure"
        for child in result.find_all(Tag.ATTRIBUTE):
            aname = child.find(Tag.ATTRIBUTE_NAME)
            value = child.find(Tag.ATTRIBUTE_VALUE)
            assert aname is not None and value is not None, child
            assert child.find(Tag.VENDOR_IDENTIFICATION) is None
            values = out.setdefault(str(aname.value), [])
            index = child.find(Tag.ATTRIBUTE_INDEX)
            assert (int(index.value) if index is not None else 0) == len(values), "indices must count up from 0"
            values.append(value)
    return out


# --------------------------------------------------------------------------- object bodies


def symmetric_key(material: bytes, algorithm: int = CryptographicAlgorithm.AES, length: int | None = None,
                  key_value_extra: Sequence[Item] = ()) -> Item:
    return structure(
        Tag.SYMMETRIC_KEY,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, 1),  # Raw
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, material), *key_value_extra),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, len(material) * 8 if length is None else length),
        ),
    )


def key_material(result: Result) -> bytes:
    """The Raw key material of a Get response for a symmetric key."""
    body = result.find(Tag.SYMMETRIC_KEY)
    assert body is not None
    block = body.find(Tag.KEY_BLOCK)
    assert block is not None
    value = block.find(Tag.KEY_VALUE)
    assert value is not None
    material = value.find(Tag.KEY_MATERIAL)
    assert material is not None and material.type is ItemType.BYTE_STRING
    return bytes(material.value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- a client


class Client:
    """A KMIP client of one protocol version and identity, talking to a Processor in-process."""

    def __init__(self, processor: Any, version: Version = V2_1, name: str = "alice") -> None:
        self.processor = processor
        self.version = version
        self.name = name

    def as_(self, *, version: Version | None = None, name: str | None = None) -> Client:
        return Client(self.processor, version or self.version, name or self.name)

    def batch(self, ops: Sequence[Op], **kwargs: Any) -> Response:
        response = run(self.processor, self.version, ops, self.name, **kwargs)
        assert response.version == self.version
        return response

    def call(self, operation: int, *children: Item | None) -> Result:
        result = self.batch([op(operation, *children)]).only
        assert result.operation == operation
        return result

    # lifecycle
    def create(self, algorithm: int = CryptographicAlgorithm.AES, length: int | None = 256,
               attrs: Sequence[tuple[str, Item]] = (), object_type: int = ObjectType.SYMMETRIC_KEY) -> Result:
        all_attrs: list[tuple[str, Item]] = []
        if algorithm is not None:
            all_attrs.append(("Cryptographic Algorithm", av("Cryptographic Algorithm", enumeration(0, algorithm))))
        if length is not None:
            all_attrs.append(("Cryptographic Length", av("Cryptographic Length", integer(0, length))))
        all_attrs.extend(attrs)
        return self.call(Operation.CREATE, enumeration(Tag.OBJECT_TYPE, object_type),
                         attributes_for(self.version, all_attrs))

    def create_uid(self, **kwargs: Any) -> str:
        return self.create(**kwargs).expect_ok().uid

    def register(self, object_type: int, body: Item, attrs: Sequence[tuple[str, Item]] = ()) -> Result:
        return self.call(Operation.REGISTER, enumeration(Tag.OBJECT_TYPE, object_type), body,
                         attributes_for(self.version, attrs))

    def get(self, uid: str | None, *extra: Item) -> Result:
        return self.call(Operation.GET, _uid(uid), *extra)

    def activate(self, uid: str | None) -> Result:
        return self.call(Operation.ACTIVATE, _uid(uid))

    def revoke(self, uid: str | None, code: int = RevocationReasonCode.CESSATION_OF_OPERATION,
               occurrence: int | None = None) -> Result:
        return self.call(
            Operation.REVOKE, _uid(uid),
            structure(Tag.REVOCATION_REASON, enumeration(Tag.REVOCATION_REASON_CODE, code)),
            date_time(Tag.COMPROMISE_OCCURRENCE_DATE, occurrence) if occurrence is not None else None,
        )

    def destroy(self, uid: str | None) -> Result:
        return self.call(Operation.DESTROY, _uid(uid))

    def rekey(self, uid: str | None, offset: int | None = None,
              attrs: Sequence[tuple[str, Item]] = ()) -> Result:
        return self.call(Operation.RE_KEY, _uid(uid),
                         interval(Tag.OFFSET, offset) if offset is not None else None,
                         attributes_for(self.version, attrs))

    # attributes
    def get_attributes(self, uid: str | None, *names: str) -> Result:
        return self.call(Operation.GET_ATTRIBUTES, _uid(uid), *(reference(self.version, n) for n in names))

    def attributes(self, uid: str | None, *names: str) -> dict[str, list[Item]]:
        return parse_attributes(self.version, self.get_attributes(uid, *names).expect_ok())

    def attribute(self, uid: str, name: str) -> Any:
        """The Python value of the single instance of ``name`` (None when absent)."""
        values = self.attributes(uid, name).get(name, [])
        assert len(values) <= 1, values
        return values[0].value if values else None

    def state(self, uid: str) -> int:
        return int(self.attribute(uid, "State"))

    def get_attribute_list(self, uid: str | None) -> Result:
        return self.call(Operation.GET_ATTRIBUTE_LIST, _uid(uid))

    def _one(self, wrapper: int, name: str, value: Item, index: int | None = None) -> Item:
        if self.version >= V2_0:
            return structure(wrapper, attr_2x(name, value))
        return attr_1x(name, value, index)

    def add_attribute(self, uid: str | None, name: str, value: Item) -> Result:
        return self.call(Operation.ADD_ATTRIBUTE, _uid(uid), self._one(Tag.NEW_ATTRIBUTE, name, value))

    def modify_attribute(self, uid: str | None, name: str, value: Item, index: int | None = None,
                         current: Item | None = None) -> Result:
        extra = None
        if current is not None:
            extra = structure(Tag.CURRENT_ATTRIBUTE, attr_2x(name, current))
        return self.call(Operation.MODIFY_ATTRIBUTE, _uid(uid), extra,
                         self._one(Tag.NEW_ATTRIBUTE, name, value, index))

    def set_attribute(self, uid: str | None, name: str, value: Item) -> Result:
        return self.call(Operation.SET_ATTRIBUTE, _uid(uid), self._one(Tag.NEW_ATTRIBUTE, name, value))

    def delete_attribute(self, uid: str | None, name: str, index: int | None = None,
                         current: Item | None = None) -> Result:
        if self.version < V2_0:
            return self.call(Operation.DELETE_ATTRIBUTE, _uid(uid), text(Tag.ATTRIBUTE_NAME, name),
                             integer(Tag.ATTRIBUTE_INDEX, index) if index is not None else None)
        if current is not None:
            return self.call(Operation.DELETE_ATTRIBUTE, _uid(uid),
                             structure(Tag.CURRENT_ATTRIBUTE, attr_2x(name, current)))
        return self.call(Operation.DELETE_ATTRIBUTE, _uid(uid), reference(self.version, name))

    # locate
    def locate(self, attrs: Sequence[tuple[str, Item]] = (), *, maximum: int | None = None,
               offset: int | None = None, storage_mask: int | None = None) -> Result:
        if self.version >= V2_0:
            filters: list[Item | None] = [structure(Tag.ATTRIBUTES, *(attr_2x(n, v) for n, v in attrs))]
        else:
            filters = [attr_1x(n, v) for n, v in attrs]
        return self.call(
            Operation.LOCATE,
            integer(Tag.MAXIMUM_ITEMS, maximum) if maximum is not None else None,
            integer(Tag.OFFSET_ITEMS, offset) if offset is not None else None,
            integer(Tag.STORAGE_STATUS_MASK, storage_mask) if storage_mask is not None else None,
            *filters,
        )

    def locate_uids(self, attrs: Sequence[tuple[str, Item]] = (), **kwargs: Any) -> list[str]:
        result = self.locate(attrs, **kwargs).expect_ok()
        return [str(i.value) for i in result.find_all(Tag.UNIQUE_IDENTIFIER)]


def _uid(uid: str | None) -> Item | None:
    return None if uid is None else text(Tag.UNIQUE_IDENTIFIER, uid)


__all__ = [
    "ALL_VERSIONS",
    "V1_0",
    "V1_1",
    "V1_2",
    "V1_3",
    "V1_4",
    "V2_0",
    "V2_1",
    "WRONG_STATE_1X",
    "BatchErrorContinuationOption",
    "Client",
    "Op",
    "Response",
    "Result",
    "attr_1x",
    "attr_2x",
    "attributes_for",
    "av",
    "decode_response",
    "key_material",
    "name_value",
    "not_found_reason",
    "op",
    "parse_attributes",
    "read_only_reason",
    "reference",
    "request_message",
    "run",
    "run_raw",
    "symmetric_key",
    "wrong_state_reason",
]
