"""Checks of the generated KMIP tables against the specification and the OASIS test vectors."""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from kmipd.protocol import enums, spec_tables
from kmipd.protocol.enums import (
    ENUM_CLASS_BY_NAME,
    MASK_CLASS_BY_NAME,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    KeyFormatType,
    ObjectType,
    Operation,
    ResultReason,
    Tag,
)
from kmipd.protocol.names import (
    SpecNames,
    attribute_rule,
    attribute_rule_by_tag,
    spec_names,
    tag_display_name,
    text_name,
)
from kmipd.protocol.spec_tables import (
    ATTRIBUTES,
    ENUMERATION_VALUE_NAMES,
    ENUMERATIONS,
    ITEM_TYPES,
    MASKS,
    TAG_ENUMERATION,
    TAG_MASK,
    TAG_NAMES,
    TAG_SINCE,
    TAG_TYPES,
    TAG_UNTIL,
    TAGS,
    VERSIONS,
)
from kmipd.ttlv.names import TagNames

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO.parent / "shared" / "kmip-spec"
DEFAULT_VECTORS = REPO.parent / "shared" / "kmip-test-vectors"


# --- Spec values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Activation Date", 0x420001),
        ("Attribute Index", 0x420009),
        ("Request Message", 0x420078),
        ("Response Message", 0x42007B),
        ("Attestation Capable Indicator", 0x4200D3),
        ("PKCS#12 Friendly Name", 0x4200FB),
        ("Short Unique Identifier", 0x420136),
        ("Protection Level", 0x420145),
        ("Asynchronous Correlation Values", 0x420176),
    ],
)
def test_tag_values(name: str, value: int) -> None:
    assert TAGS[name] == value
    assert TAG_NAMES[value] == name


def test_placeholders_skipped() -> None:
    assert not any(n.startswith("(") or n.startswith("Extensions") for n in TAGS)
    assert all(0x420001 <= v <= 0x42FFFF for v in TAGS.values())
    for values in itertools.chain(ENUMERATIONS.values(), MASKS.values()):
        assert not any(n.startswith("(") or n.startswith("Extensions") for n in values)


def test_tag_versions() -> None:
    assert set(TAG_SINCE) == set(TAG_NAMES)
    assert set(TAG_SINCE.values()) <= set(VERSIONS)
    assert TAG_SINCE[TAGS["Activation Date"]] == "1.0"
    assert TAG_SINCE[TAGS["Attestation Capable Indicator"]] == "1.2"
    assert TAG_SINCE[TAGS["PKCS#12 Friendly Name"]] == "1.4"
    assert TAG_SINCE[TAGS["Server Hashed Password"]] == "2.0"
    assert TAG_SINCE[TAGS["Protection Level"]] == "2.0"
    for name in ("Rotate Interval", "Rotate Name", "Asynchronous Correlation Values", "Processing Stage"):
        assert TAG_SINCE[TAGS[name]] == "2.1", name
    for name in ("Operation Policy Name", "Template-Attribute", "Template", "Attribute Index",
                 "Custom Attribute", "Certificate Identifier"):
        assert TAG_UNTIL[TAGS[name]] == "1.4", name
    assert TAGS["Attribute Name"] not in TAG_UNTIL  # still used by 2.x structures
    assert TAGS["Attribute Value"] not in TAG_UNTIL


def test_item_types() -> None:
    assert set(TAG_TYPES.values()) <= set(ITEM_TYPES.values())
    assert TAG_TYPES[TAGS["Activation Date"]] == ITEM_TYPES["Date-Time"]
    assert TAG_TYPES[TAGS["Unique Identifier"]] == ITEM_TYPES["Text String"]
    assert TAG_TYPES[TAGS["Name"]] == ITEM_TYPES["Structure"]
    assert TAG_TYPES[TAGS["Object Type"]] == ITEM_TYPES["Enumeration"]
    assert TAG_TYPES[TAGS["Cryptographic Usage Mask"]] == ITEM_TYPES["Integer"]
    assert TAG_TYPES[TAGS["Lease Time"]] == ITEM_TYPES["Interval"]
    # Some enumeration tags have alternative encodings (Unique Identifier: Text String,
    # Attribute Reference: Structure, Data: Byte String); all have one.
    assert set(TAG_ENUMERATION) <= set(TAG_TYPES)


