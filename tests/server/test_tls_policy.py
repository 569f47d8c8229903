"""TLS policy against a real server: CRL, clientAuth EKU, reload without restart, session resumption."""

from __future__ import annotations

import datetime as dt
import os
import signal
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kmipd.cli.devcerts import Issued, create_ca, issue
from kmipd.protocol.enums import ObjectType, Operation, ResultStatus, Tag
from kmipd.ttlv.item import enumeration, integer, structure, text
from tests.integration.conftest import (
    ServerHandle,
    batch_item,
    kmip_call,
    kmip_request,
    results,
    running_server,
    tls_connect,
    tls_context,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _refused(server: ServerHandle, cert: Issued) -> bool:
    try:
        with tls_connect(server, context=tls_context(server, cert=cert), timeout=5) as sock:
            sock.sendall(b"")
            kmip_call(sock, kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS)))
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def _crl(ca: Issued, revoked: list[x509.Certificate]) -> bytes:
    ca_cert = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key.read_bytes(), password=None)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + dt.timedelta(days=1))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return crl.public_bytes(serialization.Encoding.PEM)


def _no_eku_client(directory: Path) -> None:
    """A client certificate without any Extended Key Usage extension (as some appliances have)."""
    ca = Issued(directory / "ca.pem", directory / "ca.key")
    ca_cert = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appliance")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (directory / "appliance.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "appliance.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _works(server: ServerHandle) -> bool:
    with tls_connect(server, "alice") as sock:
        [answer] = results(kmip_call(sock, kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS))))
        return answer.status == ResultStatus.SUCCESS


def test_revoked_client_is_refused_and_others_are_not(tmp_path: Path) -> None:
    def revoke_mallory(directory: Path) -> None:
        ca = Issued(directory / "ca.pem", directory / "ca.key")
        mallory = issue(ca, directory, "mallory", server=False)
        revoked = x509.load_pem_x509_certificate(mallory.certificate.read_bytes())
        (directory / "crl.pem").write_bytes(_crl(ca, [revoked]))

    with running_server(
        tmp_path, server_extra="workers = 1", tls_extra='crl = "crl.pem"', prepare=revoke_mallory
    ) as server:
        assert _refused(server, Issued(tmp_path / "mallory.pem", tmp_path / "mallory.key"))
        assert _works(server), "a certificate the CRL does not list still works"


def test_client_eku_is_required_unless_relaxed(tmp_path: Path) -> None:
    strict, relaxed = tmp_path / "strict", tmp_path / "relaxed"
    strict.mkdir()
    relaxed.mkdir()
    with running_server(strict, server_extra="workers = 1", prepare=_no_eku_client) as server:
        assert _refused(server, Issued(strict / "appliance.pem", strict / "appliance.key")), (
            "by default a client certificate needs the clientAuth EKU"
        )
        assert _works(server)
    with running_server(
        relaxed, server_extra="workers = 1", tls_extra='client_eku = "if-present"', prepare=_no_eku_client
    ) as server:
        assert not _refused(server, Issued(relaxed / "appliance.pem", relaxed / "appliance.key")), (
            '"if-present" accepts a certificate without an EKU extension'
        )


def test_sighup_reloads_the_ca_bundle(tmp_path: Path) -> None:
    with running_server(tmp_path, server_extra="workers = 1") as server:
        other_ca = create_ca(tmp_path / "other")
        stranger = issue(other_ca, tmp_path / "other", "stranger", server=False)
        assert _refused(server, stranger), "a client of an unknown CA is refused"
        # Trust the second CA as well, then SIGHUP.
        bundle = server.ca.read_bytes() + other_ca.certificate.read_bytes()
        server.ca.write_bytes(bundle)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _refused(server, stranger):
            time.sleep(0.2)
        assert not _refused(server, stranger), "after SIGHUP the new CA is trusted"
        assert server.process.poll() is None, "the server kept running"


def test_resumed_session_keeps_the_client_identity(tmp_path: Path) -> None:
    with running_server(tmp_path, server_extra="workers = 1") as server:
        context = tls_context(server, "alice")
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # session ids: resumption within one process
        register = batch_item(
            Operation.CREATE,
            enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
            structure(
                Tag.ATTRIBUTES,
                enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, 3),
                integer(Tag.CRYPTOGRAPHIC_LENGTH, 128),
            ),
        )
        with tls_connect(server, context=context) as first:
            [created] = results(kmip_call(first, kmip_request((2, 1), register)))
            uid = str(created.payload.find(Tag.UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
            session = first.session
        raw = __import__("socket").create_connection((server.host, server.port))
        with context.wrap_socket(raw, server_hostname="localhost", session=session) as resumed:
            assert resumed.session_reused, "the server resumed the TLS session"
            get = batch_item(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, uid))
            [answer] = results(kmip_call(resumed, kmip_request((2, 1), get)))
            assert answer.status == ResultStatus.SUCCESS, "the resumed session is still alice"
        with tls_connect(server, "bob") as other:
            [hidden] = results(kmip_call(other, kmip_request((2, 1), batch_item(
                Operation.GET, text(Tag.UNIQUE_IDENTIFIER, uid)))))
            assert hidden.status == ResultStatus.OPERATION_FAILED
