"""The PKCS#11 operation (KMIP 2.1 section 6.1.37)."""