def test_enumeration_values() -> None:
    assert ENUMERATIONS["Result Reason"]["Item Not Found"] == 0x01
    assert ENUMERATIONS["Result Reason"]["Attestation Required"] == 0x14
    assert ENUMERATIONS["Result Reason"]["Attestation Failed"] == 0x15
    assert ENUMERATIONS["Object Type"]["Symmetric Key"] == 2
    assert ENUMERATIONS["Object Type"]["Template"] == 6  # 1.x only
    assert ENUMERATIONS["Operation"]["Locate"] == 8
    assert ENUMERATIONS["Operation"]["Discover Versions"] == 0x1E
    assert ENUMERATIONS["Cryptographic Algorithm"]["3DES"] == 2
    assert ENUMERATIONS["Key Format Type"]["Transparent Symmetric Key"] == 7
    assert ENUMERATIONS["State"]["Pre-Active"] == 1
    assert ENUMERATIONS["Credential Type"]["Username and Password"] == 1
    assert ENUMERATIONS["Mask Generator"]["MGF1"] == ENUMERATIONS["Mask Generator"]["MFG1"] == 1
    assert ENUMERATION_VALUE_NAMES["Mask Generator"][1] == "MGF1"
    assert ENUMERATIONS["Tag"] is TAGS
    for name, values in ENUMERATION_VALUE_NAMES.items():
        assert set(values) == set(ENUMERATIONS[name].values()), name


def test_masks() -> None:
    assert MASKS["Cryptographic Usage Mask"]["Encrypt"] == 0x04
    assert MASKS["Cryptographic Usage Mask"]["Decrypt"] == 0x08
    assert MASKS["Storage Status Mask"]["Destroyed storage"] == 0x04
    assert MASKS["Protection Storage Mask"]["Same Jurisdiction"] == 0x2000
    for flags in MASKS.values():
        assert all(v and v & (v - 1) == 0 for v in flags.values())
    assert TAG_MASK[TAGS["Cryptographic Usage Mask"]] == "Cryptographic Usage Mask"
    assert set(TAG_MASK.values()) <= set(MASKS)


def test_tag_enumeration_targets() -> None:
    assert set(TAG_ENUMERATION.values()) <= set(ENUMERATIONS)
    assert TAG_ENUMERATION[TAGS["Mask Generator Hashing Algorithm"]] == "Hashing Algorithm"
    assert TAG_ENUMERATION[TAGS["Attribute Reference"]] == "Tag"
    assert TAG_ENUMERATION[TAGS["Operation"]] == "Operation"
    assert TAG_ENUMERATION[TAGS["Result Reason"]] == "Result Reason"


# --- Attributes -----------------------------------------------------------------------------


def test_attribute_rules() -> None:
    uid = ATTRIBUTES["Unique Identifier"]
    assert uid.tag == 0x420094
    assert not uid.modifiable_by_client and not uid.deletable_by_client and not uid.multi_instance
    assert uid.initially_set_by_server_only and uid.always_has_value
    assert uid.applies_to == ("All Objects",)
    assert ATTRIBUTES["Name"].multi_instance and ATTRIBUTES["Name"].modifiable_by_client
    assert ATTRIBUTES["Object Group"].multi_instance
    assert ATTRIBUTES["Activation Date"].item_type == ITEM_TYPES["Date-Time"]
    assert not ATTRIBUTES["Activation Date"].initially_set_by_server_only
    assert ATTRIBUTES["Cryptographic Usage Mask"].item_type == ITEM_TYPES["Integer"]
    assert ATTRIBUTES["Certificate Type"].applies_to == ("Certificate",)
    policy = ATTRIBUTES["Operation Policy Name"]
    assert (policy.since, policy.until) == ("1.0", "1.4")
    assert (ATTRIBUTES["Fresh"].since, ATTRIBUTES["Fresh"].until) == ("1.1", None)
    assert ATTRIBUTES["Sensitive"].since == "1.4"
    assert ATTRIBUTES["Short Unique Identifier"].since == "2.0"
    assert ATTRIBUTES["Rotate Interval"].since == "2.1"
    assert ATTRIBUTES["Certificate Subject CN"].since == "2.0"
    assert "Custom Attribute" not in ATTRIBUTES and "Vendor Attribute" not in ATTRIBUTES


