"""Settings loaded from TOML, validated into frozen dataclasses.

Every problem is reported as one :class:`ConfigError` naming the key and what
is wrong with it, so that the CLI can print a single line instead of a traceback.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_IDENTITY_SOURCES = ("cn", "san-dns", "san-email")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """An invalid setting: ``key`` is its dotted name."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server needs to start."""

    host: str = "127.0.0.1"
    port: int = 5696
    https_port: int | None = None
    threads: int = 2
    workers: int = 0
    max_message_size: int = 1 << 20
    max_depth: int = 32
    max_items: int = 100_000
    max_pending: int = 64
    max_batch_items: int = 1000
    handshake_timeout: float = 10.0
    idle_timeout: float = 3600.0
    max_connections: int = 10_000
    max_connections_per_identity: int = 1_000
    shutdown_timeout: float = 30.0
    certificate: Path = Path("server.pem")
    private_key: Path = Path("server.key")
    ca: Path = Path("ca.pem")
    identity_source: str = "cn"
    crl: Path | None = None
    require_client_eku: bool = True
    store_url: str = "sqlite:///kmipd.db"
    admins: frozenset[str] = frozenset()
    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    log_level: str = "INFO"


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a table")
    return value


def _int(table: dict[str, Any], section: str, key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{section}.{key}", f"must be an integer from {low} to {high}, got {value!r}")
    return value


def _seconds(table: dict[str, Any], section: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{section}.{key}", f"must be a non-negative number of seconds, got {value!r}")
    return float(value)


def _str(table: dict[str, Any], section: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{section}.{key}", f"must be a non-empty string, got {value!r}")
    return value


def _names(value: Any, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(key, "must be a list of identity names")
    return frozenset(value)


def _path(table: dict[str, Any], section: str, key: str, base: Path, *, must_exist: bool) -> Path:
    if key not in table:
        raise ConfigError(f"{section}.{key}", "is required")
    raw = _str(table, section, key, "")
    path = Path(raw) if Path(raw).is_absolute() else base / raw
    if must_exist and not path.is_file():
        raise ConfigError(f"{section}.{key}", f"file not found: {path}")
    return path


_KNOWN = {
    "server": {
        "workers",
        "host",
        "port",
        "threads",
        "max_message_size",
        "max_depth",
        "max_items",
        "max_pending",
        "max_batch_items",
        "handshake_timeout",
        "idle_timeout",
        "max_connections",
        "max_connections_per_identity",
        "shutdown_timeout",
    },
    "tls": {"certificate", "private_key", "ca", "identity", "crl", "client_eku"},
    "store": {"url"},
    "access": {"admins", "groups"},
    "logging": {"level"},
    "https": {"port"},
}


def parse_settings(data: dict[str, Any], base: Path) -> Settings:
    """Validate a parsed TOML document; relative paths are taken from ``base``.

    Raises:
        ConfigError: the first invalid or unknown key.
    """
    for key in data:
        if key not in _KNOWN:
            raise ConfigError(key, "unknown section")
    for section, keys in _KNOWN.items():
        for key in _section(data, section):
            if key not in keys:
                raise ConfigError(f"{section}.{key}", "unknown setting")
    server = _section(data, "server")
    tls = _section(data, "tls")
    store = _section(data, "store")
    access = _section(data, "access")
    logging_ = _section(data, "logging")
    https = _section(data, "https")
    identity = _str(tls, "tls", "identity", "cn")
    if identity not in _IDENTITY_SOURCES:
        raise ConfigError("tls.identity", f"must be one of {', '.join(_IDENTITY_SOURCES)}")
    client_eku = _str(tls, "tls", "client_eku", "required")
    if client_eku not in ("if-present", "required"):
        raise ConfigError("tls.client_eku", 'must be "if-present" or "required"')
    level = _str(logging_, "logging", "level", "INFO").upper()
    if level not in _LOG_LEVELS:
        raise ConfigError("logging.level", f"must be one of {', '.join(_LOG_LEVELS)}")
    groups_raw = access.get("groups", {})
    if not isinstance(groups_raw, dict):
        raise ConfigError("access.groups", "must be a table of group = [identities]")
    url = _str(store, "store", "url", "sqlite:///kmipd.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = f"sqlite:///{base / url[len('sqlite:///') :]}"
    shutdown = server.get("shutdown_timeout", 30.0)
    if not isinstance(shutdown, int | float) or isinstance(shutdown, bool) or shutdown < 0:
        raise ConfigError("server.shutdown_timeout", "must be a non-negative number of seconds")
    return Settings(
        host=_str(server, "server", "host", "127.0.0.1"),
        port=_int(server, "server", "port", 5696, 0, 65535),
        https_port=_int(https, "https", "port", 0, 0, 65535) if "port" in https else None,
        threads=_int(server, "server", "threads", 2, 1, 256),
        workers=_int(server, "server", "workers", 0, 0, 64),
        max_message_size=_int(server, "server", "max_message_size", 1 << 20, 64, 64 << 20),
        max_depth=_int(server, "server", "max_depth", 32, 4, 256),
        max_items=_int(server, "server", "max_items", 100_000, 16, 10_000_000),
        max_pending=_int(server, "server", "max_pending", 64, 1, 4096),
        max_batch_items=_int(server, "server", "max_batch_items", 1000, 1, 100_000),
        handshake_timeout=_seconds(server, "server", "handshake_timeout", 10.0),
        idle_timeout=_seconds(server, "server", "idle_timeout", 3600.0),
        max_connections=_int(server, "server", "max_connections", 10_000, 1, 1_000_000),
        max_connections_per_identity=_int(server, "server", "max_connections_per_identity", 1_000, 1, 1_000_000),
        shutdown_timeout=float(shutdown),
        certificate=_path(tls, "tls", "certificate", base, must_exist=True),
        private_key=_path(tls, "tls", "private_key", base, must_exist=True),
        ca=_path(tls, "tls", "ca", base, must_exist=True),
        identity_source=identity,
        crl=_path(tls, "tls", "crl", base, must_exist=True) if "crl" in tls else None,
        require_client_eku=client_eku == "required",
        store_url=url,
        admins=_names(access.get("admins", []), "access.admins"),
        groups={str(k): _names(v, f"access.groups.{k}") for k, v in groups_raw.items()},
        log_level=level,
    )


def load_settings(path: Path) -> Settings:
    """Read and validate a TOML config file.

    Raises:
        ConfigError: the file is missing, is not TOML, or has an invalid setting.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    return parse_settings(data, path.parent.resolve())
