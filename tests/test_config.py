"""Settings from TOML: a valid file, and one clear ConfigError naming the key for each kind of mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kmipd.config import ConfigError, Settings, load_settings, parse_settings


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    for name in ("server.pem", "server.key", "ca.pem"):
        (tmp_path / name).write_text("-----BEGIN PLACEHOLDER-----\n")
    return tmp_path


TLS = textwrap.dedent("""\
    [tls]
    certificate = "server.pem"
    private_key = "server.key"
    ca = "ca.pem"
""")


def _write(directory: Path, body: str, name: str = "kmipd.toml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_valid_file(pki):
    path = _write(pki, """\
        [server]
        host = "0.0.0.0"
        port = 15696
        threads = 4
        max_message_size = 65536
        max_depth = 16
        max_items = 1000
        max_pending = 8
        shutdown_timeout = 2.5

        [tls]
        certificate = "server.pem"
        private_key = "server.key"
        ca = "ca.pem"
        identity = "san-dns"

        [store]
        url = "sqlite:///data/kmipd.db"

        [access]
        admins = ["root"]
        [access.groups]
        team = ["alice", "carol"]

        [logging]
        level = "debug"
    """)
    settings = load_settings(path)
    assert isinstance(settings, Settings)
    assert (settings.host, settings.port, settings.threads) == ("0.0.0.0", 15696, 4)
    assert (settings.max_message_size, settings.max_depth, settings.max_items, settings.max_pending) == (
        65536, 16, 1000, 8)
    assert settings.shutdown_timeout == 2.5
    assert settings.certificate == pki.resolve() / "server.pem"
    assert settings.private_key == pki.resolve() / "server.key"
    assert settings.ca == pki.resolve() / "ca.pem"
    assert settings.identity_source == "san-dns"
    assert settings.store_url == f"sqlite:///{pki.resolve() / 'data/kmipd.db'}", "relative to the file's directory"
    assert settings.admins == frozenset({"root"})
    assert settings.groups == {"team": frozenset({"alice", "carol"})}
    assert settings.log_level == "DEBUG"


def test_minimal_file_gets_defaults(pki):
    settings = load_settings(_write(pki, TLS))
    assert (settings.host, settings.port, settings.threads, settings.log_level) == ("127.0.0.1", 5696, 2, "INFO")
    assert settings.identity_source == "cn"
    assert settings.admins == frozenset() and settings.groups == {}
    assert settings.store_url == f"sqlite:///{pki.resolve() / 'kmipd.db'}"


def test_absolute_sqlite_url_and_other_databases_kept(pki):
    absolute = load_settings(_write(pki, TLS + '[store]\nurl = "sqlite:////var/lib/kmipd/k.db"\n'))
    assert absolute.store_url == "sqlite:////var/lib/kmipd/k.db"
    memory = load_settings(_write(pki, TLS + '[store]\nurl = "sqlite:///:memory:"\n'))
    assert memory.store_url == "sqlite:///:memory:"
    pg = load_settings(_write(pki, TLS + '[store]\nurl = "postgresql://u@db/kmipd"\n'))
    assert pg.store_url == "postgresql://u@db/kmipd"


def test_absolute_certificate_paths(pki, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("conf")
    body = TLS.replace('"server.pem"', f'"{pki / "server.pem"}"').replace(
        '"server.key"', f'"{pki / "server.key"}"').replace('"ca.pem"', f'"{pki / "ca.pem"}"')
    settings = load_settings(_write(elsewhere, body))
    assert settings.certificate == pki / "server.pem"


def test_shipped_sample_config_parses_when_certificates_exist(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "config" / "kmipd.toml"
    text = sample.read_text()
    conf = tmp_path / "config"
    conf.mkdir()
    dev = tmp_path / "kmipd-dev"
    dev.mkdir()
    for name in ("server.pem", "server.key", "ca.pem"):
        (dev / name).write_text("x")
    settings = load_settings(_write(conf, text))
    assert settings.port == 5696
    assert settings.ca.resolve() == (dev / "ca.pem").resolve()


@pytest.mark.parametrize(
    ("body", "key", "fragment"),
    [
        ("[srever]\nport = 1\n", "srever", "unknown section"),
        ("[server]\nprot = 1\n", "server.prot", "unknown setting"),
        ("[tls]\ncertfile = 'x'\n", "tls.certfile", "unknown setting"),
        ("[server]\nport = 70000\n", "server.port", "integer"),
        ("[server]\nport = -1\n", "server.port", "integer"),
        ("[server]\nport = '5696'\n", "server.port", "integer"),
        ("[server]\nport = true\n", "server.port", "integer"),
        ("[server]\nport = 5696.0\n", "server.port", "integer"),
        ("[server]\nthreads = 0\n", "server.threads", "integer"),
        ("[server]\nhost = ''\n", "server.host", "non-empty"),
        ("[server]\nshutdown_timeout = -1\n", "server.shutdown_timeout", "non-negative"),
        ("[tls]\nidentity = 'ou'\n", "tls.identity", "cn"),
        ("[logging]\nlevel = 'LOUD'\n", "logging.level", "DEBUG"),
        ("[access]\nadmins = 'root'\n", "access.admins", "list"),
        ("[access]\nadmins = ['']\n", "access.admins", "list"),
        ("[access.groups]\nteam = 'alice'\n", "access.groups.team", "list"),
        ("[access]\ngroups = 3\n", "access.groups", "table"),
        ("server = 3\n", "server", "table"),
    ],
)
def test_invalid_settings_name_the_key(pki, body, key, fragment):
    # The TLS section is valid unless the case is about it, so the only error is the one under test.
    full = body if body.startswith("[tls]") else body + "\n" + TLS
    with pytest.raises(ConfigError) as info:
        load_settings(_write(pki, full))
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert fragment in str(info.value)


@pytest.mark.parametrize("missing", ["certificate", "private_key", "ca"])
def test_missing_tls_file(pki, missing):
    filename = {"certificate": "server.pem", "private_key": "server.key", "ca": "ca.pem"}[missing]
    (pki / filename).unlink()
    with pytest.raises(ConfigError) as info:
        load_settings(_write(pki, TLS))
    assert info.value.key == f"tls.{missing}"
    assert "file not found" in str(info.value)
    assert filename in str(info.value)


@pytest.mark.parametrize("missing", ["certificate", "private_key", "ca"])
def test_tls_setting_required(pki, missing):
    body = "\n".join(line for line in TLS.splitlines() if not line.startswith(missing + " "))
    with pytest.raises(ConfigError) as info:
        load_settings(_write(pki, body))
    assert info.value.key == f"tls.{missing}"
    assert "required" in str(info.value)


def test_bad_toml_names_the_file(pki):
    path = _write(pki, "[server\nport = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == str(path)
    assert "not valid TOML" in str(info.value)
    assert "\n" not in str(info.value).strip()


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == str(path)
    assert "cannot read" in str(info.value)


def test_parse_settings_directly(pki):
    data = {"tls": {"certificate": "server.pem", "private_key": "server.key", "ca": "ca.pem"},
            "server": {"port": 0}}
    assert parse_settings(data, pki).port == 0
    with pytest.raises(ConfigError) as info:
        parse_settings({**data, "extra": {}}, pki)
    assert info.value.key == "extra"