def test_attribute_table_consistency() -> None:
    for name, rule in ATTRIBUTES.items():
        assert rule.name == name
        assert TAGS[name] == rule.tag
        assert rule.item_type in ITEM_TYPES.values(), name
        assert rule.since in VERSIONS and rule.until in (None, "1.4"), name
        assert rule.applies_to, name


@pytest.mark.parametrize(
    "name",
    ["Unique Identifier", "Name", "Object Type", "Cryptographic Algorithm", "Cryptographic Length",
     "Cryptographic Usage Mask", "State", "Initial Date", "Activation Date", "Deactivation Date",
     "Destroy Date", "Compromise Date", "Compromise Occurrence Date", "Last Change Date",
     "Original Creation Date", "Object Group", "Application Specific Information", "Contact Information",
     "Link", "Revocation Reason", "Operation Policy Name", "Fresh", "Key Value Present", "Sensitive",
     "Always Sensitive", "Extractable", "Never Extractable", "Description", "Comment", "Alternative Name",
     "Random Number Generator", "PKCS#12 Friendly Name", "Key Format Type", "Short Unique Identifier"],
)
def test_expected_attributes_present(name: str) -> None:
    rule = attribute_rule(name)
    assert rule is not None and rule.name == name
    assert attribute_rule(text_name(name)) is rule
    assert attribute_rule_by_tag(rule.tag) is rule


def test_helpers() -> None:
    assert tag_display_name(0x420001) == "Activation Date"
    assert tag_display_name(0x54FFFF) is None
    assert attribute_rule("x-custom") is None
    assert attribute_rule_by_tag(TAGS["Request Message"]) is None


# --- Python enums ---------------------------------------------------------------------------


def test_python_enums() -> None:
    assert Tag.ACTIVATION_DATE == 0x420001
    assert Tag.PKCS_12_FRIENDLY_NAME == 0x4200FB
    assert Tag.X_509_CERTIFICATE_IDENTIFIER == 0x4200B5
    assert ResultReason.ITEM_NOT_FOUND == 1
    assert ResultReason.ATTESTATION_REQUIRED == 0x14
    assert ResultReason.ATTESTATION_FAILED == 0x15
    assert Operation.DISCOVER_VERSIONS == 0x1E
    assert ObjectType.SYMMETRIC_KEY == 2
    assert CryptographicAlgorithm.TRIPLE_DES == 2
    assert KeyFormatType.TRANSPARENT_SYMMETRIC_KEY == 7
    assert enums.MaskGenerator(1).name == "MGF1"
    flags = CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT
    assert int(flags) == 0x0C


def test_enum_classes_match_tables() -> None:
    assert set(ENUM_CLASS_BY_NAME) == set(ENUMERATIONS)
    assert set(MASK_CLASS_BY_NAME) == set(MASKS)
    for name, cls in ENUM_CLASS_BY_NAME.items():
        assert {m.value for m in cls} == set(ENUMERATIONS[name].values()), name
        for value in ENUMERATIONS[name].values():
            assert cls(value) == value
        assert cls.__doc__ and "section" in cls.__doc__, name
    for name, flag_cls in MASK_CLASS_BY_NAME.items():
        assert {m.value for m in flag_cls} == set(MASKS[name].values()), name


