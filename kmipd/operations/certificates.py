"""Attributes derived from a registered X.509 certificate (KMIP 1.4 section 3.6ff, 2.1 section 4.9ff).

The certificate is parsed with ``cryptography``; one that does not parse is
refused at Register rather than stored as an opaque blob under a misleading
Object Type. Each attribute is recorded in every form a KMIP version defines;
responses then carry only the forms the client's version knows.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from kmipd.errors import InvalidField
from kmipd.protocol.attributes import Attribute
from kmipd.protocol.enums import Tag
from kmipd.ttlv.item import Item, ItemType, byte_string, integer, structure, text

_FIELDS = (
    (NameOID.COMMON_NAME, "CN"),
    (NameOID.ORGANIZATION_NAME, "O"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "OU"),
    (NameOID.EMAIL_ADDRESS, "Email"),
    (NameOID.COUNTRY_NAME, "C"),
    (NameOID.STATE_OR_PROVINCE_NAME, "ST"),
    (NameOID.LOCALITY_NAME, "L"),
    (NameOID.USER_ID, "UID"),
    (NameOID.SERIAL_NUMBER, "Serial Number"),
    (NameOID.TITLE, "Title"),
    (NameOID.DOMAIN_COMPONENT, "DC"),
    (NameOID.DN_QUALIFIER, "DN Qualifier"),
)


def _name_attributes(prefix: str, name: x509.Name) -> list[Attribute]:
    attributes = []
    for oid, suffix in _FIELDS:
        tag = getattr(Tag, f"CERTIFICATE_{prefix.upper()}_{suffix.upper().replace(' ', '_')}")
        for value in name.get_attributes_for_oid(oid):
            attributes.append(Attribute(f"Certificate {prefix} {suffix}", text(tag, str(value.value))))
    return attributes


def certificate_attributes(body: Item) -> list[Attribute]:
    """The attributes a server derives from the certificate in ``body``.

    Raises:
        InvalidField: the Certificate Value is not a DER X.509 certificate.
    """
    value = body.find(Tag.CERTIFICATE_VALUE)
    if value is None or value.type is not ItemType.BYTE_STRING:
        raise InvalidField("a Certificate needs a Certificate Value")
    der = bytes(value.value)  # type: ignore[arg-type]
    try:
        cert = x509.load_der_x509_certificate(der)
        subject, issuer, serial = cert.subject, cert.issuer, cert.serial_number
    except ValueError:
        raise InvalidField("the Certificate Value is not a DER-encoded X.509 certificate") from None
    serial_bytes = serial.to_bytes(max(1, (serial.bit_length() + 8) // 8), "big", signed=True)
    return [
        Attribute("Certificate Length", integer(Tag.CERTIFICATE_LENGTH, len(der))),
        Attribute(
            "X.509 Certificate Identifier",
            structure(
                Tag.X_509_CERTIFICATE_IDENTIFIER,
                byte_string(Tag.ISSUER_DISTINGUISHED_NAME, issuer.public_bytes()),
                byte_string(Tag.CERTIFICATE_SERIAL_NUMBER, serial_bytes),
            ),
        ),
        Attribute(
            "X.509 Certificate Subject",
            structure(
                Tag.X_509_CERTIFICATE_SUBJECT, byte_string(Tag.SUBJECT_DISTINGUISHED_NAME, subject.public_bytes())
            ),
        ),
        Attribute(
            "X.509 Certificate Issuer",
            structure(Tag.X_509_CERTIFICATE_ISSUER, byte_string(Tag.ISSUER_DISTINGUISHED_NAME, issuer.public_bytes())),
        ),
        *_name_attributes("Subject", subject),
        *_name_attributes("Issuer", issuer),
    ]
