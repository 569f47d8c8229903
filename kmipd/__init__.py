"""kmipd: a KMIP key server over mutually-authenticated TLS, with attested key release."""

__version__ = "0.1.0"