# --- Text names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "text"),
    [
        ("Activation Date", "ActivationDate"),
        ("Unique Identifier", "UniqueIdentifier"),
        ("PKCS#12 Friendly Name", "PKCS_12FriendlyName"),
        ("PKCS#1", "PKCS_1"),
        ("X.509", "X_509"),
        ("3DES", "DES3"),
        ("SHA-256", "SHA_256"),
        ("HMAC-SHA256", "HMAC_SHA256"),
        ("Re-key Key Pair", "ReKeyKeyPair"),
        ("Pre-Active", "PreActive"),
        ("IV/Counter/Nonce", "IVCounterNonce"),
        ("ANSI X9.31", "ANSIX9_31"),
        ("Content Commitment (Non Repudiation)", "ContentCommitmentNonRepudiation"),
        ("Username and Password", "UsernameAndPassword"),
        ("On-line storage", "OnLineStorage"),
    ],
)
def test_text_name(display: str, text: str) -> None:
    assert text_name(display) == text


def _assert_unique(names: dict[str, int], what: str) -> None:
    by_text: dict[str, set[int]] = defaultdict(set)
    for name, value in names.items():
        by_text[text_name(name)].add(value)
    clashes = {t: sorted(v) for t, v in by_text.items() if len(v) > 1}
    assert not clashes, f"{what}: text names shared by different values: {clashes}"


def test_text_names_unambiguous() -> None:
    _assert_unique(TAGS, "tags")
    for name, values in itertools.chain(ENUMERATIONS.items(), MASKS.items()):
        _assert_unique(values, name)


def test_spec_names_is_tag_names() -> None:
    names: TagNames = spec_names()
    assert isinstance(names, SpecNames)
    assert spec_names() is names


def test_every_tag_round_trips() -> None:
    names = spec_names()
    for tag, display in TAG_NAMES.items():
        text = names.tag_name(tag)
        assert text == text_name(display)
        assert names.tag_value(text) == tag
    for display, tag in TAGS.items():
        assert names.tag_value(text_name(display)) == tag
    assert names.tag_name(0x540001) is None
    assert names.tag_value("NoSuchTag") is None


def test_every_enumeration_value_round_trips() -> None:
    names = spec_names()
    for tag, enum_name in TAG_ENUMERATION.items():
        for display, value in ENUMERATIONS[enum_name].items():
            text = names.enum_name(tag, value)
            assert text is not None, (TAG_NAMES[tag], value)
            assert names.enum_value(tag, text) == value
            assert names.enum_value(tag, text_name(display)) == value, (TAG_NAMES[tag], display)
    tag = TAGS["Object Type"]
    assert names.enum_name(tag, 2) == "SymmetricKey"
    assert names.enum_value(tag, "SymmetricKey") == 2
    assert names.enum_name(tag, 0x7FFF) is None
    assert names.enum_value(TAGS["Activation Date"], "SymmetricKey") is None
    assert names.enum_name(TAGS["Cryptographic Algorithm"], 2) == "DES3"
    assert names.enum_name(TAGS["Attribute Reference"], 0x420001) == "ActivationDate"


def test_masks_round_trip() -> None:
    names = spec_names()
    for tag, mask_name in TAG_MASK.items():
        flags = MASKS[mask_name]
        for value in flags.values():
            listed = names.mask_names(tag, value)
            assert listed is not None and len(listed) == 1
            assert names.mask_value(tag, listed) == value
        every = 0
        for value in flags.values():
            every |= value
        assert names.mask_value(tag, names.mask_names(tag, every) or []) == every
    tag = TAGS["Cryptographic Usage Mask"]
    assert names.mask_names(tag, 0x0C) == ["Encrypt", "Decrypt"]
    assert names.mask_value(tag, ["Decrypt", "Encrypt"]) == 0x0C
    assert names.mask_names(tag, 0) == []
    assert names.mask_names(tag, 0x80000004) == ["Encrypt", "0x80000000"]
    assert names.mask_value(tag, ["Encrypt", "0x80000000"]) == 0x80000004
    assert names.mask_value(tag, ["Encrypt", "Bogus"]) is None
    assert names.mask_names(TAGS["Activation Date"], 1) is None
    assert names.mask_value(TAGS["Activation Date"], ["Encrypt"]) is None


# --- OASIS test vectors ---------------------------------------------------------------------


def _vector_root() -> Path:
    env = os.environ.get("KMIPD_KMIP_VECTORS")
    return Path(env) if env else DEFAULT_VECTORS


