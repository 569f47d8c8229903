"""CreateKeyPair, ReKeyKeyPair, Sign, SignatureVerify (KMIP 1.4 sections 4.2, 4.5, 4.31, 4.32)."""
