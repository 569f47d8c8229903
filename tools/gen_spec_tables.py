#!/usr/bin/env python3
"""Generate ``kmipd/protocol/spec_tables.py`` and ``kmipd/protocol/enums.py``.

Sources (the authority, in this order):

* the plain-text KMIP Specification v1.4 and v2.1 (OASIS), read from a directory
  given as the first CLI argument (default ``../shared/kmip-spec`` relative to the repo);
* PyKMIP's ``kmip.core.enums`` (imported; only used here, never by the generated code) for
  which KMIP version (1.0 .. 2.0) introduced a tag and which versions list an attribute.

Usage::

    python tools/gen_spec_tables.py [SPEC_DIR] [--check]

``--check`` regenerates in memory and exits 1 when the committed files differ.

Naming rules used for the generated Python identifiers (``enums.py``):

* member names are the spec display name upper-cased with every run of
  non-alphanumeric characters replaced by ``_`` ("PKCS#12 Friendly Name" ->
  ``PKCS_12_FRIENDLY_NAME``, "X.509" -> ``X_509``);
* a name starting with a digit gets a readable word prefix: the leading number is spelled
  out as a multiplier word when one fits ("3DES" -> ``TRIPLE_DES``, "2DES" -> ``DOUBLE_DES``),
  otherwise the prefix ``N`` is used ("1234 Foo" -> ``N1234_FOO``);
* clashes between different values are broken deterministically by appending ``_<hex value>``;
* a value with two display names across versions gets both members, the 2.1 name first
  (canonical) and the other as an alias;
* class names are the display name's words, non-alphanumerics dropped, each word's first
  letter capitalised ("PKCS#11 Function" -> ``PKCS11Function``).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC_FILES = {"1.4": "kmip-spec-v1.4-os.txt", "2.1": "kmip-spec-v2.1-os.txt"}
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1")
SOURCES = "KMIP Specification v1.4 / v2.1 (OASIS), and PyKMIP's kmip.core.enums"

ITEM_TYPES: dict[str, int] = {
    "Structure": 0x01,
    "Integer": 0x02,
    "Long Integer": 0x03,
    "Big Integer": 0x04,
    "Enumeration": 0x05,
    "Boolean": 0x06,
    "Text String": 0x07,
    "Byte String": 0x08,
    "Date-Time": 0x09,
    "Interval": 0x0A,
    "Date-Time Extended": 0x0B,
}
# Spelling variants found in the spec tables -> canonical item type name.
_TYPE_ALIASES = {
    "structure": "Structure",
    "object data structure": "Structure",
    "integer": "Integer",
    "long integer": "Long Integer",
    "big integer": "Big Integer",
    "enumeration": "Enumeration",
    "boolean": "Boolean",
    "text string": "Text String",
    "textstring": "Text String",
    "byte string": "Byte String",
    "bytestring": "Byte String",
    "date-time": "Date-Time",
    "date time": "Date-Time",
    "datetime": "Date-Time",
    "interval": "Interval",
    "date-time extended": "Date-Time Extended",
    "date time extended": "Date-Time Extended",
}
_TYPE_RE = re.compile(
    r"(date-time extended|date time extended|object data structure|long integer|big integer|"
    r"text string|textstring|byte string|bytestring|date-time|date time|datetime|structure|"
    r"integer|enumeration|boolean|interval)",
    re.IGNORECASE,
)

# Tags whose enumeration is not the one with the tag's own name and that the spec tables
# do not reference explicitly ("Enumeration, see 9.1.3.2.x" only exists in 1.4).
TAG_ENUMERATION_EXCEPTIONS: dict[str, str] = {
    "Mask Generator Hashing Algorithm": "Hashing Algorithm",
    "Attribute Reference": "Tag",
    "Tag": "Tag",
    "Extension Type": "Item Type",
    "Item Type": "Item Type",
    # 2.1 6.1.37 and the test vectors use Enumerations; 7.26 calls the PKCS#11 Function a Structure.
    "PKCS#11 Function": "PKCS#11 Function",
    "PKCS#11 Return Code": "PKCS#11 Return Code",
    # "Text String, Enumeration or Integer" (2.1 4.31, 4.58, 7.21).
    "Unique Identifier": "Unique Identifier",
    "Linked Object Identifier": "Unique Identifier",
}

# Attribute sections without a fixed tag/type: the 1.x Custom Attribute ("x-"/"y-" names, carried
# in an Attribute structure by name) and the 2.x Vendor Attribute.
EXCLUDED_ATTRIBUTES = frozenset({"Custom Attribute", "Vendor Attribute"})

# Bit masks carried by Integer tags: tag display name -> mask name.
TAG_MASK_NAMES: dict[str, str] = {
    "Cryptographic Usage Mask": "Cryptographic Usage Mask",
    "Storage Status Mask": "Storage Status Mask",
    "Protection Storage Mask": "Protection Storage Mask",
    "Common Protection Storage Masks": "Protection Storage Mask",
    "Private Protection Storage Masks": "Protection Storage Mask",
    "Public Protection Storage Masks": "Protection Storage Mask",
}

# KMIP 2.1 11.38 defines PKCS#11 Function values as "the 1-based offset count of the function in
# the CK_FUNCTION_LIST_3_0 structure as specified in [PKCS#11]" without listing them. This is the
# order of CK_FUNCTION_LIST_3_0 in the OASIS PKCS#11 v3.0 headers (pkcs11f.h).
_PKCS11_FUNCTION_LIST = (
    "C_Initialize C_Finalize C_GetInfo C_GetFunctionList C_GetSlotList C_GetSlotInfo C_GetTokenInfo "
    "C_GetMechanismList C_GetMechanismInfo C_InitToken C_InitPIN C_SetPIN C_OpenSession C_CloseSession "
    "C_CloseAllSessions C_GetSessionInfo C_GetOperationState C_SetOperationState C_Login C_Logout "
    "C_CreateObject C_CopyObject C_DestroyObject C_GetObjectSize C_GetAttributeValue C_SetAttributeValue "
    "C_FindObjectsInit C_FindObjects C_FindObjectsFinal C_EncryptInit C_Encrypt C_EncryptUpdate "
    "C_EncryptFinal C_DecryptInit C_Decrypt C_DecryptUpdate C_DecryptFinal C_DigestInit C_Digest "
    "C_DigestUpdate C_DigestKey C_DigestFinal C_SignInit C_Sign C_SignUpdate C_SignFinal C_SignRecoverInit "
    "C_SignRecover C_VerifyInit C_Verify C_VerifyUpdate C_VerifyFinal C_VerifyRecoverInit C_VerifyRecover "
    "C_DigestEncryptUpdate C_DecryptDigestUpdate C_SignEncryptUpdate C_DecryptVerifyUpdate C_GenerateKey "
    "C_GenerateKeyPair C_WrapKey C_UnwrapKey C_DeriveKey C_SeedRandom C_GenerateRandom C_GetFunctionStatus "
    "C_CancelFunction C_WaitForSlotEvent C_GetInterfaceList C_GetInterface C_LoginUser C_SessionCancel "
    "C_MessageEncryptInit C_EncryptMessage C_EncryptMessageBegin C_EncryptMessageNext "
    "C_MessageEncryptFinal C_MessageDecryptInit C_DecryptMessage C_DecryptMessageBegin "
    "C_DecryptMessageNext C_MessageDecryptFinal C_MessageSignInit C_SignMessage C_SignMessageBegin "
    "C_SignMessageNext C_MessageSignFinal C_MessageVerifyInit C_VerifyMessage C_VerifyMessageBegin "
    "C_VerifyMessageNext C_MessageVerifyFinal"
)
PKCS11_FUNCTIONS: tuple[str, ...] = tuple(_PKCS11_FUNCTION_LIST.split())
# KMIP 2.1 11.39: "the CK_RV values in [PKCS#11]", not listed either. Only CKR_OK (0) is
# included, named as the OASIS test vectors write it ("OK").
PKCS11_RETURN_CODES = {"OK": 0}

# Canonical value names that differ from the 2.1 table because of a typo there: (enumeration, value)
# -> name. 2.1 11.30 spells MGF1 "MFG1"; 1.4 and the OASIS test vectors write "MGF1".
CANONICAL_OVERRIDES: dict[tuple[str, int], str] = {("Mask Generator", 1): "MGF1"}

# Object-type group phrases of the "Applies to Object Types" rows -> object type display names.
_CRYPTO_OBJECTS = ("Certificate", "Symmetric Key", "Public Key", "Private Key", "Split Key", "Secret Data", "PGP Key")
_APPLIES_GROUPS: dict[str, tuple[str, ...]] = {
    "all cryptographic objects": _CRYPTO_OBJECTS,
    "managed cryptographic objects": _CRYPTO_OBJECTS,
    "keys": ("Symmetric Key", "Public Key", "Private Key", "Split Key", "PGP Key"),
    "asymmetric keys": ("Public Key", "Private Key"),
    "x.509 certificates": ("Certificate",),
    "split keys of symmetric keys": ("Split Key",),
    "pgp keys": ("PGP Key",),
}


# --------------------------------------------------------------------------------------------
# Spec text parsing
# --------------------------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^(\d+(?:\.\d+)*) (\S.*)$")
_TOC_RE = re.compile(r"[ .]\d+$")


def _clean(text: str) -> str:
    text = text.replace("\ufffd", " ").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Section:
    number: str
    title: str
    lines: list[str] = field(default_factory=list)


def load_sections(path: Path) -> list[Section]:
    """Split the spec text into numbered sections (table-of-contents lines are skipped)."""
    sections: list[Section] = []
    current: Section | None = None
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _HEADING_RE.match(raw)
        if m and not raw.startswith(" ") and not _TOC_RE.search(raw.rstrip()):
            current = Section(m.group(1), _clean(m.group(2)))
            sections.append(current)
            continue
        if current is not None:
            current.lines.append(raw)
    return sections


def type_cell(row: list[str]) -> str:
    """The encoding cell of a table row: the first non-empty cell after the name."""
    return next((c for c in row[1:] if c), "")


def cells(line: str) -> list[str] | None:
    if not line.startswith(" | "):
        return None
    body = line[3:].rstrip()
    if body.endswith(" |") or body == "|":
        body = body[:-1]
    return [_clean(c) for c in re.split(r" \|(?= |$)", body)]


def children(sections: list[Section], parent: str) -> list[Section]:
    depth = parent.count(".") + 1
    return [s for s in sections if s.number.startswith(parent + ".") and s.number.count(".") == depth]


def section(sections: list[Section], number: str) -> Section:
    for s in sections:
        if s.number == number:
            return s
    raise SystemExit(f"section {number} not found")


_HEX6 = re.compile(r"^(?:0x)?([0-9A-Fa-f]{6})\b\s*(.*)$")
_HEX8 = re.compile(r"^(?:0x)?([0-9A-Fa-f]{8})\b\s*(.*)$")


def _is_placeholder(name: str) -> bool:
    return not name or name.startswith("(") or name.lower().startswith("extensions")


def parse_tag_rows(sec: Section) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in sec.lines:
        row = cells(line)
        if not row or len(row) < 2 or _is_placeholder(row[0]):
            continue
        m = _HEX6.match(row[1])
        if not m or re.search(r"[0-9A-Fa-f]{6}", m.group(2)):
            continue
        out[row[0]] = int(m.group(1), 16)
    return out


def parse_value_rows(sec: Section) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in sec.lines:
        row = cells(line)
        if not row or len(row) < 2 or _is_placeholder(row[0]):
            continue
        m = _HEX8.match(row[1])
        if not m or re.search(r"[0-9A-Fa-f]{8}", m.group(2)) or m.group(2).startswith("-"):
            continue
        out[row[0]] = int(m.group(1), 16)
    return out


def parse_type(text: str) -> list[str]:
    """The item type names mentioned in an encoding cell, in order."""
    found = []
    for m in _TYPE_RE.finditer(text):
        name = _TYPE_ALIASES[m.group(1).lower()]
        if name not in found:
            found.append(name)
    return found


@dataclass
class SpecVersion:
    version: str
    tags: dict[str, int]
    enums: dict[str, dict[str, int]]
    enum_sections: dict[str, str]
    masks: dict[str, dict[str, int]]
    mask_sections: dict[str, str]
    types: dict[str, list[str]]  # display name -> type names (first cell that parses)
    enum_refs: dict[str, str]  # display name -> enumeration name (explicit "see x.y" references)
    attributes: dict[str, dict[str, str]]  # attribute name -> rule rows (+ "_type", "_section")


_RULE_KEYS = {
    "SHALL always have a value",
    "Initially set by",
    "Modifiable by server",
    "Modifiable by client",
    "Deletable by client",
    "Multiple instances permitted",
    "When implicitly set",
    "Applies to Object Types",
}


def parse_spec(version: str, path: Path) -> SpecVersion:
    sections = load_sections(path)
    if version == "1.4":
        tag_sec = section(sections, "9.1.3.1")
        enum_secs = children(sections, "9.1.3.2")
        mask_secs = children(sections, "9.1.3.3")
        attr_secs = children(sections, "3")
    else:
        tag_sec = next(s for s in children(sections, "11") if s.title == "Tag Enumeration")
        enum_secs = [s for s in children(sections, "11") if s is not tag_sec]
        mask_secs = children(sections, "12")
        attr_secs = children(sections, "4")

    enums: dict[str, dict[str, int]] = {}
    enum_sections: dict[str, str] = {}
    for s in enum_secs:
        if not s.title.endswith(" Enumeration"):
            continue
        name = s.title[: -len(" Enumeration")]
        enum_sections[name] = s.number
        enums[name] = parse_value_rows(s)
    masks: dict[str, dict[str, int]] = {}
    mask_sections: dict[str, str] = {}
    for s in mask_secs:
        masks[s.title] = parse_value_rows(s)
        mask_sections[s.title] = s.number

    by_number = {s.number: s.title for s in enum_secs}
    types: dict[str, list[str]] = {}
    enum_refs: dict[str, str] = {}
    for s in sections:
        for line in s.lines:
            row = cells(line)
            if not row or len(row) < 2 or not row[0] or row[0] in _RULE_KEYS:
                continue
            enc = type_cell(row)
            found = parse_type(enc)
            if not found or not re.match(_TYPE_RE, enc):
                continue
            if row[0] in types:
                types[row[0]] += [t for t in found if t not in types[row[0]]]
            else:
                types[row[0]] = found
            ref = re.search(r"Enumeration,? see (\d+(?:\.\d+)+)", enc)
            if ref and ref.group(1) in by_number:
                enum_refs.setdefault(row[0], by_number[ref.group(1)][: -len(" Enumeration")])
            ref2 = re.search(r"Enumeration \(([^)]+)\)", enc)
            if ref2:
                enum_refs.setdefault(row[0], ref2.group(1))

    attributes: dict[str, dict[str, str]] = {}
    for s in attr_secs:
        rules: dict[str, str] = {}
        subfields: list[tuple[str, str]] = []
        for line in s.lines:
            row = cells(line)
            if not row or len(row) < 2:
                continue
            if row[0] in _RULE_KEYS:
                if row[0] not in rules:
                    rules[row[0]] = row[1]
            elif row[0] and type_cell(row) and row[0] not in ("Object", "Item", "Value"):
                subfields.append((row[0], type_cell(row)))
        if "Multiple instances permitted" not in rules or s.title in EXCLUDED_ATTRIBUTES:
            continue
        rules["_section"] = s.number
        if s.title == "Certificate Attributes":
            # One attribute per certificate field, each with its own tag, sharing the rules.
            for fname, ftype in subfields:
                attributes[fname] = dict(rules, _type=ftype)
            continue
        own = [t for n, t in subfields if n == s.title]
        if own:
            rules["_type"] = own[0]
        elif subfields and re.match(_TYPE_RE, subfields[0][1]):
            # Copy-paste slips in the spec: 2.1 4.3 Always Sensitive's table names "Sensitive",
            # 4.9 Comment's names "Description"; the single row still gives the encoding.
            rules["_type"] = subfields[0][1]
        else:
            rules["_type"] = ""
        attributes[s.title] = rules

    return SpecVersion(
        version, parse_tag_rows(tag_sec), enums, enum_sections, masks, mask_sections, types, enum_refs, attributes
    )


# --------------------------------------------------------------------------------------------
# PyKMIP knowledge
# --------------------------------------------------------------------------------------------


@dataclass
class PyKmip:
    tag_since: dict[int, str]
    tag_names: dict[int, str]
    attribute_versions: dict[int, list[str]]  # tag -> versions in which it is an attribute


def load_pykmip() -> PyKmip:
    from kmip.core import enums as kenums

    source = Path(kenums.__file__).read_text(encoding="utf-8")
    start = source.index("class Tags(enum.Enum):")
    end = source.index("\nclass ", start + 1)
    tag_since: dict[int, str] = {}
    tag_names: dict[int, str] = {}
    version = "1.0"
    for line in source[start:end].splitlines():
        m = re.match(r"\s*# KMIP (\d\.\d)\s*$", line)
        if m:
            version = m.group(1)
            continue
        m = re.match(r"\s*([A-Z0-9_]+)\s*=\s*0x([0-9A-Fa-f]+)", line)
        if m and m.group(1) != "DEFAULT":
            value = int(m.group(2), 16)
            tag_since[value] = version
            tag_names[value] = m.group(1)
    kv = kenums.KMIPVersion
    version_enums = {
        "1.0": kv.KMIP_1_0,
        "1.1": kv.KMIP_1_1,
        "1.2": kv.KMIP_1_2,
        "1.3": kv.KMIP_1_3,
        "1.4": kv.KMIP_1_4,
        "2.0": kv.KMIP_2_0,
    }
    attribute_versions: dict[int, list[str]] = {}
    for tag in kenums.Tags:
        vs = [v for v, e in version_enums.items() if kenums.is_attribute(tag, e)]
        if vs:
            attribute_versions[tag.value] = vs
    return PyKmip(tag_since, tag_names, attribute_versions)


# --------------------------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------------------------


@dataclass
class AttributeRow:
    name: str
    tag: int
    item_type: int
    since: str
    until: str | None
    multi_instance: bool
    modifiable_by_client: bool
    deletable_by_client: bool
    initially_set_by_server_only: bool
    always_has_value: bool
    applies_to: tuple[str, ...]


@dataclass
class Tables:
    tags: dict[str, int]
    tag_names: dict[int, str]
    tag_since: dict[int, str]
    tag_until: dict[int, str]
    enums: dict[str, dict[str, int]]
    enum_value_names: dict[str, dict[int, str]]
    enum_sections: dict[str, str]
    masks: dict[str, dict[str, int]]
    mask_flag_names: dict[str, dict[int, str]]
    mask_sections: dict[str, str]
    tag_enum: dict[int, str]
    tag_mask: dict[int, str]
    tag_types: dict[int, int]
    attributes: dict[str, AttributeRow]
    warnings: list[str]


def _yes(text: str) -> bool:
    return text.strip().lower().startswith("yes")


def _applies_to(text: str) -> tuple[str, ...]:
    text = _clean(text)
    if text.lower() == "all objects":
        return ("All Objects",)
    out: list[str] = []
    for part in re.split(r",\s*", text):
        key = part.strip().lower()
        if key in _APPLIES_GROUPS:
            items: tuple[str, ...] = _APPLIES_GROUPS[key]
        else:
            singular = re.sub(r"s$", "", part.strip())
            words = [w if w.isupper() else w.capitalize() for w in singular.split()]
            items = (" ".join(words),)
        for item in items:
            if item not in out:
                out.append(item)
    return tuple(out)


def merge(v14: SpecVersion, v21: SpecVersion, pk: PyKmip) -> Tables:
    warnings: list[str] = []

    # Tags ---------------------------------------------------------------------------------
    tags: dict[str, int] = {}
    for name, value in list(v14.tags.items()) + list(v21.tags.items()):
        if name in tags and tags[name] != value:
            warnings.append(f"tag {name!r}: 1.4 {tags[name]:#x} vs 2.1 {value:#x}; 2.1 kept")
        tags[name] = value
    by_value_21 = {v: n for n, v in v21.tags.items()}
    by_value_14 = {v: n for n, v in v14.tags.items()}
    for v in set(by_value_14) & set(by_value_21):
        if by_value_14[v] != by_value_21[v]:
            warnings.append(f"tag {v:#x} renamed: 1.4 {by_value_14[v]!r} -> 2.1 {by_value_21[v]!r}")
    tag_names = {v: by_value_21.get(v, by_value_14.get(v, "")) for v in sorted(set(tags.values()))}

    tag_since: dict[int, str] = {}
    tag_until: dict[int, str] = {}
    for value in tag_names:
        if value in pk.tag_since:
            since = pk.tag_since[value]
        elif value in by_value_14:
            since = "1.0"
            warnings.append(f"tag {value:#x} {tag_names[value]!r} unknown to PyKMIP; since 1.0 assumed")
        else:
            since = "2.1"
        if value in by_value_21 and value not in by_value_14 and since < "2.0":
            warnings.append(f"tag {value:#x} only in 2.1 spec but PyKMIP says {since}")
        tag_since[value] = since
        if value in by_value_14 and value not in by_value_21:
            tag_until[value] = "1.4"
        norm = re.sub(r"[^A-Z0-9]", "", tag_names[value].upper())
        if value in pk.tag_names and re.sub(r"[^A-Z0-9]", "", pk.tag_names[value]) != norm:
            warnings.append(f"tag {value:#x}: spec {tag_names[value]!r} vs PyKMIP {pk.tag_names[value]}")
    for value, pname in pk.tag_names.items():
        if value not in tag_names:
            warnings.append(f"PyKMIP tag {pname} {value:#x} not in the 1.4/2.1 spec tables")

    # Enumerations ----------------------------------------------------------------------------
    enums: dict[str, dict[str, int]] = {}
    enum_value_names: dict[str, dict[int, str]] = {}
    enum_sections: dict[str, str] = {}
    supplements = {
        "PKCS#11 Function": {n: i for i, n in enumerate(PKCS11_FUNCTIONS, 1)},
        "PKCS#11 Return Code": dict(PKCS11_RETURN_CODES),
    }
    for name in sorted(set(v14.enums) | set(v21.enums)):
        a, b = v14.enums.get(name, {}), v21.enums.get(name, {})
        if not a and not b:
            b = supplements.get(name, {})
            if not b:
                warnings.append(f"enumeration {name!r} has no values in either spec")
        merged: dict[str, int] = {}
        for n, v in list(a.items()) + list(b.items()):
            if n in merged and merged[n] != v:
                warnings.append(f"enumeration {name!r} value {n!r}: 1.4 {merged[n]:#x} vs 2.1 {v:#x}; 2.1 kept")
            merged[n] = v
        enums[name] = merged
        canon: dict[int, str] = {}
        for n, v in b.items():
            canon.setdefault(v, n)
        for n, v in a.items():
            canon.setdefault(v, n)
        for (ename, evalue), ecanon in CANONICAL_OVERRIDES.items():
            if ename == name and merged.get(ecanon) == evalue:
                canon[evalue] = ecanon
        enum_value_names[name] = dict(sorted(canon.items()))
        secs = []
        if name in v14.enum_sections:
            secs.append(f"KMIP 1.4 section {v14.enum_sections[name]}")
        if name in v21.enum_sections:
            secs.append(f"KMIP 2.1 section {v21.enum_sections[name]}")
        enum_sections[name] = "; ".join(secs)

    # Masks -------------------------------------------------------------------------------------
    masks: dict[str, dict[str, int]] = {}
    mask_flag_names: dict[str, dict[int, str]] = {}
    mask_sections: dict[str, str] = {}
    for name in sorted(set(v14.masks) | set(v21.masks)):
        a, b = v14.masks.get(name, {}), v21.masks.get(name, {})
        merged = {}
        for n, v in list(a.items()) + list(b.items()):
            merged[n] = v
        masks[name] = merged
        canon = {}
        for n, v in list(b.items()) + list(a.items()):
            canon.setdefault(v, n)
        mask_flag_names[name] = dict(sorted(canon.items()))
        secs = []
        if name in v14.mask_sections:
            secs.append(f"KMIP 1.4 section {v14.mask_sections[name]}")
        if name in v21.mask_sections:
            secs.append(f"KMIP 2.1 section {v21.mask_sections[name]}")
        mask_sections[name] = "; ".join(secs)

    # Item types --------------------------------------------------------------------------------
    tag_types: dict[int, int] = {}
    tag_type_options: dict[int, set[str]] = {}
    for spec in (v14, v21):  # 2.1 overrides 1.4
        for name, found in spec.types.items():
            if name not in tags:
                continue
            value = tags[name]
            old = tag_types.get(value)
            new = ITEM_TYPES[found[0]]
            if old is not None and old != new:
                warnings.append(f"tag {name!r}: item type 1.4 {old:#x} vs 2.1 {new:#x}; 2.1 kept")
            tag_types[value] = new
            tag_type_options.setdefault(value, set()).update(found)
    for name in TAG_MASK_NAMES:
        if name in tags:
            tag_types.setdefault(tags[name], ITEM_TYPES["Integer"])
    for name in TAG_ENUMERATION_EXCEPTIONS:
        if name in tags:
            if name.startswith("PKCS#11"):
                tag_types[tags[name]] = ITEM_TYPES["Enumeration"]
            tag_types.setdefault(tags[name], ITEM_TYPES["Enumeration"])
            tag_type_options.setdefault(tags[name], set()).add("Enumeration")

    # Tag -> enumeration / mask -----------------------------------------------------------------
    all_enum_names = set(enums) | {"Tag"}
    tag_enum: dict[int, str] = {}
    for name, value in sorted(tags.items(), key=lambda kv: (kv[1], kv[0])):
        target: str | None = None
        options = tag_type_options.get(value, set())
        if name in TAG_ENUMERATION_EXCEPTIONS:
            target = TAG_ENUMERATION_EXCEPTIONS[name]
        elif name in v21.enum_refs or name in v14.enum_refs:
            target = v21.enum_refs.get(name) or v14.enum_refs.get(name)
        elif name in enums and (not options or "Enumeration" in options):
            target = name
        elif "Enumeration" in options:
            warnings.append(f"enumeration tag {name!r} has no matching enumeration")
        if target is None:
            continue
        if target not in all_enum_names:
            warnings.append(f"tag {name!r} references unknown enumeration {target!r}")
            continue
        if value in tag_enum and tag_enum[value] != target:
            warnings.append(f"tag {value:#x}: enumeration {tag_enum[value]!r} vs {target!r}")
            continue
        tag_enum[value] = target
    for name in sorted(enums):
        if name not in tag_enum.values():
            warnings.append(f"enumeration {name!r} is used by no tag")
    tag_mask = {tags[n]: m for n, m in TAG_MASK_NAMES.items() if n in tags and m in masks}
    for value in tag_enum:  # named like its enumeration, but no table gives its encoding
        tag_types.setdefault(value, ITEM_TYPES["Enumeration"])

    # Attributes --------------------------------------------------------------------------------
    attributes: dict[str, AttributeRow] = {}
    for name in sorted(set(v14.attributes) | set(v21.attributes)):
        rules = v21.attributes.get(name) or v14.attributes[name]
        if name not in tags:
            warnings.append(f"attribute {name!r} has no tag; skipped")
            continue
        tag = tags[name]
        enc = rules.get("_type", "")
        found = parse_type(enc) if re.match(_TYPE_RE, enc) else []
        if found:
            item_type = ITEM_TYPES[found[0]]
        else:
            # e.g. "RNG Parameters (see 2.1.18)": the encoding of a named structure.
            ref = next((n for n in sorted(tags, key=len, reverse=True) if enc and enc.startswith(n)), None)
            item_type = tag_types.get(tags[ref], 0) if ref else tag_types.get(tag, 0)
        if not item_type:
            warnings.append(f"attribute {name!r}: no item type")
        versions = pk.attribute_versions.get(tag, [])
        in14, in21 = name in v14.attributes, name in v21.attributes
        if versions:
            since = versions[0]
        elif in14:
            since = "1.4"
            warnings.append(f"attribute {name!r} unknown to PyKMIP; since 1.4 assumed")
        else:
            since = "2.1"
        if in21:
            until = None
        elif versions and "2.0" in versions:
            until = None
            warnings.append(f"attribute {name!r}: no 2.1 rules, but PyKMIP lists it in 2.0")
        else:
            until = "1.4"
        if in14 and versions and "1.4" not in versions:
            warnings.append(f"attribute {name!r} in 1.4 spec but not a 1.4 attribute for PyKMIP")
        if in21 and not in14 and "1.4" in versions:
            warnings.append(f"attribute {name!r}: PyKMIP says 1.4 but no 1.4 rules table")
        attributes[name] = AttributeRow(
            name=name,
            tag=tag,
            item_type=item_type,
            since=since,
            until=until,
            multi_instance=_yes(rules["Multiple instances permitted"]),
            modifiable_by_client=_yes(rules.get("Modifiable by client", "No")),
            deletable_by_client=_yes(rules.get("Deletable by client", "No")),
            initially_set_by_server_only=_clean(rules.get("Initially set by", "")).lower() == "server",
            always_has_value=_yes(rules.get("SHALL always have a value", "No")),
            applies_to=_applies_to(rules.get("Applies to Object Types", "All Objects")),
        )
    for a in attributes.values():
        if a.item_type:
            tag_types.setdefault(a.tag, a.item_type)
    tag_types = dict(sorted(tag_types.items()))
    for tag_value, versions in sorted(pk.attribute_versions.items()):
        if tag_value in tag_names and not any(a.tag == tag_value for a in attributes.values()):
            warnings.append(f"PyKMIP attribute {tag_names[tag_value]!r} ({versions}) has no rules table")

    return Tables(
        tags,
        tag_names,
        tag_since,
        tag_until,
        enums,
        enum_value_names,
        enum_sections,
        masks,
        mask_flag_names,
        mask_sections,
        tag_enum,
        tag_mask,
        tag_types,
        attributes,
        warnings,
    )


# --------------------------------------------------------------------------------------------
# Emission
# --------------------------------------------------------------------------------------------

HEADER = f"# Generated by tools/gen_spec_tables.py -- DO NOT EDIT.\n# Sources: {SOURCES}.\n"


def _hex(value: int, width: int) -> str:
    return f"0x{value:0{width}X}"


def emit_spec_tables(t: Tables) -> str:
    out: list[str] = []
    w = out.append
    w(
        '"""KMIP specification tables: tags, enumerations, bit masks, item types and attribute rules.\n\n'
        'Data only. Names are the specification\'s display names ("Activation Date", "Symmetric Key").\n'
        'Versions are strings among "1.0" .. "2.1".\n'
        '"""\n\n'
    )
    w(HEADER + "\n")
    w("from __future__ import annotations\n\n")
    w("from dataclasses import dataclass\n")
    w("from typing import Final\n\n\n")
    w("@dataclass(frozen=True, slots=True)\n")
    w("class AttributeRule:\n")
    w('    """The rules of one KMIP attribute (from its "Attribute Rules" table)."""\n\n')
    for fname, ftype in (
        ("name", "str"),
        ("tag", "int"),
        ("item_type", "int"),
        ("since", "str"),
        ("until", "str | None"),
        ("multi_instance", "bool"),
        ("modifiable_by_client", "bool"),
        ("deletable_by_client", "bool"),
        ("initially_set_by_server_only", "bool"),
        ("always_has_value", "bool"),
        ("applies_to", "tuple[str, ...]"),
    ):
        w(f"    {fname}: {ftype}\n")
    w("\n\n")
    w("VERSIONS: Final[tuple[str, ...]] = (" + ", ".join(f'"{v}"' for v in VERSIONS) + ")\n")
    w('"""The KMIP versions the tables know, oldest first."""\n\n')
    w("ITEM_TYPES: Final[dict[str, int]] = {\n")
    for n, v in ITEM_TYPES.items():
        w(f'    "{n}": {_hex(v, 2)},\n')
    w("}\n")
    w('"""TTLV item type display name -> item type number."""\n\n')

    w("TAGS: Final[dict[str, int]] = {\n")
    for n, v in sorted(t.tags.items(), key=lambda kv: (kv[1], kv[0])):
        w(f"    {n!r}: {_hex(v, 6)},\n")
    w("}\n")
    w('"""Tag display name -> tag value (union of KMIP 1.4 and 2.1; renamed tags have both names)."""\n\n')

    w("TAG_NAMES: Final[dict[int, str]] = {\n")
    for v, n in t.tag_names.items():
        w(f"    {_hex(v, 6)}: {n!r},\n")
    w("}\n")
    w('"""Tag value -> canonical display name (the 2.1 name where the tag exists in 2.1)."""\n\n')

    w("TAG_SINCE: Final[dict[int, str]] = {\n")
    for v, s in sorted(t.tag_since.items()):
        w(f'    {_hex(v, 6)}: "{s}",\n')
    w("}\n")
    w('"""Tag value -> the first KMIP version defining it."""\n\n')

    w("TAG_UNTIL: Final[dict[int, str]] = {\n")
    for v, s in sorted(t.tag_until.items()):
        w(f'    {_hex(v, 6)}: "{s}",  # {t.tag_names[v]}\n')
    w("}\n")
    w('"""Tag value -> the last KMIP version defining it, for tags removed or reserved in 2.x."""\n\n')

    w("TAG_TYPES: Final[dict[int, int]] = {\n")
    inv_types = {v: n for n, v in ITEM_TYPES.items()}
    for v, ty in sorted(t.tag_types.items()):
        w(f"    {_hex(v, 6)}: {_hex(ty, 2)},  # {t.tag_names[v]}: {inv_types[ty]}\n")
    w("}\n")
    w(
        '"""Tag value -> TTLV item type where the specification tables give it (2.1 wins); tags named after\n'
        'an enumeration and given no encoding anywhere are Enumeration."""\n\n'
    )

    for title, data, names, doc in (
        (
            "ENUMERATIONS",
            t.enums,
            t.enum_value_names,
            "Enumeration display name -> {value display name -> value} (union of 1.4 and 2.1).",
        ),
        ("MASKS", t.masks, t.mask_flag_names, "Bit mask display name -> {flag display name -> bit value}."),
    ):
        w(f"{title}: Final[dict[str, dict[str, int]]] = {{\n")
        for ename in sorted(data):
            w(f"    {ename!r}: {{\n")
            for n, v in sorted(data[ename].items(), key=lambda kv: (kv[1], kv[0])):
                w(f"        {n!r}: {_hex(v, 8)},\n")
            w("    },\n")
        if title == "ENUMERATIONS":
            w('    "Tag": TAGS,\n')
        w("}\n")
        w(f'"""{doc}"""\n\n')
        vtitle = "ENUMERATION_VALUE_NAMES" if title == "ENUMERATIONS" else "MASK_FLAG_NAMES"
        w(f"{vtitle}: Final[dict[str, dict[int, str]]] = {{\n")
        for ename in sorted(names):
            w(f"    {ename!r}: {{\n")
            for v, n in names[ename].items():
                w(f"        {_hex(v, 8)}: {n!r},\n")
            w("    },\n")
        if title == "ENUMERATIONS":
            w('    "Tag": TAG_NAMES,\n')
        w("}\n")
        w(
            f'"""Per {"enumeration" if title == "ENUMERATIONS" else "mask"}: value -> canonical display '
            'name (the 2.1 name where one exists)."""\n\n'
        )

    w("TAG_ENUMERATION: Final[dict[int, str]] = {\n")
    for v, e in sorted(t.tag_enum.items()):
        w(f"    {_hex(v, 6)}: {e!r},  # {t.tag_names[v]}\n")
    w("}\n")
    w('"""Enumeration-typed tag -> the name of its enumeration in ENUMERATIONS ("Tag" means TAGS)."""\n\n')

    w("TAG_MASK: Final[dict[int, str]] = {\n")
    for v, m in sorted(t.tag_mask.items()):
        w(f"    {_hex(v, 6)}: {m!r},  # {t.tag_names[v]}\n")
    w("}\n")
    w('"""Integer tag carrying a bit mask -> the mask name in MASKS."""\n\n')

    w("ATTRIBUTES: Final[dict[str, AttributeRule]] = {\n")
    for name in sorted(t.attributes):
        a = t.attributes[name]
        until = "None" if a.until is None else f'"{a.until}"'
        comma = "," if len(a.applies_to) == 1 else ""
        applies = "(" + ", ".join(repr(x) for x in a.applies_to) + comma + ")"
        w(f"    {name!r}: AttributeRule(\n")
        w(
            f"        name={name!r}, tag={_hex(a.tag, 6)}, item_type={_hex(a.item_type, 2)}, "
            f'since="{a.since}", until={until},\n'
        )
        w(
            f"        multi_instance={a.multi_instance}, modifiable_by_client={a.modifiable_by_client}, "
            f"deletable_by_client={a.deletable_by_client},\n"
        )
        w(
            f"        initially_set_by_server_only={a.initially_set_by_server_only}, "
            f"always_has_value={a.always_has_value},\n"
        )
        w(f"        applies_to={applies},\n")
        w("    ),\n")
    w("}\n")
    w('"""Attribute display name -> rules (2.1 rules where the attribute exists in 2.1, else 1.4)."""\n')
    return "".join(out)


