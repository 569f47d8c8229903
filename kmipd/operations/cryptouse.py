"""Usage Limits: how much a key may still protect (KMIP 1.4 section 3.21).

:func:`kmipd.operations.usage.require_usable` checks state, dates and
Cryptographic Usage Mask; this module adds the allowance a protecting
operation (Encrypt, MAC) draws on. The OASIS test case CS-BC-M-7 expects the use
beyond the limit refused with Permission Denied, in 1.4 and 2.1 alike.
"""

from __future__ import annotations

from kmipd.errors import PermissionDenied
from kmipd.operations.context import Context
from kmipd.operations.objects import ManagedObject, load, save
from kmipd.protocol.enums import Tag, UsageLimitsUnit
from kmipd.ttlv.item import Item, ItemType, enumeration, long_integer, structure

USAGE_LIMITS = "Usage Limits"


def _long(item: Item, tag: int) -> int | None:
    child = item.find(tag)
    if child is None or child.type not in (ItemType.LONG_INTEGER, ItemType.INTEGER):
        return None
    return int(child.value)  # type: ignore[arg-type]


def consume_usage(ctx: Context, obj: ManagedObject, data_bytes: int, *, opening: bool) -> ManagedObject:
    """Take this use out of the key's Usage Limits, if it has any; return the object to go on with.

    A Byte limit counts the bytes protected (every part of a stream); an Object limit counts
    operations (a stream once, when it opens). The remaining allowance is the Usage Limits
    Count, which starts at the Usage Limits Total. Runs before any cryptographic work, so that
    the write it makes (and a retry of the transaction) never repeats a stream's step.

    Raises:
        NeedsWrite: the transaction is read-only (the processor reruns the operation).
        PermissionDenied: the allowance does not cover this use.
    """
    limits = obj.first(USAGE_LIMITS)
    if limits is None or limits.type is not ItemType.STRUCTURE:
        return obj
    unit = limits.find(Tag.USAGE_LIMITS_UNIT)
    amount = data_bytes if unit is None or unit.value == UsageLimitsUnit.BYTE else int(opening)
    if amount == 0:
        return obj
    ctx.require_write()
    obj = load(ctx, obj.uid, for_update=True)
    limits = obj.first(USAGE_LIMITS) or limits
    total = _long(limits, Tag.USAGE_LIMITS_TOTAL) or 0
    count = _long(limits, Tag.USAGE_LIMITS_COUNT)
    remaining = total if count is None else count
    if amount > remaining:
        raise PermissionDenied("the key's Usage Limits do not allow this much more use")
    obj.set(
        USAGE_LIMITS,
        structure(
            limits.tag,
            long_integer(Tag.USAGE_LIMITS_TOTAL, total),
            long_integer(Tag.USAGE_LIMITS_COUNT, remaining - amount),
            enumeration(Tag.USAGE_LIMITS_UNIT, int(unit.value)) if unit is not None else None,  # type: ignore[arg-type]
        ),
    )
    save(ctx, obj)
    return obj
