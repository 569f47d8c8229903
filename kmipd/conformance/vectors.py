"""Finding and reading OASIS test-case files: one file is a sequence of request/response pairs."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming a directory of test cases (``v1.4/``, ``v2.1/`` ...).
ENV_VAR = "KMIPD_KMIP_VECTORS"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the response the test case expects."""

    request: ET.Element
    response: ET.Element


@dataclass(frozen=True, slots=True)
class TestCase:
    """A test-case file."""

    name: str
    path: Path
    profile: str
    mandatory: bool
    version: str
    exchanges: tuple[Exchange, ...]


def default_root() -> Path | None:
    """Where the vectors are: the environment variable, else ``../shared/kmip-test-vectors`` of a checkout."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured)
        return path if path.is_dir() else None
    checkout = Path(__file__).resolve().parents[2]
    candidate = checkout.parent / "shared" / "kmip-test-vectors"
    return candidate if candidate.is_dir() else None


def classify(stem: str) -> tuple[str, bool, str]:
    """(profile, mandatory, version) from a file name such as ``CS-BC-M-GCM-1-14``."""
    parts = stem.split("-")
    version = parts[-1]
    version_text = f"{version[0]}.{version[1:]}" if version.isdigit() and len(version) == 2 else version
    kind_index = next((i for i, p in enumerate(parts) if p in ("M", "O")), len(parts) - 2)
    profile = "-".join(parts[:kind_index])
    variant = parts[kind_index + 1 : -2]
    if variant:
        profile = f"{profile}-{'-'.join(variant)}"
    mandatory = kind_index < len(parts) and parts[kind_index] == "M"
    return profile, mandatory, version_text


def load_case(path: Path) -> TestCase:
    """Parse a test-case file (its ``<KMIP>`` root holds alternating request and response messages).

    Raises:
        ValueError: the file does not pair every request with a response.
    """
    root = ET.parse(path).getroot()
    messages = [child for child in root if child.tag in ("RequestMessage", "ResponseMessage")]
    exchanges: list[Exchange] = []
    for index in range(0, len(messages), 2):
        pair = messages[index : index + 2]
        if len(pair) != 2 or pair[0].tag != "RequestMessage" or pair[1].tag != "ResponseMessage":
            raise ValueError(f"{path.name}: message {index + 1} is not a request followed by its response")
        exchanges.append(Exchange(pair[0], pair[1]))
    if not exchanges:
        raise ValueError(f"{path.name}: no request/response messages (not a KMIP test case)")
    profile, mandatory, version = classify(path.stem)
    return TestCase(path.stem, path, profile, mandatory, version, tuple(exchanges))


def find_cases(paths: list[Path]) -> list[Path]:
    """Every ``*.xml`` test case under ``paths`` (files or directories), sorted naturally."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in path.rglob("*.xml") if p.is_file())
        elif path.suffix == ".xml":
            found.append(path)
    return sorted(set(found), key=_natural_key)


def _natural_key(path: Path) -> tuple[object, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path)))
