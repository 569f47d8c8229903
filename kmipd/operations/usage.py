"""Whether an object may be used for a cryptographic operation now (KMIP 1.4 sections 3.19, 3.22).

One check shared by every cryptographic operation: the object's state and
dates, and its Cryptographic Usage Mask. Protecting operations (Encrypt, Sign,
MAC, wrapping) need an Active object before its Protect Stop Date;
processing operations (Decrypt, SignatureVerify, MACVerify, unwrapping) also
accept a Deactivated or Compromised one, from its Process Start Date on, so
that data protected earlier can still be read.
"""

from __future__ import annotations

from kmipd.errors import IncompatibleCryptographicUsageMask, ObjectDestroyed
from kmipd.operations import rules
from kmipd.operations.context import Context
from kmipd.operations.objects import ManagedObject
from kmipd.protocol.enums import CryptographicUsageMask, State

_PROCESSING_STATES = frozenset({State.ACTIVE, State.DEACTIVATED, State.COMPROMISED})


def require_usable(ctx: Context, obj: ManagedObject, usage: CryptographicUsageMask, *, protect: bool) -> None:
    """Refuse an operation the object's state or usage mask forbids.

    Args:
        usage: the Cryptographic Usage Mask bit the operation needs (e.g. ``ENCRYPT``).
        protect: True for operations that apply protection (need Active).

    Raises:
        ObjectDestroyed: the key material is gone.
        WrongKeyLifecycleState (2.x) / PermissionDenied (1.x): the state forbids it.
        IncompatibleCryptographicUsageMask: the usage mask does not include ``usage``.
    """
    state = obj.state
    if state in (State.DESTROYED, State.DESTROYED_COMPROMISED) or obj.stored.body is None:
        raise ObjectDestroyed("the object has been destroyed")
    if protect and state != State.ACTIVE:
        raise rules.wrong_state(ctx, "only an Active object can be used to apply protection")
    if not protect and state not in _PROCESSING_STATES:
        raise rules.wrong_state(ctx, "the object cannot be used in its current state")
    if protect:
        stop = obj.number("Protect Stop Date")
        if stop is not None and stop <= ctx.now:
            raise rules.wrong_state(ctx, "the object's Protect Stop Date has passed")
    else:
        start = obj.number("Process Start Date")
        if start is not None and start > ctx.now:
            raise rules.wrong_state(ctx, "the object's Process Start Date has not been reached")
    mask = obj.number("Cryptographic Usage Mask")
    if mask is None or not mask & usage:
        label = (usage.name or str(int(usage))).replace("_", " ").title()
        raise IncompatibleCryptographicUsageMask(f"the object's Cryptographic Usage Mask does not allow {label}")
