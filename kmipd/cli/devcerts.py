"""A development certificate authority: a CA, a server certificate and client certificates.

For trying kmipd and for tests only. Keys are generated on the machine that
uses them (EC P-256) and written with mode 0600; nothing here is meant for
production, where certificates come from the organisation's own CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True, slots=True)
class Issued:
    """Paths of an issued certificate and its key."""

    certificate: Path
    private_key: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kmipd development"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def create_ca(directory: Path, cn: str = "kmipd development CA") -> Issued:
    """Make a self-signed CA in ``directory`` (ca.pem, ca.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    issued = Issued(directory / "ca.pem", directory / "ca.key")
    issued.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(issued.private_key, key)
    return issued


def issue(ca: Issued, directory: Path, cn: str, *, server: bool, stem: str | None = None) -> Issued:
    """Issue a server (serverAuth, SAN localhost/127.0.0.1/::1) or client (clientAuth) certificate."""
    ca_cert = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the development CA key must be an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(cn),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    stem = stem or cn
    issued = Issued(directory / f"{stem}.pem", directory / f"{stem}.key")
    issued.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(issued.private_key, key)
    return issued


def ensure_dev_pki(directory: Path) -> tuple[Issued, Issued, Issued]:
    """The dev CA, server and client certificates in ``directory``, created on first use."""
    ca = Issued(directory / "ca.pem", directory / "ca.key")
    if not (ca.certificate.exists() and ca.private_key.exists()):
        ca = create_ca(directory)
    server = Issued(directory / "server.pem", directory / "server.key")
    if not (server.certificate.exists() and server.private_key.exists()):
        server = issue(ca, directory, "localhost", server=True, stem="server")
    client = Issued(directory / "client.pem", directory / "client.key")
    if not (client.certificate.exists() and client.private_key.exists()):
        client = issue(ca, directory, "client", server=False, stem="client")
    return ca, server, client
