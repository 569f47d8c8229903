"""Operation -> handler table, built from the handler modules (no if/elif chain, no import-time registry)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from kmipd.operations.context import Context
from kmipd.operations.payload import Payload
from kmipd.protocol.versions import V1_0, ProtocolVersion
from kmipd.ttlv.item import Item

HandlerFn = Callable[[Context, Payload], list[Item]]
F = TypeVar("F", bound=HandlerFn)


@dataclass(frozen=True, slots=True)
class Handler:
    """An operation's implementation and the first protocol version that defines it."""

    operation: int
    fn: HandlerFn
    since: ProtocolVersion
    mutates: bool


def handler(operation: int, *, since: ProtocolVersion = V1_0, mutates: bool = True) -> Callable[[F], F]:
    """Mark a function as the handler of ``operation`` (collected by :func:`build_registry`)."""

    def mark(fn: F) -> F:
        fn.kmip_handler = Handler(operation, fn, since, mutates)  # type: ignore[attr-defined]
        return fn

    return mark


def build_registry(modules: Iterable[ModuleType]) -> dict[int, Handler]:
    """Collect the marked handlers of ``modules``."""
    table: dict[int, Handler] = {}
    for module in modules:
        for value in vars(module).values():
            spec = getattr(value, "kmip_handler", None)
            if isinstance(spec, Handler):
                table[spec.operation] = spec
    return table


def default_registry() -> dict[int, Handler]:
    """The handlers of every operation kmipd implements."""
    from kmipd.operations import (
        attributes,
        cryptographic,
        derivation,
        discovery,
        keypairs,
        lifecycle,
        pkcs11,
        retrieval,
    )

    return build_registry([attributes, cryptographic, derivation, discovery, keypairs, lifecycle, pkcs11, retrieval])
