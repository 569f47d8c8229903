"""TLS for KMIP: TLS 1.2 (AEAD ECDHE suites) and 1.3 only, client certificate required.

The client's identity is read from its verified certificate (subject CN by
default). The chain must verify against the configured CA bundle, and against
a CRL when one is configured. A certificate must allow clientAuth in its
Extended Key Usage. Some appliances (VMware vCenter among them) issue client
certificates without any EKU extension; ``[tls] client_eku = "if-present"``
accepts those, while still refusing certificates whose EKU excludes clientAuth.
The certificate, key, CA bundle and CRL are re-read on ``reload()`` (SIGHUP),
so that they can be rotated without a restart; established connections keep
the context they started with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IOpenSSLContextFactory
from zope.interface import implementer

#: OpenSSL cipher string for TLS 1.2: forward secrecy and AEAD only (TLS 1.3 suites are all AEAD).
TLS12_CIPHERS = b"ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """Paths of the server's certificate chain, its key and the CA bundle that signs clients."""

    certificate: Path
    private_key: Path
    ca: Path
    crl: Path | None = None
    require_client_eku: bool = True


def _verifier(require_eku: bool) -> Callable[[SSL.Connection, crypto.X509, int, int, int], bool]:
    def verify(_conn: SSL.Connection, cert: crypto.X509, _errno: int, depth: int, ok: int) -> bool:
        if not ok:
            return False
        if depth == 0:
            try:
                eku = cert.to_cryptography().extensions.get_extension_for_class(x509.ExtendedKeyUsage)
            except x509.ExtensionNotFound:
                return not require_eku
            return ExtendedKeyUsageOID.CLIENT_AUTH in eku.value
        return True

    return verify


@implementer(IOpenSSLContextFactory)
class ServerContextFactory:
    """Builds the one OpenSSL context shared by every connection (Twisted calls ``getContext``)."""

    def __init__(self, files: TLSFiles) -> None:
        self.files = files
        self._context = self._load(files)

    @classmethod
    def _load(cls, files: TLSFiles) -> SSL.Context:
        try:
            return cls._build(files)
        except (SSL.Error, ValueError) as exc:
            raise OSError(f"TLS setup failed for {files.certificate}, {files.private_key}, {files.ca}: {exc}") from None

    def reload(self) -> None:
        """Re-read the certificate, key, CA bundle and CRL; new connections use them.

        Raises:
            OSError: the new files do not load; the previous context stays in use.
        """
        self._context = self._load(self.files)

    @staticmethod
    def _build(files: TLSFiles) -> SSL.Context:
        context = SSL.Context(SSL.TLS_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE | SSL.OP_NO_RENEGOTIATION)
        context.set_cipher_list(TLS12_CIPHERS)
        context.use_certificate_chain_file(str(files.certificate))
        context.use_privatekey_file(str(files.private_key))
        context.check_privatekey()
        context.load_verify_locations(str(files.ca))
        if files.crl is not None:
            store = context.get_cert_store()
            assert store is not None
            for crl in _load_crls(files.crl.read_bytes()):
                store.add_crl(crl)
            store.set_flags(crypto.X509StoreFlags.CRL_CHECK)
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _verifier(files.require_client_eku))
        # Session resumption: resumed sessions carry the verified peer certificate, so identity stays correct.
        context.set_session_id(b"kmipd")
        context.set_session_cache_mode(SSL.SESS_CACHE_SERVER)
        return context

    def getContext(self) -> SSL.Context:  # noqa: N802 - Twisted's interface name
        """The shared context."""
        return self._context


def _load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """Every CRL in a PEM bundle, or the one DER CRL."""
    if b"-----BEGIN X509 CRL-----" not in data:
        return [x509.load_der_x509_crl(data)]
    marker = b"-----END X509 CRL-----"
    return [x509.load_pem_x509_crl(block + marker) for block in data.split(marker) if b"-----BEGIN" in block]


def identity_from_certificate(cert: x509.Certificate, source: str = "cn") -> str | None:
    """The client identity a certificate names: its subject CN, or its first DNS/email SAN."""
    if source == "cn":
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    if source == "san-dns":
        values = san.get_values_for_type(x509.DNSName)
    elif source == "san-email":
        values = san.get_values_for_type(x509.RFC822Name)
    else:
        values = []
    return str(values[0]) if values else None
