"""KMIP text-encoding names (XML/JSON) for tags, enumeration values and bit-mask flags.

:class:`SpecNames` implements :class:`kmipd.ttlv.names.TagNames` from the generated
:mod:`kmipd.protocol.spec_tables`; obtain the shared instance with :func:`spec_names`.

Text names follow the KMIP Profiles rule for the XML and JSON encodings (the names used by
the OASIS test vectors), applied to the specification display name by :func:`text_name`:

1. round brackets become spaces;
2. a non-word character followed by a letter and a lower-case letter becomes a space
   ("Re-key" -> "Re key", "Pre-Active" -> "Pre Active");
3. every other non-word character becomes ``_`` ("PKCS#1" -> "PKCS_1", "SHA-256" -> "SHA_256");
4. leading digits of the first word move to its end ("3DES" -> "DES3");
5. each word's first letter is capitalised and the spaces removed
   ("Activation Date" -> "ActivationDate", "PKCS#12 Friendly Name" -> "PKCS_12FriendlyName").

Decoding accepts every name a value has had (KMIP 1.4 and 2.1); encoding uses the 2.1 name.
"""

from __future__ import annotations

import re
from functools import cache

from kmipd.protocol.spec_tables import (
    ATTRIBUTES,
    ENUMERATION_VALUE_NAMES,
    ENUMERATIONS,
    MASK_FLAG_NAMES,
    MASKS,
    TAG_ENUMERATION,
    TAG_MASK,
    TAG_NAMES,
    TAGS,
    AttributeRule,
)

__all__ = [
    "SpecNames",
    "attribute_rule",
    "attribute_rule_by_tag",
    "spec_names",
    "tag_display_name",
    "text_name",
]

_BRACKETS = re.compile(r"[()]")
_SPACED_WORD = re.compile(r"[^A-Za-z0-9_]([A-Za-z][a-z])")
_OTHER = re.compile(r"[^A-Za-z0-9_\s]")
_LEADING_DIGITS = re.compile(r"^(\d+)(.*)$")
_HEX = re.compile(r"^0x[0-9A-Fa-f]+$")
_MASK_BITS = 0xFFFFFFFF


def text_name(display: str) -> str:
    """The KMIP XML/JSON text name of a specification display name (see the module docstring)."""
    s = _BRACKETS.sub(" ", display)
    s = _SPACED_WORD.sub(r" \1", s)
    s = _OTHER.sub("_", s)
    words = s.split()
    if words:
        m = _LEADING_DIGITS.match(words[0])
        if m:
            words[0] = m.group(2) + m.group(1)
    return "".join(w[:1].upper() + w[1:] for w in words)


class _ValueNames:
    """Both directions of one enumeration or mask, in text names."""

    __slots__ = ("by_name", "by_value")

    def __init__(self, values: dict[str, int], canonical: dict[int, str]) -> None:
        self.by_value: dict[int, str] = {v: text_name(n) for v, n in canonical.items()}
        by_name: dict[str, int] = {text_name(n): v for n, v in values.items()}
        by_name.update({n: v for v, n in self.by_value.items()})
        self.by_name = by_name


class SpecNames:
    """Text names of the KMIP 1.4/2.1 tags, enumerations and bit masks (O(1) lookups)."""

    __slots__ = ("_enums", "_mask_flags", "_masks", "_tag_name", "_tag_value")

    def __init__(self) -> None:
        self._tag_name: dict[int, str] = {v: text_name(n) for v, n in TAG_NAMES.items()}
        tag_value = {text_name(n): v for n, v in TAGS.items()}
        tag_value.update({n: v for v, n in self._tag_name.items()})
        self._tag_value: dict[str, int] = tag_value
        tag_names = _ValueNames(TAGS, TAG_NAMES)
        by_enum: dict[str, _ValueNames] = {}
        for name, values in ENUMERATIONS.items():
            by_enum[name] = tag_names if name == "Tag" else _ValueNames(values, ENUMERATION_VALUE_NAMES[name])
        self._enums: dict[int, _ValueNames] = {t: by_enum[e] for t, e in TAG_ENUMERATION.items()}
        by_mask = {name: _ValueNames(flags, MASK_FLAG_NAMES[name]) for name, flags in MASKS.items()}
        self._masks: dict[int, _ValueNames] = {t: by_mask[m] for t, m in TAG_MASK.items()}
        self._mask_flags: dict[int, tuple[tuple[int, str], ...]] = {
            t: tuple(sorted(names.by_value.items())) for t, names in self._masks.items()
        }

    def tag_name(self, tag: int) -> str | None:
        """The text name of ``tag`` ("ActivationDate"), or None when unknown."""
        return self._tag_name.get(tag)

    def tag_value(self, name: str) -> int | None:
        """The tag value named ``name`` (any KMIP 1.4 or 2.1 name), or None when unknown."""
        return self._tag_value.get(name)

    def enum_name(self, tag: int, value: int) -> str | None:
        """The name of enumeration ``value`` of the item tagged ``tag``, or None."""
        names = self._enums.get(tag)
        return None if names is None else names.by_value.get(value)

    def enum_value(self, tag: int, name: str) -> int | None:
        """The value of enumeration ``name`` for the item tagged ``tag``, or None."""
        names = self._enums.get(tag)
        return None if names is None else names.by_name.get(name)

    def mask_names(self, tag: int, value: int) -> list[str] | None:
        """The flag names set in bit mask ``value`` of ``tag``, or None when ``tag`` is no mask.

        Bits without a defined flag (extensions) are returned as one hex token ("0x00100000").
        """
        flags = self._mask_flags.get(tag)
        if flags is None:
            return None
        value &= _MASK_BITS
        out = [name for bit, name in flags if value & bit]
        rest = value & ~sum(bit for bit, _ in flags)
        if rest:
            out.append(f"0x{rest:08X}")
        return out

    def mask_value(self, tag: int, names: list[str]) -> int | None:
        """The value of the flag names (or hex tokens) for mask ``tag``, or None when one is unknown."""
        mask = self._masks.get(tag)
        if mask is None:
            return None
        value = 0
        for name in names:
            bit = mask.by_name.get(name)
            if bit is None:
                if not _HEX.match(name):
                    return None
                bit = int(name, 16)
            value |= bit
        return value

    def is_enumeration(self, tag: int) -> bool:
        """Whether ``tag`` has a known enumeration."""
        return tag in self._enums

    def is_mask(self, tag: int) -> bool:
        """Whether ``tag`` is an Integer bit mask."""
        return tag in self._masks


@cache
def spec_names() -> SpecNames:
    """The (immutable, shared) :class:`SpecNames` instance."""
    return SpecNames()


def tag_display_name(tag: int) -> str | None:
    """The specification display name of ``tag`` ("Activation Date"), or None."""
    return TAG_NAMES.get(tag)


@cache
def _attribute_index() -> tuple[dict[str, AttributeRule], dict[int, AttributeRule]]:
    by_name = dict(ATTRIBUTES)
    by_name.update({text_name(n): r for n, r in ATTRIBUTES.items()})
    by_tag = {r.tag: r for r in ATTRIBUTES.values()}
    return by_name, by_tag


def attribute_rule(name: str) -> AttributeRule | None:
    """The rules of the attribute named ``name`` (display name or text name), or None."""
    return _attribute_index()[0].get(name)


def attribute_rule_by_tag(tag: int) -> AttributeRule | None:
    """The rules of the attribute whose tag is ``tag``, or None."""
    return _attribute_index()[1].get(tag)