def _vector_files() -> list[Path]:
    root = _vector_root()
    if not root.is_dir():
        pytest.skip(f"KMIP test vectors not found at {root} (set KMIPD_KMIP_VECTORS to their directory)")
    files = sorted(root.rglob("*.xml"))
    if not files:
        pytest.skip(f"no *.xml KMIP test vectors under {root}")
    return files


def _unresolved_in(path: Path, names: SpecNames) -> set[str]:
    missing: set[str] = set()

    def walk(element: ET.Element, parent: ET.Element | None) -> None:
        if element.tag != "KMIP":
            tag = names.tag_value(element.tag)
            if tag is None:
                if not element.tag.startswith("0x"):  # vendor extensions written as hex
                    missing.add(f"tag {element.tag}")
            else:
                kind, value = element.get("type"), element.get("value")
                if kind == "Enumeration" and value and not value.startswith("0x"):
                    owner: int | None = tag
                    label = element.tag
                    if element.tag == "AttributeValue" and parent is not None:
                        attr = parent.find("AttributeName")
                        label = attr.get("value", "") if attr is not None else ""
                        owner = names.tag_value(text_name(label))
                    if owner is None or names.enum_value(owner, value) is None:
                        missing.add(f"enumeration {label}={value}")
                elif (kind == "Integer" and value and names.is_mask(tag)
                      and names.mask_value(tag, value.split()) is None):
                    missing.add(f"mask {element.tag}={value}")
        for child in element:
            walk(child, element)

    walk(ET.parse(path).getroot(), None)
    return missing


def test_vectors_resolve() -> None:
    files = _vector_files()
    names = spec_names()
    unresolved: dict[str, set[str]] = defaultdict(set)
    for path in files:
        for item in _unresolved_in(path, names):
            unresolved[item].add(path.name)
    report = "\n".join(f"{item} (e.g. {sorted(where)[0]})" for item, where in sorted(unresolved.items()))
    assert not unresolved, f"names in the KMIP test vectors not resolvable by SpecNames:\n{report}"


def test_vector_enumeration_names_are_canonical() -> None:
    """Encoding produces the names the vectors use (not just accepts them)."""
    names = spec_names()
    differing: set[str] = set()
    for path in _vector_files():
        for element in ET.parse(path).iter():
            tag = names.tag_value(element.tag)
            if tag is None:
                continue
            if names.tag_name(tag) != element.tag:
                differing.add(f"tag {element.tag} -> {names.tag_name(tag)}")
            value = element.get("value")
            if element.get("type") == "Enumeration" and value and names.is_enumeration(tag):
                number = names.enum_value(tag, value)
                if number is not None and names.enum_name(tag, number) != value:
                    differing.add(f"{element.tag}={value} -> {names.enum_name(tag, number)}")
    assert not differing, sorted(differing)


# --- Generated files ------------------------------------------------------------------------


def test_generated_files_are_self_contained() -> None:
    for module in (spec_tables, enums):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "import kmip" not in source and "from kmip" not in source
        assert "site-packages" not in source and not re.search(r"[\"'](/[a-z]+){2,}/kmip", source)
        assert "DO NOT EDIT" in source


def test_generated_files_up_to_date() -> None:
    if not (SPEC_DIR / "kmip-spec-v1.4-os.txt").is_file():
        pytest.skip(f"KMIP specification text not found at {SPEC_DIR}")
    pytest.importorskip("kmip.core.enums")
    spec = importlib.util.spec_from_file_location("gen_spec_tables", REPO / "tools" / "gen_spec_tables.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(gen)
    finally:
        del sys.modules[spec.name]
    v14 = gen.parse_spec("1.4", SPEC_DIR / gen.SPEC_FILES["1.4"])
    v21 = gen.parse_spec("2.1", SPEC_DIR / gen.SPEC_FILES["2.1"])
    tables = gen.merge(v14, v21, gen.load_pykmip())
    assert gen.emit_spec_tables(tables) == Path(spec_tables.__file__ or "").read_text(encoding="utf-8")
    assert gen.emit_enums(tables) == Path(enums.__file__ or "").read_text(encoding="utf-8")