_NUMBER_WORDS = {"2": "DOUBLE", "3": "TRIPLE", "4": "QUADRUPLE"}


def member_name(display: str) -> str:
    """Upper snake case identifier for a display name (see module docstring)."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", display).strip("_").upper()
    m = re.match(r"^(\d+)(.*)$", name)
    if m:
        digits, rest = m.groups()
        rest = rest.lstrip("_")
        if digits in _NUMBER_WORDS and rest:
            name = f"{_NUMBER_WORDS[digits]}_{rest}"
        else:
            name = f"N{digits}_{rest}" if rest else f"N{digits}"
    return name or "UNNAMED"


def class_name(display: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", display)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def _members(values: dict[str, int], canonical: dict[int, str]) -> list[tuple[str, int, bool]]:
    """(member name, value, is_alias) sorted by value, canonical name first, clashes resolved."""
    result: list[tuple[str, int, bool]] = []
    used: dict[str, int] = {}
    names_by_value: dict[int, list[str]] = {}
    for n, v in values.items():
        names_by_value.setdefault(v, []).append(n)
    for v in sorted(names_by_value):
        first = canonical.get(v)
        ordered = sorted(names_by_value[v], key=lambda n: (n != first, n))
        emitted: set[str] = set()
        for i, n in enumerate(ordered):
            ident = member_name(n)
            if ident in used and used[ident] != v:
                ident = f"{ident}_{v:X}"
            if ident in emitted or (ident in used and used[ident] == v):
                continue
            used[ident] = v
            emitted.add(ident)
            result.append((ident, v, i > 0))
    return result


def emit_enums(t: Tables) -> str:
    out: list[str] = []
    w = out.append
    w(
        '"""KMIP tags, enumerations and bit masks as Python enums (generated with spec_tables).\n\n'
        "Member names are the specification display names in upper snake case; a name starting with a\n"
        'digit gets a word prefix ("3DES" -> TRIPLE_DES); values renamed between KMIP 1.4 and 2.1 have\n'
        "both names, the 2.1 name canonical and the other an alias.\n"
        '"""\n\n'
    )
    w(HEADER + "\n")
    w("from __future__ import annotations\n\n")
    w("from enum import IntEnum, IntFlag\n")
    w("from typing import Final\n\n\n")

    classes: list[tuple[str, str]] = []
    w("class Tag(IntEnum):\n")
    w('    """KMIP tags (KMIP 1.4 section 9.1.3.1; KMIP 2.1 section 11.56)."""\n\n')
    for ident, v, alias in _members(t.tags, t.tag_names):
        w(f"    {ident} = {_hex(v, 6)}{'  # alias' if alias else ''}\n")
    classes.append(("Tag", "Tag"))

    used_class_names = {"Tag"}
    for ename in sorted(t.enums):
        cname = class_name(ename)
        if cname in used_class_names:
            cname += "Enumeration"
        used_class_names.add(cname)
        classes.append((ename, cname))
        w("\n\n")
        w(f"class {cname}(IntEnum):\n")
        w(f'    """{ename} ({t.enum_sections[ename] or "values from the PKCS#11 specification"})."""\n')
        members = _members(t.enums[ename], t.enum_value_names[ename])
        if not members:
            w("\n    pass\n")
            continue
        w("\n")
        for ident, v, alias in members:
            w(f"    {ident} = {_hex(v, 8)}{'  # alias' if alias else ''}\n")

    mask_classes: list[tuple[str, str]] = []
    for mname in sorted(t.masks):
        cname = class_name(mname)
        used_class_names.add(cname)
        mask_classes.append((mname, cname))
        w("\n\n")
        w(f"class {cname}(IntFlag):\n")
        w(f'    """{mname} bit mask ({t.mask_sections[mname]})."""\n\n')
        for ident, v, alias in _members(t.masks[mname], t.mask_flag_names[mname]):
            w(f"    {ident} = {_hex(v, 8)}{'  # alias' if alias else ''}\n")

    w("\n\n")
    w("ENUM_CLASS_BY_NAME: Final[dict[str, type[IntEnum]]] = {\n")
    for ename, cname in sorted(classes):
        w(f"    {ename!r}: {cname},\n")
    w("}\n")
    w('"""Enumeration display name (as in spec_tables.ENUMERATIONS) -> enum class."""\n\n')
    w("MASK_CLASS_BY_NAME: Final[dict[str, type[IntFlag]]] = {\n")
    for mname, cname in sorted(mask_classes):
        w(f"    {mname!r}: {cname},\n")
    w("}\n")
    w('"""Bit mask display name (as in spec_tables.MASKS) -> flag class."""\n')
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "spec_dir",
        nargs="?",
        default=str(REPO.parent / "shared" / "kmip-spec"),
        help="directory holding kmip-spec-v1.4-os.txt and kmip-spec-v2.1-os.txt",
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    parser.add_argument("--quiet", action="store_true", help="do not print merge warnings")
    args = parser.parse_args(argv)
    spec_dir = Path(args.spec_dir)
    v14 = parse_spec("1.4", spec_dir / SPEC_FILES["1.4"])
    v21 = parse_spec("2.1", spec_dir / SPEC_FILES["2.1"])
    tables = merge(v14, v21, load_pykmip())
    if not args.quiet:
        for warning in tables.warnings:
            print(f"note: {warning}", file=sys.stderr)
    outputs = {
        REPO / "kmipd" / "protocol" / "spec_tables.py": emit_spec_tables(tables),
        REPO / "kmipd" / "protocol" / "enums.py": emit_enums(tables),
    }
    stale = False
    for path, text in outputs.items():
        if args.check:
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            if old != text:
                stale = True
                sys.stdout.writelines(
                    difflib.unified_diff(
                        old.splitlines(True), text.splitlines(True), str(path), str(path) + " (generated)"
                    )
                )
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    print(
        f"{len(tables.tag_names)} tags, {len(tables.enums)} enumerations, {len(tables.masks)} masks, "
        f"{len(tables.attributes)} attributes",
        file=sys.stderr,
    )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
