"""The kmipd command: check-config and dev-certs, run in-process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kmipd.cli.main import main


def _cn(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _eku(cert: x509.Certificate) -> list:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_check_config_bad_file_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nport = 99999\n")
    assert main(["check-config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "server.port" in lines[0]
    assert lines[0].startswith("kmipd: configuration error:")
    assert "Traceback" not in err


def test_check_config_not_toml(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("this is = = not toml")
    assert main(["check-config", str(path)]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1
    assert str(path) in err and "Traceback" not in err


def test_check_config_missing_file(tmp_path, capsys):
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "absent.toml" in err


def test_check_config_good_file(tmp_path, capsys):
    for name in ("s.pem", "s.key", "ca.pem"):
        (tmp_path / name).write_text("x")
    path = tmp_path / "ok.toml"
    path.write_text('[tls]\ncertificate = "s.pem"\nprivate_key = "s.key"\nca = "ca.pem"\n')
    assert main(["check-config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{path}: ok"
    assert err == ""


def test_serve_bad_config_exits_2_without_starting(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[nope]\n")
    assert main(["serve", "--config", str(path)]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "nope" in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


@pytest.fixture
def dev_dir(tmp_path, capsys) -> Path:
    data = tmp_path / "dev"
    assert main(["dev-certs", "--data-dir", str(data), "--client", "bob"]) == 0
    out, _ = capsys.readouterr()
    assert "client 'bob'" in out
    return data


def test_dev_certs_creates_files(dev_dir):
    names = sorted(p.name for p in dev_dir.iterdir())
    assert names == sorted(["ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key",
                            "bob.pem", "bob.key"])


def test_dev_cert_keys_are_private(dev_dir):
    for key in dev_dir.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key.name
        loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)  # unencrypted PKCS#8 PEM
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)


def test_client_cert_is_for_client_auth(dev_dir):
    bob = _load(dev_dir / "bob.pem")
    assert _cn(bob) == "bob"
    assert _eku(bob) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not bob.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    default = _load(dev_dir / "client.pem")
    assert _eku(default) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_server_cert_is_for_server_auth_with_sans(dev_dir):
    server = _load(dev_dir / "server.pem")
    assert _eku(server) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)


def test_certs_chain_to_the_ca(dev_dir):
    ca = _load(dev_dir / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name in ("bob.pem", "client.pem", "server.pem"):
        cert = _load(dev_dir / name)
        assert cert.issuer == ca.subject
        cert.verify_directly_issued_by(ca)
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)


def test_dev_certs_is_idempotent_for_the_ca(dev_dir, capsys):
    before = (dev_dir / "ca.pem").read_bytes()
    assert main(["dev-certs", "--data-dir", str(dev_dir), "--client", "carol"]) == 0
    capsys.readouterr()
    assert (dev_dir / "ca.pem").read_bytes() == before
    _load(dev_dir / "carol.pem").verify_directly_issued_by(_load(dev_dir / "ca.pem"))
    assert stat.S_IMODE((dev_dir / "carol.key").stat().st_mode) == 0o600
